"""The time estimate `suite run` prints: measured quickly, corrected for the load it saw, stated as a range.

One timed training step per model (``plan.estimate_seconds``, one slot of all threads), at most ``BUDGET_S``
seconds of them (a model is not started when it would likely end past the budget; the first one is always
timed): models left untimed are estimated from the timed ones' median and named. Around the timing
the machine's load is read (``suite.timing.ondevice.timing_protocol.sample_load``). When other processes
used the CPU, our step competed for the cores: the time is divided by the contention ``(ours + others) /
cores`` (at least 1), and both figures are stated. The range is ``RANGE`` x the estimate: one step of each
model is a rough figure, and the data loading and evaluation it leaves out vary. With CPU job slots
(``--jobs``) the wall time packs the jobs onto the slots, each slowed by the slots sharing the cores as the
scaling probe measured (``plan.estimate_wall``), and ``by_jobs`` states it for every --jobs choice measured.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from suite.run.plan import estimate_wall
from suite.run.presets import PRESETS
from suite.timing.ondevice.timing_protocol import LoadSample, LoadWindow, sample_load

BUDGET_S = 25.0  # timed steps stop here, so that the whole estimate stays under 30 s
RANGE = (0.8, 1.5)


@dataclass(frozen=True)
class Estimate:
    per_model_s: dict[str, float]  # serial seconds per model (all seeds), load-corrected
    untimed: tuple[str, ...]  # models the budget left untimed (the timed ones' median stands in)
    load: LoadWindow
    slowdown: float  # measured / corrected (1.0 on a quiet machine)
    took_s: float
    probed: tuple[str, ...] = ()  # models whose step came from the mode probe's rate (timed before, not here)

    @property
    def total_s(self) -> float:
        return sum(self.per_model_s.values())

    @property
    def slowest(self) -> str:
        return max(self.per_model_s, key=self.per_model_s.get)  # type: ignore[arg-type]


def contention(window: LoadWindow, threads: int) -> float:
    """How much slower a step of ``threads`` threads ran beside the other processes seen (>= 1)."""
    if window.other_cpu is None:
        return 1.0
    others = window.other_cpu * window.cores
    return max(1.0, (min(threads, window.cores) + others) / window.cores)


def measure(models: list[str], time_model: Callable[[str], float | None], *, threads: int,
            budget_s: float = BUDGET_S, sampler: Callable[[], LoadSample] | None = None,
            probed: dict[str, float] | None = None) -> Estimate:
    """``time_model(name)`` gives a model's serial seconds (None: not timed); at most ``budget_s`` spent.
    ``probed``: serial seconds known from the mode probe's rates, taken as they are (no load seen here)."""
    sampler = sampler or sample_load
    t0 = time.perf_counter()
    before = sampler()
    measured: dict[str, float] = {}
    longest = 0.0
    for name in models:
        # stop before a model that would likely run past the budget (as long as the longest one so far)
        if measured and time.perf_counter() - t0 + longest > budget_s:
            break
        t1 = time.perf_counter()
        value = time_model(name)
        longest = max(longest, time.perf_counter() - t1)
        if value is not None:
            measured[name] = value
    window = LoadWindow.between(before, sampler())
    slowdown = contention(window, threads)
    corrected = {k: v / slowdown for k, v in measured.items()}
    corrected.update(probed or {})
    untimed = tuple(m for m in models if m not in corrected)
    if untimed and corrected:
        stand_in = statistics.median(corrected.values())
        corrected.update({m: stand_in for m in untimed})
    return Estimate(corrected, untimed, window, slowdown, time.perf_counter() - t0, tuple(probed or ()))


def by_jobs(per_model_s: dict[str, float], seeds: int, speedups: dict[int, float], chosen: int,
            fmt: Callable[[float], str]) -> str | None:
    """How the wall time changes with each --jobs the probe measured, e.g. '--jobs 1: 3 h, --jobs 2: 2 h (chosen)'."""
    if len(speedups) < 2:
        return None
    parts = [f"--jobs {k}: {fmt(estimate_wall(per_model_s, k, seeds, speedups[k] if k > 1 else None))}"
             + (" (chosen)" if k == chosen else "") for k in sorted(speedups)]
    return "by --jobs (probe speed-ups " + ", ".join(f"{speedups[k]:.2f}x" for k in sorted(speedups)) + "): " + \
        ", ".join(parts)


def describe(est: Estimate, *, wall_s: float, slots_text: str, preset: str, fmt: Callable[[float], str],
             jobs_line: str | None = None) -> list[str]:
    """The lines the user reads: the range, what it rests on, the slowest model and the alternatives
    (``jobs_line``: the wall time of each --jobs choice, from ``by_jobs``)."""
    lo, hi = RANGE
    lines = [f"estimated: about {fmt(wall_s * lo)}-{fmt(wall_s * hi)} wall time on {slots_text} "
             f"({fmt(est.total_s)} of training one job after another; measured in {est.took_s:.0f} s)"]
    if est.probed:
        lines.append(f"from the mode probe's step rates (at the run's batch, in each model's mode): "
                     f"{', '.join(est.probed)}")
    timed_here = len(est.probed) < len(est.per_model_s)  # the load seen now concerns only steps timed now
    if timed_here and est.load.busy:
        lines.append(f"the machine is busy ({est.load.describe()}): the steps ran about {est.slowdown:.1f}x "
                     f"slower than alone, so the estimate is corrected by that (uncorrected: "
                     f"{fmt(wall_s * est.slowdown)}); the run itself will be as slow as the load it meets")
    elif timed_here and est.load.busy is None:
        lines.append("machine load unknown here (no /proc): the estimate is not corrected for other processes")
    if est.untimed:
        lines.append(f"not timed within {BUDGET_S:.0f} s, estimated as the median model: {', '.join(est.untimed)}")
    # the untimed models only stand in at the median: they cannot be the slowest one known
    timed = {m: t for m, t in est.per_model_s.items() if m not in est.untimed}
    slowest = max(timed, key=timed.__getitem__) if timed else est.slowest
    label = f"slowest of the {len(timed)} timed" if est.untimed else "slowest model"
    lines.append(f"{label}: {slowest} (about {fmt(est.per_model_s[slowest])})")
    if jobs_line:
        lines.append(jobs_line)
    alternatives = ["a GPU (--device cuda)", "more workers (--executor gpus / ray)", "fewer --models"]
    trend = next((p for p in PRESETS.values() if not p.reproduction), None)  # the most thorough of the checks
    if trend is not None and preset != trend.name:
        alternatives.insert(0, f"--preset {trend.name} for a trend")
    lines.append("faster: " + ", ".join(alternatives))
    return lines
