"""torch.compile (inductor, default mode, static shapes): the model compiled once per input shape."""

from __future__ import annotations

import torch
from torch import nn

from suite.timing.runtimes import Conversion, Runtime

MODE = "default"


def prepare(model: nn.Module, example, threads: int, device: str) -> Conversion:
    compiled = torch.compile(model, mode=MODE, dynamic=False)
    assert isinstance(compiled, nn.Module)  # compiling a module gives an OptimizedModule
    return Conversion(compiled, {"threads": threads, "device": device, "backend": "inductor", "mode": MODE,
                                 "dynamic": False})


RUNTIME = Runtime("compile", "torch.compile", "torch.compile (inductor)", ("cpu", "cuda"), prepare,
                  lambda: torch.__version__)
