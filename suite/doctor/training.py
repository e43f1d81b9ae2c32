"""A few training steps on synthetic data, in each mode a run may use, against the authors' style of loop.

The suite's loop is the mode probe's step timer (``suite.train.modes.time_steps``, the one `suite run --mode
auto` chooses with): the batch on the device (moved once), the engine's own pieces (autocast, the deterministic
or --fast kernel flags, torch.compile with its eager fallback, channels-last). The authors' loop (ThreshNet's
main.py) draws each batch through torchvision's per-image PIL pipeline (RandomHorizontalFlip + ToTensor) in a
DataLoader and copies it to the device every step; both clocks are read after the device finished
(``torch.cuda.synchronize``), never on a queued launch. Timed steps stop after ``max_s`` seconds (at least one is
timed), so a slow or loaded machine bounds each check; torch.compile runs in a child process
(``compiled_steps``) that is stopped when it runs past its limit.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

import zoo
from suite.core.modes import MARGIN, ProbeSpec, choose
from suite.train.modes import Throughput, time_steps, time_steps_in_child
from suite.train.support import sync

__all__ = ["CHECKS", "MODES", "Throughput", "authors_steps", "auto_choice", "compiled_steps", "mode_unavailable",
           "suite_steps"]

# The doctor's checks: each an exact mode (suite.core.modes) at a precision, with or without --fast kernels.
CHECKS: dict[str, tuple[str, str, bool]] = {
    "fp32": ("eager", "fp32", False), "bf16": ("eager", "bf16", False), "fp16": ("eager", "fp16", False),
    "fast": ("eager", "fp32", True), "channels_last": ("channels_last", "fp32", False),
    "compile": ("compile", "fp32", False),
}
MODES = tuple(CHECKS)


def mode_unavailable(mode: str, device: torch.device, *, quick: bool) -> str | None:
    """Why ``mode`` is not tried on ``device`` (None: it is)."""
    if mode == "fp16" and device.type != "cuda":
        return "fp16 (AMP with GradScaler) needs CUDA; the suite refuses it on the CPU"
    if mode == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return f"{torch.cuda.get_device_name(device)} has no bf16 support"
    if mode == "compile" and device.type == "cpu" and quick:
        return "--quick: torch.compile on the CPU takes minutes on a small machine; run without --quick to check it"
    return None


def _spec(model_name: str, device: torch.device, check: str, batch: int) -> tuple[ProbeSpec, str]:
    exact, precision, fast = CHECKS[check]
    return ProbeSpec(model_name, 10, (3, 32, 32), batch, str(device), precision, fast), exact


def suite_steps(model_name: str, device: torch.device, mode: str, *, batch: int, steps: int,
                max_s: float = math.inf) -> Throughput:
    """Images/s of the doctor's check ``mode``, timed by the mode probe's step timer (suite.train.modes)."""
    spec, exact = _spec(model_name, device, mode, batch)
    return time_steps(spec, exact, steps=steps, max_s=max_s)


def compiled_steps(model_name: str, device: torch.device, *, batch: int, steps: int, max_s: float,
                   limit_s: float) -> Throughput | None:
    """``suite_steps`` in mode compile, in a child process stopped after ``limit_s`` (None: it was stopped)."""
    spec, exact = _spec(model_name, device, "compile", batch)
    return time_steps_in_child(spec, exact, steps=steps, max_s=max_s, limit_s=limit_s)


def auto_choice(rates: dict[str, float | None]) -> tuple[str, str]:
    """What `suite run --mode auto` would pick from the doctor's fp32, channels_last and compile rates."""
    exact = {CHECKS[check][0]: rate for check, rate in rates.items()
             if check in CHECKS and CHECKS[check][1:] == ("fp32", False)}
    chosen = choose(exact)
    base, rate = exact.get("eager"), exact.get(chosen)
    gain = f" (x{rate / base:.2f} eager)" if base and rate and chosen != "eager" else ""
    timed = ", ".join(m for m, r in exact.items() if r)
    return chosen, f"--mode auto would train it in {chosen}{gain} (the fastest of {timed}; eager unless " \
                   f"{MARGIN:.0%} faster)"


class _PilImages(torch.utils.data.Dataset):
    """uint8 HWC images through torchvision's per-image PIL transforms, as torchvision's CIFAR10 does."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        import torchvision.transforms as T

        self.images, self.labels = images, labels
        self.transform = T.Compose([T.RandomHorizontalFlip(), T.ToTensor()])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def authors_steps(model_name: str, device: torch.device, *, batch: int, steps: int,
                  max_s: float = math.inf) -> Throughput:
    """Images/s of the authors' loop (a DataLoader of PIL-transformed images, each batch copied to the device)."""
    rng = np.random.default_rng(0)
    count = batch * (steps + 2)
    data = _PilImages(rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, count))
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=0)
    torch.manual_seed(0)
    net = zoo.create_model(model_name, num_classes=10).to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    last = torch.full((), math.nan)
    timed = 0
    for i, (xb, yb) in enumerate(loader):
        if i == 2:
            sync(device)  # the untimed warm-up steps are done before the clock starts
            start = time.perf_counter()
        elif i > 2 and time.perf_counter() - start > max_s:
            break
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        last = loss_fn(net(xb), yb)
        last.backward()
        opt.step()
        timed += i >= 2
    sync(device)
    seconds = time.perf_counter() - start
    return Throughput(timed * batch / seconds, float(last.detach()), steps=timed)
