"""What the training engine needs around a run: precision, determinism, seeding, optimizer, dropout, bars."""

from __future__ import annotations

import hashlib
import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from suite.core.errors import SuiteError
from suite.core.precision import PRECISIONS
from suite.train.recipes import Recipe

# --- setup helpers ------------------------------------------------------------------------------------------

def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise SuiteError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise SuiteError(f"precision fp16 needs a CUDA device (AMP with GradScaler), not {device}; "
                         "use bf16 or fp32 on the CPU")


def autocast(precision: str, device: torch.device):
    if precision == "fp32":
        return nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


@contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic kernels where torch has them (warn elsewhere), restoring the global flags afterwards."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # required by deterministic cuBLAS
    saved = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.benchmark,
             torch.backends.cudnn.deterministic)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved[2], saved[3]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def apply_dropout(model: nn.Module, p: float | None) -> int:
    """Set ``p`` on every nn.Dropout* layer the model has (none are added); returns how many were set."""
    if p is None:
        return 0
    layers = [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    for m in layers:
        m.p = float(p)
    return len(layers)


def make_optimizer(recipe: Recipe, params) -> torch.optim.Optimizer:
    if recipe.optimizer == "adam":
        beta1, beta2 = recipe.betas
        return torch.optim.Adam(params, lr=recipe.lr, betas=(beta1, beta2),
                                weight_decay=recipe.weight_decay)
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov,
                               weight_decay=recipe.weight_decay)
    raise SuiteError(f"unknown optimizer {recipe.optimizer!r} in recipe {recipe.name!r}; valid: adam, sgd")


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 images once, before training (only when a recipe asks for a non-native size)."""
    out = [F.interpolate(c.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
           .round_().clamp_(0, 255).to(torch.uint8) for c in x.split(1024)]
    return torch.cat(out)


def weights_sha256(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- progress -----------------------------------------------------------------------------------------------

class Bars:
    """Epoch and batch bars on a rich Progress (given, or own one on a TTY; silent otherwise)."""

    def __init__(self, progress, label: str, epochs: int, done: int, batches: int):
        self.own = None
        if progress is None and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            progress = self.own = Progress(TextColumn("{task.description}"), BarColumn(),
                                           MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
            progress.start()
        self.progress, self.label = progress, label
        if progress is not None:
            self.epoch_task = progress.add_task(f"{label} epochs", total=epochs, completed=done)
            self.batch_task = progress.add_task(f"{label} batches", total=batches)

    @property
    def active(self) -> bool:
        return self.progress is not None

    def batch(self, done: int, ips: float | None) -> None:
        # No loss here: reading it would synchronise the host with the device inside a timed step.
        if self.progress is not None:
            text = f"{self.label} {ips:,.0f} img/s"
            self.progress.update(self.batch_task, completed=done, description=text)

    def epoch(self, done: int, test_error: float) -> None:
        if self.progress is not None:
            self.progress.update(self.epoch_task, completed=done,
                                 description=f"{self.label} epochs (test error {test_error:.2f} %)")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.remove_task(self.epoch_task)
            self.progress.remove_task(self.batch_task)
        if self.own is not None:
            self.own.stop()
