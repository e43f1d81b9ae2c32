"""ONNX Runtime, CPU execution provider (CUDA's where the CUDA build is installed), spinning threads off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.timing.runtimes import Conversion, Runtime
from suite.timing.runtimes.onnx_export import EXPORTER, export_onnx

if TYPE_CHECKING:
    from torch import nn

OPT_LEVEL = "ORT_ENABLE_ALL"



def prepare(model: nn.Module, example, threads: int, device: str) -> Conversion:
    import onnxruntime as ort  # a dependency, imported only when this runtime is asked for

    from suite.timing.runtimes.modules import SessionModule

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, OPT_LEVEL)
    # Spinning pool threads would keep the cores busy after a call and slow the next model of a round.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    provider = "CUDAExecutionProvider" if device.startswith("cuda") else "CPUExecutionProvider"
    if provider not in ort.get_available_providers():
        raise RuntimeError(f"{provider} is not in this onnxruntime build ({', '.join(ort.get_available_providers())})")
    session = ort.InferenceSession(export_onnx(model, example), opts, providers=[provider])
    return Conversion(SessionModule(session), {
        "threads": threads, "inter_op_threads": 1, "provider": provider, "optimisation": OPT_LEVEL,
        "allow_spinning": 0, "execution_mode": "sequential"})


def _version() -> str:
    import onnxruntime as ort

    return ort.__version__


RUNTIME = Runtime("onnxruntime", "ONNX Runtime", EXPORTER, ("cpu", "cuda"), prepare, _version,
                  packages=("onnx", "onnxruntime"), install="pip install onnx onnxruntime")
