"""A CPU's peak FLOP/s, measured: a dense square matmul at the training precision with the job's threads.

``measure`` runs it for about ``seconds`` and keeps the fastest repetition (other processes only ever slow it
down; a busy machine's figure is not stored). ``suite doctor`` measures it and stores it per host
(``suite.core.hostcache``, key: host, precision, threads, torch); ``suite run`` measures it once in the driver,
before any job trains, when it is not stored yet; a job only ever reads it (``cached``), never measures beside
its own training.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import UTC, datetime

from suite.core import hostcache

from .peaks import Peak

KIND = "cpu_peak"
PRECISIONS = ("fp32", "bf16")  # what the CPU trains in
SECONDS = 1.5  # long enough for a stable best repetition, short enough for the doctor and a run's start


def cache_key(precision: str, threads: int) -> str:
    import torch

    return hostcache.host_key(f"torch={torch.__version__}", f"precision={precision}", f"threads={threads}")


def measure(precision: str, threads: int, *, seconds: float = SECONDS) -> dict:
    """GFLOP/s of the fastest of repeated n x n matmuls (2 n^3 FLOPs each) on ``threads`` threads."""
    import torch

    dtype = dict(zip(PRECISIONS, (torch.float32, torch.bfloat16), strict=True)).get(precision)
    if dtype is None:
        raise ValueError(f"no CPU peak at {precision}: the CPU trains in fp32 or bf16")
    saved = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        n = 1024 if threads <= 8 else 2048  # big enough to keep every thread's vector units busy
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=gen).to(dtype)
        b = torch.randn(n, n, generator=gen).to(dtype)
        torch.mm(a, b)  # warm-up: thread pool, packing buffers
        best, reps, t_end = math.inf, 0, time.perf_counter() + seconds
        while reps < 3 or time.perf_counter() < t_end:
            t0 = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t0)
            reps += 1
    finally:
        torch.set_num_threads(saved)
    return {"gflops": 2.0 * n**3 / best / 1e9, "precision": precision, "threads": int(threads), "n": n,
            "repetitions": reps, "measured": datetime.now(UTC).isoformat(timespec="seconds")}


def _valid(entry: object) -> dict | None:
    """A stored measurement, or None for anything else (a hand-edited or truncated cache is only a miss)."""
    if not isinstance(entry, dict):
        return None
    gflops = entry.get("gflops")
    if isinstance(gflops, bool) or not isinstance(gflops, int | float) or not math.isfinite(gflops) or gflops <= 0:
        return None
    return entry


# a busy machine's figure, not stored for later runs, still stands for the jobs of the run that measured it
# in this process (marked so); a worker process of that run finds none and says "peak unknown"
_UNSTORED: dict[tuple[str, str], Peak] = {}  # (cache folder, key) -> Peak


def cached(precision: str, threads: int) -> Peak | None:
    key = cache_key(precision, threads)
    entry = _valid(hostcache.read(KIND, key))
    return _UNSTORED.get((str(hostcache.cache_root()), key)) if entry is None else as_peak(entry, cached=True)


def as_peak(entry: dict, *, cached: bool) -> Peak:
    return Peak(float(entry["gflops"]), str(entry.get("precision")),
                f"measured: dense {entry.get('precision')} matmul n={entry.get('n')} on {entry.get('threads')} "
                f"thread(s) by {entry.get('by') or 'suite doctor'}, {entry.get('measured')}", measured_now=not cached,
                stored=True)


def measure_and_store(precision: str, threads: int, *, by: str, seconds: float = SECONDS,
                      store: bool | None = None) -> Peak:
    """Measure now and keep the figure for this host, unless the machine was busy: other processes' CPU time
    during the measurement (the timing protocol's busy rule) makes it no peak. ``store`` decides instead of
    that reading where the caller has read the load already (`suite doctor`)."""
    from suite.timing.ondevice.timing_protocol import LoadWindow, sample_load

    before = sample_load()
    entry = {**measure(precision, threads, seconds=seconds), "by": by}
    busy = LoadWindow.between(before, sample_load()).busy if store is None else not store
    if not busy:
        hostcache.write(KIND, cache_key(precision, threads), entry)
    peak = as_peak(entry, cached=False)
    if not busy:
        return peak
    peak = replace(peak, source=peak.source + "; busy machine: not stored", stored=False)
    _UNSTORED[(str(hostcache.cache_root()), cache_key(precision, threads))] = replace(peak, measured_now=False)
    return peak


def unknown(precision: str, threads: int) -> Peak:
    return Peak(None, precision, f"peak unknown: no CPU peak stored on this host for {precision} at {threads} "
                                 "thread(s) (suite doctor measures it, and suite run does before training)")
