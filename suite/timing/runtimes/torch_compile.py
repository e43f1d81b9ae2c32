"""torch.compile (inductor, default mode, static shapes): the model compiled once per input shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.timing.runtimes import Conversion, Runtime

if TYPE_CHECKING:
    from torch import nn

MODE = "default"


def prepare(model: nn.Module, example, threads: int, device: str) -> Conversion:
    import torch
    from torch import nn

    compiled = torch.compile(model, mode=MODE, dynamic=False)
    assert isinstance(compiled, nn.Module)  # compiling a module gives an OptimizedModule
    return Conversion(compiled, {"threads": threads, "device": device, "backend": "inductor", "mode": MODE,
                                 "dynamic": False})


def _version() -> str:
    import torch

    return torch.__version__


RUNTIME = Runtime("compile", "torch.compile", "torch.compile (inductor)", ("cpu", "cuda"), prepare, _version)
