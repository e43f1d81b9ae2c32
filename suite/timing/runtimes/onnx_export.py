"""The one ONNX export every ONNX-based runtime reads: TorchScript exporter, fixed opset, dynamic batch."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from suite.timing.runtimes import OPSET

if TYPE_CHECKING:
    import torch
    from torch import nn

EXPORTER = f"torch.onnx.export (TorchScript exporter, dynamo=False), opset {OPSET}"
INPUT, OUTPUT = "input", "logits"


def export_onnx(model: nn.Module, example: torch.Tensor) -> bytes:
    """The model as ONNX bytes (CPU copy of the example; the batch axis left dynamic)."""
    import torch

    with tempfile.TemporaryDirectory(prefix="suite-onnx-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice (it exports every zoo model)
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(model, (example.cpu(),), str(path), dynamo=False, opset_version=OPSET,
                          input_names=[INPUT], output_names=[OUTPUT],
                          dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})
        return path.read_bytes()
