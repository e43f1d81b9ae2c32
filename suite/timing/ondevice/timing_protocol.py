"""The suite's timing protocol (the papers published no timing code, so it is defined here).

This file imports nothing but the standard library and torch, and runs on Python >= 3.9 with torch >= 1.11:
``suite bundle`` ships it verbatim (the very same bytes, a test checks it) so that a Raspberry Pi times the
models with the code a native run uses (``suite.timing.latency``), not with a second copy that could drift.

Two measurements per model, both in eval mode under ``torch.inference_mode()``, fixed and stated thread count:

1. **latency** at ``batch`` (default 1): ``warmup`` untimed calls, one timed pilot call that sizes the run
   count to about ``target_s`` seconds (clamped to ``[min_runs, max_runs]``), then that many timed calls.
2. **per-image time** at ``per_image_batch`` (default 100, the authors' test loop): the same loop with the
   ``batch_*`` limits on a batch of 100 images; the median batch time / 100.

Stability rule (both loops): after the sized run count, timing goes on in chunks of ``stable_window`` (or
``batch_stable_window``) calls until the median of all timed calls moved by less than ``stable_tol``
(relative) over the last chunk, at most up to ``max_runs`` calls and for at most ``stable_extra`` x
``target_s`` more seconds of timed calls (so a noisy device cannot keep it going for ever; ``target_s = 0``
means exactly the sized count). Whether the median settled is reported (``stable``).

Reported: median, p90 and inter-quartile range of the per-call times, the run counts and the warm-up.
Every clock read is preceded by a device synchronisation (``torch.cuda.synchronize`` on CUDA, a no-op on
CPU), so asynchronous kernels fall inside the interval they belong to; on CUDA the warm-up also lets
``cudnn.benchmark`` autotune before anything is timed. Inputs are created once and moved to the device once.
Clock and synchroniser are arguments so tests can run the protocol against fakes.

**Busy machine.** The spread above is measured within one model's loops, so load that changes between models
is invisible in it. Each measurement therefore also records what else used the CPU over its window
(``LoadWindow``): other processes' CPU time (all CPU time in ``/proc/stat`` minus this process's own, as a
fraction of the cores available), the 1-minute load average against the cores before and after, and the CPU
frequency where readable. The rule (``BUSY_OTHER_CPU``, ``BUSY_LOAD_PER_CORE``): a measurement is ``busy`` when
other processes used more than a quarter of the available cores over its window, or when the load average
left for others (load minus the one runnable thread of ours) exceeded the cores before or after it. Where
``/proc`` cannot be read (not Linux) ``busy`` is ``None``: unknown, never guessed. A busy value is reported
with its numbers and never decides a claim. ``sample_load`` is the one place that reads the machine, so tests
monkeypatch it to inject readings.

**Interleaving.** Models that are compared are measured interleaved (``time_models``): the protocol's calls are
split into ``rounds`` rounds and each round times every model in turn (A, B, A, B, ... in one process), so a
load change during the measurement hits every model instead of the one being timed at that moment. One
process rather than alternating processes: the models share the allocator and thread pool as they would in
one test loop, and the cost of starting a process is not paid per round.

Measurement rounds for speed claims: one round is one complete run of this protocol in its own process (a
``suite run`` job times its model once per seed, each job with its own warm-up), and a round's figure is its
median (per-image or batch-1, as the table states). A claim "A is P % faster than B" is judged on the ratio
time(B) / time(A) with the 95 % interval of Welch's t on the log round figures (a ratio of geometric means), so at
least two rounds per model are needed; a model whose IQR / median exceeds 10 % in any round, a prediction, or a
round flagged ``busy`` (the machine was loaded) decides nothing (``suite.claims.rule``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields

import torch
from torch import nn

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
    stable_tol: float | None = 0.02  # relative move of the median that counts as settled; None: no rule
    stable_window: int = 10  # calls per stability chunk at batch 1
    batch_stable_window: int = 2  # calls per stability chunk at the per-image batch
    stable_extra: float = 2.0  # the rule may add at most this many target_s of timed calls

    @classmethod
    def from_dict(cls, d: dict | None) -> Protocol:
        """A Protocol from a dict (a manifest, a preset); keys this version does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (d or {}).items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Timing:
    """Per-call times of one timed loop, in seconds."""

    times_s: tuple[float, ...]
    warmup: int
    pilot_s: float | None = None
    stable: bool | None = None  # None: the stability rule was off

    @property
    def runs(self) -> int:
        return len(self.times_s)

    def quantile(self, q: float) -> float:
        return quantile(self.times_s, q)


@dataclass
class LatencyResult:
    """One model on one hardware profile; ``to_dict()`` is what a results line stores under its profile."""

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
    per_image_p90_ms: float | None = None  # p90 of batch time / batch
    stable: bool | None = None  # whether the batch-1 median settled (see the stability rule)
    per_image_stable: bool | None = None
    busy: bool | None = None  # other processes used the CPU while this was timed (None: unknown)
    load: dict | None = None  # the readings behind ``busy`` (LoadWindow.to_dict())

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        return d


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default method) of a non-empty sequence."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def quantiles(values: Sequence[float]) -> dict:
    """median, p90, IQR, min and max of a non-empty sequence (same unit as the values)."""
    return {"median": quantile(values, 0.5), "p90": quantile(values, 0.9),
            "iqr": quantile(values, 0.75) - quantile(values, 0.25), "min": min(values), "max": max(values)}


def settled(times: Sequence[float], window: int, tol: float) -> bool:
    """True when the median of ``times`` moved by at most ``tol`` (relative) over the last ``window`` calls."""
    if window < 1 or len(times) <= window:
        return False
    now, before = quantile(times, 0.5), quantile(times[:-window], 0.5)
    return abs(now - before) <= tol * max(now, 1e-12)


BUSY_OTHER_CPU = 0.25  # other processes' CPU time over the window, as a fraction of the available cores
BUSY_LOAD_PER_CORE = 1.0  # load average left for others, per available core


@dataclass(frozen=True)
class LoadSample:
    """One reading of the machine: cumulative CPU seconds of all processes and of this one, load, frequency."""

    wall_s: float
    system_cpu_s: float | None  # all CPUs' non-idle time from /proc/stat (None where unreadable)
    own_cpu_s: float  # this process's user + system time
    loadavg_1: float | None
    cpu_mhz: float | None


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _system_cpu_s() -> float | None:
    text = _read_text("/proc/stat")
    if not text or not text.startswith("cpu "):
        return None
    # user nice system idle iowait irq softirq steal ...: everything but idle and iowait is CPU use
    ticks = [int(v) for v in text.split("\n", 1)[0].split()[1:]]
    busy = sum(ticks[:3]) + sum(ticks[5:8])
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return busy / float(hz)


def _cpu_mhz() -> float | None:
    text = _read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
    if text and text.strip().isdigit():
        return int(text.strip()) / 1000.0
    for line in (_read_text("/proc/cpuinfo") or "").splitlines():
        if line.lower().startswith("cpu mhz"):
            try:
                return float(line.split(":", 1)[1])
            except ValueError:
                return None
    return None


def sample_load() -> LoadSample:
    """Read the machine now (standard library only; fields that cannot be read are None)."""
    t = os.times()
    try:
        load1: float | None = os.getloadavg()[0]
    except (OSError, AttributeError):
        load1 = None
    return LoadSample(time.monotonic(), _system_cpu_s(), t.user + t.system, load1, _cpu_mhz())


def available_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@dataclass(frozen=True)
class LoadWindow:
    """What else used the CPU between two samples, and the busy rule's verdict on it."""

    seconds: float
    cores: int
    other_cpu: float | None  # other processes' CPU time / (window x cores)
    load_before: float | None
    load_after: float | None
    cpu_mhz: float | None
    busy: bool | None

    @classmethod
    def between(cls, before: LoadSample, after: LoadSample, cores: int | None = None) -> LoadWindow:
        cores = cores or available_cores()
        wall = max(after.wall_s - before.wall_s, 1e-9)
        other = None
        if before.system_cpu_s is not None and after.system_cpu_s is not None:
            used = (after.system_cpu_s - before.system_cpu_s) - (after.own_cpu_s - before.own_cpu_s)
            other = max(used, 0.0) / (wall * cores)
        loads = [v for v in (before.loadavg_1, after.loadavg_1) if v is not None]
        if other is None and not loads:
            busy = None
        else:
            # our own runnable thread counts in the load average: leave one for it
            busy = bool((other is not None and other > BUSY_OTHER_CPU)
                        or any(v - 1.0 > BUSY_LOAD_PER_CORE * cores for v in loads))
        return cls(wall, cores, other, before.loadavg_1, after.loadavg_1, before.cpu_mhz or after.cpu_mhz, busy)

    @classmethod
    def combine(cls, windows: Sequence[LoadWindow]) -> LoadWindow:
        """Several windows of one model (its interleaved rounds) as one: CPU use time-weighted, loads extreme."""
        total = sum(w.seconds for w in windows) or 1e-9
        others = [w for w in windows if w.other_cpu is not None]
        other = sum((w.other_cpu or 0.0) * w.seconds for w in others) / total if others else None
        before = [w.load_before for w in windows if w.load_before is not None]
        after = [w.load_after for w in windows if w.load_after is not None]
        verdicts = [w.busy for w in windows if w.busy is not None]
        mhz = [w.cpu_mhz for w in windows if w.cpu_mhz is not None]
        return cls(total, windows[0].cores, other, max(before) if before else None, max(after) if after else None,
                   min(mhz) if mhz else None, any(verdicts) if verdicts else None)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rule"] = (f"busy: other processes > {BUSY_OTHER_CPU:.0%} of {self.cores} cores over the window, or "
                     f"load average - 1 > {BUSY_LOAD_PER_CORE:g} x cores before or after")
        return d

    def describe(self) -> str:
        parts = []
        if self.other_cpu is not None:
            parts.append(f"other processes used {self.other_cpu:.0%} of {self.cores} cores")
        if self.load_before is not None or self.load_after is not None:
            fmt = lambda v: "?" if v is None else f"{v:.1f}"  # noqa: E731
            parts.append(f"load average {fmt(self.load_before)} -> {fmt(self.load_after)} on {self.cores} cores")
        return ", ".join(parts) or "load unknown"


def time_calls(fn: Callable[[], object], *, warmup: int, min_runs: int, max_runs: int, target_s: float,
               clock: Clock = time.perf_counter, sync: Sync | None = None, stable_tol: float | None = None,
               stable_window: int = 0, stable_extra: float = 0.0) -> Timing:
    """Warm up, size the run count with one pilot call, time that many calls, then apply the stability rule.

    Each call is timed between two synchronised clock reads; nothing else reads the clock (the stability
    budget is the sum of the timed intervals), so a fake clock sees exactly two reads per timed call.
    """
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
    times = [timed() for _ in range(runs)]
    stable = None
    if stable_tol is not None and stable_window > 0:
        stable = settled(times, stable_window, stable_tol)
        budget, spent = stable_extra * target_s, 0.0
        while not stable and len(times) < max_runs and spent < budget:
            chunk = [timed() for _ in range(min(stable_window, max_runs - len(times)))]
            spent += sum(chunk)
            times += chunk
            stable = settled(times, stable_window, stable_tol)
    return Timing(tuple(times), warmup, pilot, stable)


def time_latency(model: nn.Module, x: torch.Tensor, protocol: Protocol, *, clock: Clock = time.perf_counter,
                 sync: Sync | None = None) -> Timing:
    """The batch-1 loop (any batch: ``x`` carries it) with the protocol's latency limits."""
    p = protocol
    return time_calls(lambda: model(x), warmup=p.warmup, min_runs=p.min_runs, max_runs=p.max_runs,
                      target_s=p.target_s, clock=clock, sync=sync, stable_tol=p.stable_tol,
                      stable_window=p.stable_window, stable_extra=p.stable_extra)


def time_per_image(model: nn.Module, xb: torch.Tensor, protocol: Protocol, *, clock: Clock = time.perf_counter,
                   sync: Sync | None = None) -> Timing:
    """The per-image loop: a whole batch per call (the authors' test loop), with the protocol's batch limits."""
    p = protocol
    return time_calls(lambda: model(xb), warmup=p.batch_warmup, min_runs=p.batch_min_runs,
                      max_runs=p.batch_max_runs, target_s=p.batch_target_s, clock=clock, sync=sync,
                      stable_tol=p.stable_tol, stable_window=p.batch_stable_window, stable_extra=p.stable_extra)


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


def sync_for(device: torch.device) -> Sync | None:
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return None


@dataclass(frozen=True)
class Measurement:
    """Both loops of one model, and the thread count that was in force while they ran."""

    latency: Timing
    per_image: Timing | None
    per_image_batch: int | None
    threads: int
    load: LoadWindow | None = None

    def result_fields(self) -> dict:
        """The timing fields of a LatencyResult, in milliseconds."""
        ms, lat, per, n = 1000.0, self.latency, self.per_image, self.per_image_batch
        out: dict = {"median_ms": lat.quantile(0.5) * ms, "p90_ms": lat.quantile(0.9) * ms,
               "iqr_ms": (lat.quantile(0.75) - lat.quantile(0.25)) * ms, "runs": lat.runs,
               "min_ms": min(lat.times_s) * ms, "max_ms": max(lat.times_s) * ms, "warmup": lat.warmup,
               "stable": lat.stable, "per_image_batch": n or None, "per_image_runs": 0, "per_image_ms": None,
               "per_image_iqr_ms": None, "per_image_p90_ms": None, "per_image_stable": None}
        if per is not None and n:
            out.update(per_image_ms=per.quantile(0.5) * ms / n, per_image_runs=per.runs,
                       per_image_iqr_ms=(per.quantile(0.75) - per.quantile(0.25)) * ms / n,
                       per_image_p90_ms=per.quantile(0.9) * ms / n, per_image_stable=per.stable)
        if self.load is not None:
            out.update(busy=self.load.busy, load=self.load.to_dict())
        return out


def time_model(model: nn.Module, *, input_size: Sequence[int] = (3, 32, 32), batch: int = 1, threads: int,
               per_image_batch: int | None = 100, protocol: Protocol | None = None, device: str = "cpu",
               clock: Clock = time.perf_counter, sync: Sync | None = None,
               sampler: Callable[[], LoadSample] | None = None) -> Measurement:
    """Run both loops on ``model`` (state, device and threads restored afterwards); inputs from a fixed seed.

    The machine is read (``sampler``, default ``sample_load``) just before and just after the loops: the
    window between the two readings is the measurement's ``load``.
    """
    protocol = protocol or Protocol()
    sampler = sampler or sample_load
    dev = torch.device(device)
    sync = sync or sync_for(dev)
    gen = torch.Generator().manual_seed(0)
    with measuring_state(model, threads, dev), torch.inference_mode():
        x = torch.randn(batch, *input_size, generator=gen).to(dev)  # moved once, reused by every call
        before = sampler()
        lat = time_latency(model, x, protocol, clock=clock, sync=sync)
        per = None
        if per_image_batch:
            xb = torch.randn(per_image_batch, *input_size, generator=gen).to(dev)
            per = time_per_image(model, xb, protocol, clock=clock, sync=sync)
            del xb
        after = sampler()
        in_force = torch.get_num_threads()
    return Measurement(lat, per, per_image_batch or None, in_force, LoadWindow.between(before, after))


def _round_protocol(protocol: Protocol, rounds: int, first: bool) -> Protocol:
    """One round's share of the protocol: 1/rounds of the timed calls and time; the warm-up in the first only."""
    p = protocol
    return Protocol(warmup=p.warmup if first else 1, min_runs=max(1, math.ceil(p.min_runs / rounds)),
                    max_runs=max(1, p.max_runs // rounds), target_s=p.target_s / rounds,
                    batch_warmup=p.batch_warmup if first else 1,
                    batch_min_runs=max(1, math.ceil(p.batch_min_runs / rounds)),
                    batch_max_runs=max(1, p.batch_max_runs // rounds), batch_target_s=p.batch_target_s / rounds,
                    stable_tol=None)


def _merge(parts: Sequence[Timing | None], tol: float | None, window: int) -> Timing | None:
    if not parts or parts[0] is None:
        return None
    times = tuple(t for part in parts if part is not None for t in part.times_s)
    stable = settled(times, window, tol) if tol is not None and window > 0 else None
    return Timing(times, parts[0].warmup, parts[0].pilot_s, stable)


def time_models(models: dict[str, nn.Module], *, rounds: int = 4, input_size: Sequence[int] = (3, 32, 32),
                batch: int = 1, threads: int, per_image_batch: int | None = 100, protocol: Protocol | None = None,
                device: str = "cpu", clock: Clock = time.perf_counter, sync: Sync | None = None,
                sampler: Callable[[], LoadSample] | None = None) -> dict[str, Measurement]:
    """Time several models interleaved: ``rounds`` rounds, each timing every model in turn with 1/rounds of the
    protocol; per model the rounds' calls are pooled (median, spread and stability over all of them) and its
    load is the combination of its own windows."""
    protocol = protocol or Protocol()
    rounds = max(1, rounds)
    parts: dict[str, list[Measurement]] = {name: [] for name in models}
    for r in range(rounds):
        share = _round_protocol(protocol, rounds, r == 0)
        for name, model in models.items():
            parts[name].append(time_model(model, input_size=input_size, batch=batch, threads=threads,
                                          per_image_batch=per_image_batch, protocol=share, device=device,
                                          clock=clock, sync=sync, sampler=sampler))
    out = {}
    for name, ms in parts.items():
        loads = [m.load for m in ms if m.load is not None]
        out[name] = Measurement(
            _merge([m.latency for m in ms], protocol.stable_tol, protocol.stable_window),  # type: ignore[arg-type]
            _merge([m.per_image for m in ms], protocol.stable_tol, protocol.batch_stable_window),
            ms[0].per_image_batch, ms[0].threads, LoadWindow.combine(loads) if loads else None)
    return out
