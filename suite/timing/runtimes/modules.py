"""The nn.Module faces of converted models, so the timing protocol's eval and thread handling apply unchanged.
Imported when a runtime prepares a model: the declarations stay importable without torch."""

from __future__ import annotations

import torch
from torch import nn

from suite.timing.runtimes.onnx_export import INPUT


class SessionModule(nn.Module):
    """An ONNX Runtime session behind an nn.Module face (numpy in, numpy out: no copy on CPU)."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    def forward(self, x: torch.Tensor):
        return self.session.run(None, {INPUT: x.numpy()})[0]


class CompiledModule(nn.Module):
    """OpenVINO compiled models, one per input shape (compiled on first use: in the protocol's warm-up)."""

    def __init__(self, core, ov_model, config: dict):
        super().__init__()
        self.core, self.ov_model, self.config = core, ov_model, config
        self.compiled: dict[tuple[int, ...], object] = {}

    def forward(self, x: torch.Tensor):
        shape = tuple(x.shape)
        request = self.compiled.get(shape)
        if request is None:
            model = self.ov_model.clone()
            model.reshape(list(shape))
            request = self.compiled[shape] = self.core.compile_model(model, "CPU", self.config).create_infer_request()
        return request.infer([x.numpy()])[0]  # type: ignore[attr-defined]
