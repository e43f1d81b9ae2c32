"""A few training steps on synthetic data, in each mode a run may use, against the authors' style of loop.

The suite's loop keeps the batch on the device (moved once) and steps the model with the engine's own pieces
(autocast, the deterministic or --fast kernel flags, torch.compile with its eager fallback, channels-last). The
authors' loop (ThreshNet's main.py) draws each batch through torchvision's per-image PIL pipeline
(RandomHorizontalFlip + ToTensor) in a DataLoader and copies it to the device every step; both clocks are read
after the device finished (``torch.cuda.synchronize``), never on a queued launch. Timed steps stop after
``max_s`` seconds (at least one is timed), so a slow or loaded machine bounds each check; torch.compile runs in
a child process (``compiled_steps``) that is stopped when it runs past its limit.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

import zoo
from suite.train.engine import compile_or_eager, fast_kernels
from suite.train.support import autocast, deterministic, sync

MODES = ("fp32", "bf16", "fp16", "fast", "channels_last", "compile")


@dataclass(frozen=True)
class _Synthetic:
    """What compile_or_eager reads of a data set: the image shape."""

    image_shape: tuple[int, int, int] = (3, 32, 32)


@dataclass
class Throughput:
    images_per_s: float
    loss: float
    compiled: bool | None = None  # --compile: False when it fell back to eager
    steps: int = 0  # timed steps (fewer than asked when the time limit came first)


def mode_unavailable(mode: str, device: torch.device, *, quick: bool) -> str | None:
    """Why ``mode`` is not tried on ``device`` (None: it is)."""
    if mode == "fp16" and device.type != "cuda":
        return "fp16 (AMP with GradScaler) needs CUDA; the suite refuses it on the CPU"
    if mode == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return f"{torch.cuda.get_device_name(device)} has no bf16 support"
    if mode == "compile" and device.type == "cpu" and quick:
        return "--quick: torch.compile on the CPU takes minutes on a small machine; run without --quick to check it"
    return None


def suite_steps(model_name: str, device: torch.device, mode: str, *, batch: int, steps: int,
                max_s: float = math.inf) -> Throughput:
    """Images/s of up to ``steps`` timed training steps (after two untimed ones) in ``mode``, within ``max_s``."""
    torch.manual_seed(0)
    net = zoo.create_model(model_name, num_classes=10).to(device).train()
    channels_last = mode == "channels_last"
    if channels_last:
        net.to(memory_format=torch.channels_last)
    compiled = compile_or_eager(net, model_name, _Synthetic(), device, False) if mode == "compile" else None
    precision = mode if mode in ("bf16", "fp16") else "fp32"
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    x = torch.rand(batch * 4, 3, 32, 32, device=device)  # moved once: batches are drawn on the device
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch * 4,), device=device)
    loss_sum = torch.zeros((), device=device)
    kernels = fast_kernels() if mode == "fast" else deterministic(device)
    timed = 0
    with kernels:
        for i in range(steps + 2):
            if i == 2:
                sync(device)  # the untimed warm-up steps are done before the clock starts
                loss_sum.zero_()
                start = time.perf_counter()
            elif i > 2 and time.perf_counter() - start > max_s:
                break  # queued launches are drained below, before the clock is read
            j = (i % 4) * batch
            with autocast(precision, device):
                loss = F.cross_entropy(net(x[j:j + batch]), y[j:j + batch])
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            loss_sum += loss.detach().float()
            timed += i >= 2
        sync(device)  # every queued step has run before the clock is read
        seconds = time.perf_counter() - start
    return Throughput(timed * batch / seconds, float(loss_sum.item()) / timed, compiled, timed)


def _compiled_child(conn, model_name: str, device: str, batch: int, steps: int, max_s: float) -> None:
    try:
        conn.send(asdict(suite_steps(model_name, torch.device(device), "compile", batch=batch, steps=steps,
                                     max_s=max_s)))
    except Exception as exc:  # noqa: BLE001 - the parent turns it into this check's failure
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def compiled_steps(model_name: str, device: torch.device, *, batch: int, steps: int, max_s: float,
                   limit_s: float) -> Throughput | None:
    """``suite_steps`` in mode compile, in a child process stopped after ``limit_s`` (None: it was stopped).

    torch.compile cannot be interrupted inside a process; a child can be, so a compiler that takes minutes
    costs the doctor ``limit_s`` at most.
    """
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch threads or CUDA state
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_compiled_child, args=(send, model_name, str(device), batch, steps, max_s),
                        daemon=True)
    child.start()
    send.close()
    try:
        answer = receive.recv() if receive.poll(limit_s) else None
    except EOFError:
        answer = {"error": f"the compiling process ended without an answer (exit {child.exitcode})"}
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if answer is None:
        return None
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return Throughput(**answer)


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
