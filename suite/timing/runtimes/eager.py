"""PyTorch eager: the papers' protocol, the default, the only runtime that decides a verdict."""

from __future__ import annotations

import torch
from torch import nn

from suite.timing.runtimes import Conversion, Runtime


def prepare(model: nn.Module, example, threads: int, device: str) -> Conversion:
    return Conversion(model, {"threads": threads, "device": device})


RUNTIME = Runtime("eager", "PyTorch eager", "none", ("cpu", "cuda"), prepare, lambda: torch.__version__,
                  decides=True)
