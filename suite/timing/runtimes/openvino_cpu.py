"""OpenVINO on the CPU plugin (fp32, latency hint), from the same ONNX export; one compiled model per shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.timing.runtimes import Conversion, Runtime
from suite.timing.runtimes.onnx_export import EXPORTER, export_onnx

if TYPE_CHECKING:
    from torch import nn

HINT, PRECISION = "LATENCY", "f32"



def prepare(model: nn.Module, example, threads: int, device: str) -> Conversion:
    import openvino as ov  # a dependency, imported only when this runtime is asked for

    from suite.timing.runtimes.modules import CompiledModule

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
