"""Training step and epoch time, as ThresholdNet's Tables VI and VII report them, measured by the training engine.

The protocol (also stored with every result as ``timing_protocol``):

- **a step** is one training batch: its data path (drawing, augmenting, converting the batch; for a streamed data
  set, waiting for the DataLoader and the host-to-device copy), forward, loss, backward and optimizer step. It is
  the interval between two consecutive step boundaries, so nothing between steps goes untimed;
- the first ``warmup_steps`` steps of the first epoch a process trains (a fresh start or a resume) are left out of
  the step statistics (allocator, cuDNN and DataLoader start-up), never out of the epoch time; an epoch that short
  keeps its last step timed, so a smoke run still has a step time (a cold one: its summary says how many steps
  were left out);
- **the epoch time** is the training part of an epoch: from before its data plan / DataLoader is made to the end of
  its last step, data path included; evaluation is outside it (and outside every step);
- **on CUDA** every boundary is a ``torch.cuda.Event`` recorded on the stream: no host synchronisation per step;
  the events are read once, at the end of the epoch (one ``synchronize`` on the last event). A boundary event
  completes when the GPU reaches it, so a GPU left waiting for data shows the wait in the step's time;
- **on the CPU** every boundary is a clock reading (``time.perf_counter``); the computation is synchronous;
- statistics: median, 90th percentile and inter-quartile range (numpy's linear interpolation) over every timed step
  of the run, per epoch and over the whole run; a resumed run keeps the steps of the epochs before the resume
  (the checkpoint holds them).

The clock and the event factory are injectable (``StepTiming``) so tests check the protocol with fakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

DEFAULT_WARMUP_STEPS = 5


class TimingEvent(Protocol):
    """What the timer uses of torch.cuda.Event (tests pass fakes)."""

    def record(self) -> None: ...

    def synchronize(self) -> None: ...

    def elapsed_time(self, end: Any, /) -> float: ...


@dataclass(frozen=True)
class StepTiming:
    """How the engine times steps: ``clock`` (seconds) on the CPU, ``events()`` pairs (ms) on CUDA.

    ``events=None`` means torch.cuda.Event(enable_timing=True) when training on CUDA, the clock otherwise; a
    test passes a fake factory (objects with ``record()``, ``synchronize()``, ``elapsed_time(other)`` in ms).
    """

    warmup_steps: int = DEFAULT_WARMUP_STEPS
    clock: Callable[[], float] = time.perf_counter
    events: Callable[[], TimingEvent] | None = None

    def protocol(self, device: torch.device, *, uses_events: bool) -> dict:
        return {
            "step": "one training batch: data path + forward + loss + backward + optimizer step, the interval "
                    "between consecutive step boundaries",
            "warmup_steps_excluded": int(self.warmup_steps),
            "warmup_scope": "the first steps of the first epoch each process trains (fresh start or resume), "
                            "never all of that epoch's steps (its last one is always timed)",
            "epoch": "training part of the epoch, data path included (data plan / DataLoader start to the end of "
                     "the last step); warm-up steps included",
            "evaluation": "excluded from step and epoch times",
            "device": str(device),
            "timer": ("torch.cuda.Event pairs, read once at the end of each epoch (no host sync per step)"
                      if uses_events else "host clock (time.perf_counter) at each step boundary"),
            "statistics": "median, p90, IQR (numpy linear interpolation) over every timed step of the run",
            "host_syncs": "none inside the training loop; one per epoch after its last step",
        }


@dataclass
class EpochTiming:
    step_times_ms: list[float]  # the timed steps (warm-up excluded), in order
    warmup_excluded: int
    epoch_time_s: float

    def summary(self) -> dict:
        return {"steps": len(self.step_times_ms), "warmup_excluded": self.warmup_excluded,
                **stats_ms(self.step_times_ms)}


def stats_ms(times: Sequence[float]) -> dict:
    """median / p90 / IQR / min / max of step times in ms (None for each when nothing was timed)."""
    if len(times) == 0:
        return {"median": None, "p90": None, "iqr": None, "min": None, "max": None}
    a = np.asarray(times, dtype=np.float64)
    q25, q50, q75, q90 = np.percentile(a, [25, 50, 75, 90])
    return {"median": float(q50), "p90": float(q90), "iqr": float(q75 - q25), "min": float(a.min()),
            "max": float(a.max())}


@dataclass
class StepTimer:
    """Boundaries of one run's training steps; ``warmup_steps`` are skipped once, in the first epoch it times."""

    device: torch.device
    timing: StepTiming = field(default_factory=StepTiming)

    def __post_init__(self) -> None:
        self.use_events = self.timing.events is not None or self.device.type == "cuda"
        self._first_epoch = True
        self._marks: list = []

    def _mark(self):
        if not self.use_events:
            return self.timing.clock()
        event = (self.timing.events or (lambda: torch.cuda.Event(enable_timing=True)))()
        event.record()
        return event

    def epoch_start(self) -> None:
        self._marks = [self._mark()]

    def step_end(self) -> None:
        self._marks.append(self._mark())

    def epoch_end(self) -> EpochTiming:
        """Read the epoch's boundaries (on CUDA: the one host sync of the epoch) into step and epoch times."""
        marks, self._marks = self._marks, []
        if self.use_events:
            marks[-1].synchronize()
            steps = [a.elapsed_time(b) for a, b in zip(marks, marks[1:], strict=False)]
            epoch_s = marks[0].elapsed_time(marks[-1]) / 1000.0 if len(marks) > 1 else 0.0
        else:
            steps = [(b - a) * 1000.0 for a, b in zip(marks, marks[1:], strict=False)]
            epoch_s = marks[-1] - marks[0]
        skip = min(int(self.timing.warmup_steps), len(steps) - 1) if self._first_epoch and steps else 0
        self._first_epoch = False
        return EpochTiming([float(s) for s in steps[skip:]], skip, float(epoch_s))


def run_timing(per_epoch: Sequence[Sequence[float]], epoch_times_s: Sequence[float]) -> dict:
    """The result fields of a whole run from every epoch's timed steps (ms) and epoch times (s)."""
    every = [t for epoch in per_epoch for t in epoch]
    s = stats_ms(every)
    return {"step_time_ms": s["median"], "step_time_p90_ms": s["p90"], "step_time_iqr_ms": s["iqr"],
            "step_time_steps": len(every),
            "epoch_time_s": float(np.median(epoch_times_s)) if len(epoch_times_s) else None,
            "epoch_times_s": [float(t) for t in epoch_times_s]}
