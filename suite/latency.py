"""Inference time: the suite's timing protocol (the papers published no timing code, so it is defined here).

Two measurements per model, both in eval mode under ``torch.inference_mode()``, fixed and stated thread count:

1. **latency** at ``batch`` (default 1): ``warmup`` untimed calls, one timed pilot call that sizes the run
   count to about ``target_s`` seconds (clamped to ``[min_runs, max_runs]``), then that many timed calls.
   Reported: median, p90 and inter-quartile range of the per-call times, and the run count.
2. **per-image time** at ``per_image_batch`` (default 100): the same loop on a batch of 100 images; the median
   batch time / 100. This is the papers' likely method ("inference time per image" from a batched test loop).

Every clock read is preceded by a device synchronisation (``torch.cuda.synchronize`` on CUDA, a no-op on
CPU), so asynchronous kernels fall inside the interval they belong to; on CUDA the warm-up also lets
``cudnn.benchmark`` autotune before anything is timed. The input is created once and moved to the device once.
Clock and synchroniser are arguments so tests can run the protocol against fakes.

On ``rpi4`` off a Raspberry Pi the latency is predicted by ``suite.rpi4`` instead; the result then says
``predicted: true`` with its expected error, and never carries a measured spread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from suite.hardware import HardwareProfile, get_profile

Clock = Callable[[], float]
Sync = Callable[[], None]


@dataclass(frozen=True)
class Protocol:
    """How many calls are made; the defaults give about 1 s of batch-1 and 3 s of batch-100 timing."""

    warmup: int = 10  # untimed calls: allocator, oneDNN primitive cache, cudnn autotuning
    min_runs: int = 30
    max_runs: int = 2000
    target_s: float = 1.0
    batch_warmup: int = 2
    batch_min_runs: int = 5
    batch_max_runs: int = 50
    batch_target_s: float = 3.0


@dataclass(frozen=True)
class Timing:
    """Per-call times of one timed loop, in seconds."""

    times_s: tuple[float, ...]
    warmup: int

    @property
    def runs(self) -> int:
        return len(self.times_s)

    def quantile(self, q: float) -> float:
        return quantile(self.times_s, q)


@dataclass
class LatencyResult:
    model: str | None
    hardware: str
    device: str
    input_size: tuple[int, int, int]
    batch: int
    threads: int
    median_ms: float | None
    p90_ms: float | None
    iqr_ms: float | None
    runs: int  # timed calls behind median/p90/IQR (0 for a prediction)
    per_image_ms: float | None
    per_image_batch: int | None
    per_image_runs: int
    per_image_iqr_ms: float | None  # IQR of batch time / batch
    min_ms: float | None = None
    max_ms: float | None = None
    warmup: int = 0
    predicted: bool = False
    expected_error_pct: float | None = None  # predictions only: leave-one-model-out error of the calibration
    calibration: dict | None = None  # predictions only: points, fit, coefficients, LOO errors
    features: dict | None = None  # predictions only: the model features the prediction used
    held_out: bool = False  # predictions only: a calibration model, predicted without its own published times
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        return d


def quantile(values, q: float) -> float:
    """Linear-interpolation quantile (numpy's default method) of a non-empty sequence."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def time_calls(fn: Callable[[], object], *, warmup: int, min_runs: int, max_runs: int, target_s: float,
               clock: Clock = time.perf_counter, sync: Sync | None = None) -> Timing:
    """Warm up, size the run count with one pilot call, then time each call between two synchronised reads."""
    sync = sync or (lambda: None)

    def timed() -> float:
        sync()  # drain queued work so the interval starts when the call does
        t0 = clock()
        fn()
        sync()
        return clock() - t0

    for _ in range(warmup):
        fn()
    sync()
    pilot = timed()
    runs = min(max_runs, max(min_runs, math.ceil(target_s / max(pilot, 1e-9))))
    return Timing(tuple(timed() for _ in range(runs)), warmup)


@contextmanager
def measuring_state(model: nn.Module, threads: int, device: torch.device) -> Iterator[nn.Module]:
    """Eval mode, ``threads`` intra-op threads, model on ``device``, cudnn autotuning; restored on exit."""
    training = {m: m.training for m in model.modules()}  # per module: a model may mix states
    old_threads = torch.get_num_threads()
    old_benchmark = torch.backends.cudnn.benchmark
    first = next(model.parameters(), None)
    old_device = first.device if first is not None else torch.device("cpu")
    try:
        torch.set_num_threads(threads)
        torch.backends.cudnn.benchmark = device.type == "cuda"
        if old_device != device:
            model.to(device)
        model.eval()
        yield model
    finally:
        if old_device != device:
            model.to(old_device)
        for m, mode in training.items():
            m.training = mode
        torch.backends.cudnn.benchmark = old_benchmark
        torch.set_num_threads(old_threads)


def _sync_for(device: torch.device) -> Sync | None:
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return None


def measure_latency(model: nn.Module, profile: HardwareProfile | str, *, input_size=(3, 32, 32),
                    batch: int = 1, threads: int | None = None, per_image_batch: int | None = 100,
                    model_name: str | None = None, protocol: Protocol | None = None,
                    clock: Clock = time.perf_counter, sync: Sync | None = None) -> LatencyResult:
    """Time ``model`` on ``profile`` (or predict it: rpi4 off a Pi); the protocol is the module docstring's.

    ``sync`` defaults to ``torch.cuda.synchronize`` on CUDA; tests pass fakes for ``clock`` and ``sync``.
    The model's train/eval flags, device and the process's thread count are left as they were.
    """
    if isinstance(profile, str):
        profile = get_profile(profile, threads=threads)
    input_size = tuple(int(s) for s in input_size)
    name = model_name or getattr(model, "zoo_name", None) or type(model).__name__
    if not profile.native:
        return _predicted(model, profile, input_size, batch, name)
    protocol = protocol or Protocol()
    n_threads = threads or profile.threads
    device = torch.device(profile.device)
    sync = sync or _sync_for(device)
    gen = torch.Generator().manual_seed(0)
    with measuring_state(model, n_threads, device), torch.inference_mode():
        x = torch.randn(batch, *input_size, generator=gen).to(device)  # moved once, reused by every call
        lat = time_calls(lambda: model(x), warmup=protocol.warmup, min_runs=protocol.min_runs,
                         max_runs=protocol.max_runs, target_s=protocol.target_s, clock=clock, sync=sync)
        per = None
        if per_image_batch:
            xb = torch.randn(per_image_batch, *input_size, generator=gen).to(device)
            per = time_calls(lambda: model(xb), warmup=protocol.batch_warmup,
                             min_runs=protocol.batch_min_runs, max_runs=protocol.batch_max_runs,
                             target_s=protocol.batch_target_s, clock=clock, sync=sync)
            del xb
        prov = profile.provenance(threads=torch.get_num_threads(), protocol=asdict(protocol),
                                  clock=getattr(clock, "__qualname__", repr(clock)))
    ms = 1000.0
    return LatencyResult(
        model=name, hardware=profile.name, device=str(device), input_size=input_size, batch=batch,
        threads=n_threads, median_ms=lat.quantile(0.5) * ms, p90_ms=lat.quantile(0.9) * ms,
        iqr_ms=(lat.quantile(0.75) - lat.quantile(0.25)) * ms, runs=lat.runs,
        per_image_ms=per.quantile(0.5) * ms / per_image_batch if per else None,
        per_image_batch=per_image_batch or None, per_image_runs=per.runs if per else 0,
        per_image_iqr_ms=(per.quantile(0.75) - per.quantile(0.25)) * ms / per_image_batch if per else None,
        min_ms=min(lat.times_s) * ms, max_ms=max(lat.times_s) * ms, warmup=lat.warmup, provenance=prov)


def _predicted(model: nn.Module, profile: HardwareProfile, input_size, batch: int,
               name: str) -> LatencyResult:
    from suite import rpi4  # imported lazily: only predictions need the calibration

    pred = rpi4.predict(model, input_size, model_name=name)
    prov = profile.provenance(prediction=pred.method, calibration_source=pred.calibration["source"])
    if batch != 1:
        prov["notes"] = [*prov.get("notes", []), f"batch={batch} ignored: the prediction is a per-image time"]
    return LatencyResult(
        model=name, hardware=profile.name, device="rpi4 (predicted)", input_size=input_size, batch=batch,
        threads=profile.threads, median_ms=pred.ms, p90_ms=None, iqr_ms=None, runs=0, per_image_ms=pred.ms,
        per_image_batch=None, per_image_runs=0, per_image_iqr_ms=None, predicted=True,
        expected_error_pct=pred.expected_error_pct, calibration=pred.calibration, features=pred.features,
        held_out=pred.held_out, provenance=prov)
