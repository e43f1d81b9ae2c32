"""Timing on a shared machine: a measurement taken beside other CPU work is marked busy and never decides."""

from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
from torch import nn

from suite.analysis import results
from suite.claims.rule import BUSY, REPRODUCED
from suite.claims.verdicts import speed
from suite.report.tables import time_stat
from suite.tables.claim import Scope
from suite.timing.latency import LoadSample, LoadWindow, Protocol, measure_latencies, measure_latency
from suite.timing.ondevice import timing_protocol

QUICK = Protocol(warmup=1, min_runs=5, max_runs=200, target_s=0.3, batch_warmup=1, batch_min_runs=2,
                 batch_max_runs=4, batch_target_s=0.1, stable_tol=None)


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))


def _stat(rec: dict):
    """Two measurement rounds of ``rec`` (1 % apart), as two seed lines give them: what a speed claim needs."""
    rounds = [rec, {**rec, "per_image_ms": rec["per_image_ms"] * 1.01}]
    rows = pd.DataFrame([{"model": "m", **results._latency("cpu", r)} for r in rounds])
    return time_stat(rows, "cpu_per_image_ms", "cpu_per_image_iqr_ms", "cpu")


def _faster(ta, tb):
    return speed("a faster than b on cpu", ta, tb, "a", "b", scope=Scope(), device="cpu")


def test_cpu_burner_marks_the_measurement_busy_and_the_claim_part_undecided():
    cores = timing_protocol.available_cores()
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(0.5)  # let the burners start spinning: the window must see them, not their start-up
        a = measure_latency(_net(), "cpu", threads=1, protocol=QUICK, per_image_batch=4, model_name="a").to_dict()
    finally:
        for p in burners:
            p.kill()
        for p in burners:
            p.wait()
    assert a["busy"] is True
    assert a["load"]["other_cpu"] > timing_protocol.BUSY_OTHER_CPU
    assert a["provenance"]["load"]["busy"] is True
    fast = {**a, "per_image_ms": a["per_image_ms"] / 100.0, "per_image_iqr_ms": 0.0, "busy": False}
    part = _faster(_stat(fast), _stat(a))
    assert part.verdict == BUSY  # 100x apart, yet a busy time does not decide


def _fake_sampler(other_per_s: float, load: float):
    """Readings as if other processes used ``other_per_s`` CPU seconds per second and the load were ``load``."""
    t0 = time.monotonic()

    def sample() -> LoadSample:
        now = time.monotonic()
        return LoadSample(now, (now - t0) * other_per_s, 0.0, load, None)
    return sample


def test_an_idle_reading_is_not_marked_busy(monkeypatch):
    monkeypatch.setattr(timing_protocol, "sample_load", _fake_sampler(0.05, 0.3))
    a = measure_latency(_net(), "cpu", threads=1, protocol=QUICK, per_image_batch=4).to_dict()
    assert a["busy"] is False
    b = {**a, "per_image_ms": a["per_image_ms"] * 100.0, "per_image_iqr_ms": 0.0}
    assert _faster(_stat({**a, "per_image_iqr_ms": 0.0}), _stat(b)).verdict == REPRODUCED


@pytest.mark.parametrize(("other", "load", "busy"), [(0.0, 0.5, False), (1.5, 0.5, True), (0.0, 6.0, True),
                                                      (0.4, 2.5, False)])
def test_busy_rule_on_two_cores(other, load, busy):
    before, after = LoadSample(0.0, 0.0, 0.0, load, None), LoadSample(1.0, other + 0.9, 0.9, load, 1200.0)
    w = LoadWindow.between(before, after, cores=2)
    assert w.busy is busy
    assert w.other_cpu == pytest.approx(other / 2)


def test_unreadable_machine_is_unknown_not_idle():
    w = LoadWindow.between(LoadSample(0.0, None, 0.0, None, None), LoadSample(1.0, None, 1.0, None, None), cores=2)
    assert w.busy is None


def test_compared_models_are_timed_in_interleaved_rounds(monkeypatch):
    monkeypatch.setattr(timing_protocol, "sample_load", _fake_sampler(0.0, 0.1))
    calls: list[str] = []

    class Tagged(nn.Module):
        def __init__(self, tag: str):
            super().__init__()
            self.tag, self.lin = tag, nn.Linear(3 * 4 * 4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            calls.append(self.tag)
            return self.lin(x.flatten(1))

    out = measure_latencies({"A": Tagged("A"), "B": Tagged("B")}, "cpu", rounds=3, input_size=(3, 4, 4), threads=1,
                            protocol=QUICK, per_image_batch=None)
    runs = [c for i, c in enumerate(calls) if i == 0 or calls[i - 1] != c]
    assert runs == ["A", "B"] * 3  # each round times every model in turn
    assert out["A"].provenance["interleaved_with"] == ["B"]
    assert out["A"].runs >= QUICK.min_runs and out["B"].busy is False


def test_latency_warns_when_the_machine_is_busy(monkeypatch, capsys):
    from suite.cli import main

    monkeypatch.setattr(timing_protocol, "sample_load", _fake_sampler(0.0, 4.9))
    monkeypatch.setattr(timing_protocol, "available_cores", lambda: 2)
    capsys.readouterr()
    assert main(["latency", "squeezenet_cifar", "--hardware", "cpu", "--per-image-batch", "0", "--threads", "1",
                 "--json"]) == 0
    out, err = capsys.readouterr()
    assert '"busy": true' in out
    (line,) = err.splitlines()
    assert line.startswith("warning: busy machine while timing on cpu (") and "load average 4.9" in line
    assert "not evidence" in line


def test_latency_says_nothing_of_load_on_an_idle_machine():
    from suite.commands.latency import busy_warnings

    assert busy_warnings([{"hardware": "cpu", "busy": False}, {"hardware": "rpi4", "predicted": True}]) == []
