"""PyTorch eager: the papers' protocol, the default, the only runtime that decides a verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from suite.timing.runtimes import Conversion, Runtime

if TYPE_CHECKING:
    from torch import nn


def prepare(model: nn.Module, example, threads: int, device: str) -> Conversion:
    return Conversion(model, {"threads": threads, "device": device})


def _version() -> str:
    import torch

    return torch.__version__


RUNTIME = Runtime("eager", "PyTorch eager", "none", ("cpu", "cuda"), prepare, _version, decides=True)
