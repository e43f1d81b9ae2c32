"""The run estimate: capped in time, corrected for the load it saw, stated as a range with alternatives."""

from __future__ import annotations

import subprocess
import sys
import time

from suite.timing.ondevice import timing_protocol
from suite.timing.ondevice.timing_protocol import LoadSample, LoadWindow
from suite.watch import estimate


def _step(_model: str) -> float:
    """A real single-threaded CPU step (pure Python), best of three as time_train_step does: seconds x 1e4."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        sum(i * i for i in range(200_000))
        best = min(best, time.perf_counter() - t0)
    return best * 1e4


def test_quick_estimate_with_a_cpu_burner_is_fast_and_near_idle_or_says_busy():
    models = ["a", "b", "c"]
    idle = estimate.measure(models, _step, threads=1)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(timing_protocol.available_cores())]
    try:
        time.sleep(0.5)
        t0 = time.perf_counter()
        loaded = estimate.measure(models, _step, threads=1)
        took = time.perf_counter() - t0
    finally:
        for p in burners:
            p.kill()
        for p in burners:
            p.wait()
    assert took < 30.0
    lines = estimate.describe(loaded, wall_s=loaded.total_s, slots_text="1 slot", preset="quick",
                              fmt=lambda s: f"{s:.0f} s")
    near = 0.5 <= loaded.total_s / idle.total_s <= 2.0
    said = loaded.load.busy and any("the machine is busy" in line and "%" in line for line in lines)
    assert near or said, (idle.total_s, loaded.total_s, lines)
    assert loaded.load.busy  # burners on every core beside a step are always seen


def test_budget_caps_the_timing_and_names_the_untimed_models():
    calls = []

    def slow(model: str) -> float:
        calls.append(model)
        time.sleep(0.05)
        return 100.0 if model == "big" else 10.0

    est = estimate.measure(["big", "x", "y", "z"], slow, threads=1, budget_s=0.12)
    assert len(calls) < 4 and est.untimed and set(est.per_model_s) == {"big", "x", "y", "z"}
    lines = estimate.describe(est, wall_s=est.total_s, slots_text="1 slot", preset="paper", fmt=lambda s: f"{s:.0f} s")
    assert any("not timed within" in line for line in lines)
    # only some models were timed: the slowest is named among those, never as if all were known
    assert any(f"slowest of the {4 - len(est.untimed)} timed: big" in line for line in lines)
    assert not any("slowest model" in line for line in lines)
    assert any("--preset quick" in line and "GPU" in line and "--executor" in line for line in lines)
    assert lines[0].startswith("estimated: about ") and "-" in lines[0]


def test_contention_correction():
    def window(other):
        return LoadWindow.between(LoadSample(0, 0.0, 0.0, 0.1, None), LoadSample(1, other + 1.0, 1.0, 0.1, None), 2)
    assert estimate.contention(window(0.0), threads=2) == 1.0
    assert estimate.contention(window(2.0), threads=2) == 2.0  # two cores of others beside our two threads


def test_slowest_model_is_named_as_such_only_when_every_model_was_timed():
    est = estimate.measure(["big", "x"], lambda m: 100.0 if m == "big" else 10.0, threads=1)
    lines = estimate.describe(est, wall_s=est.total_s, slots_text="1 slot", preset="paper", fmt=lambda s: f"{s:.0f} s")
    assert not est.untimed and any(line.startswith("slowest model: big") for line in lines)
