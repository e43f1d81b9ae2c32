"""OpenVINO on the CPU plugin (fp32, latency hint), from the same ONNX export; one compiled model per shape."""

from __future__ import annotations

import torch
from torch import nn

from suite.timing.runtimes import Conversion, Runtime
from suite.timing.runtimes.onnx_export import EXPORTER, export_onnx

HINT, PRECISION = "LATENCY", "f32"


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


def prepare(model: nn.Module, example, threads: int, device: str) -> Conversion:
    import openvino as ov  # a dependency, imported only when this runtime is asked for

    core = ov.Core()
    ov_model = core.read_model(export_onnx(model, example), b"")
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": HINT, "INFERENCE_PRECISION_HINT": PRECISION}
    return Conversion(CompiledModule(core, ov_model, config), {
        "threads": threads, "device": "CPU", "performance_hint": HINT, "precision": PRECISION,
        "static_shapes": True})


def _version() -> str:
    import openvino as ov

    return ov.__version__


RUNTIME = Runtime("openvino", "OpenVINO", EXPORTER, ("cpu",), prepare, _version,
                  packages=("onnx", "openvino"), install="pip install onnx openvino")
