"""The timing protocol against a fake clock and synchroniser, state restoration, profiles and CLI errors.

No test asserts a real timing: the clock is faked wherever numbers are checked.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from suite.core.errors import SuiteError
from suite.timing import hardware, latency
from suite.timing.hardware import HardwareProfile
from suite.timing.latency import Protocol, measure_latency

TINY = Protocol(warmup=3, min_runs=7, max_runs=9, target_s=0.0, batch_warmup=1, batch_min_runs=2,
                batch_max_runs=2, batch_target_s=0.0)
REQUIRED = {"median_ms", "p90_ms", "iqr_ms", "runs", "per_image_ms", "predicted", "expected_error_pct",
            "provenance", "hardware", "input_size", "batch", "threads"}


class FakeDevice:
    """A clock that only moves when the probe model 'computes', plus a synchroniser; both log events."""

    def __init__(self):
        self.now = 0.0
        self.events: list[str] = []

    def clock(self) -> float:
        self.events.append("clock")
        return self.now

    def sync(self) -> None:
        self.events.append("sync")


class Probe(nn.Module):
    """Records each call (mode, inference mode, input identity); advances the fake clock by a known cost."""

    def __init__(self, dev: FakeDevice, costs_ms=(1.0, 2.0, 3.0, 4.0, 5.0)):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.dev, self.costs, self.calls = dev, costs_ms, []

    def forward(self, x):
        self.calls.append((x.shape[0], id(x), self.training, torch.is_inference_mode_enabled()))
        self.dev.events.append(f"forward{x.shape[0]}")
        n = sum(1 for c in self.calls if c[0] == x.shape[0])
        cost = self.costs[(n - 1) % len(self.costs)] if x.shape[0] == 1 else 50.0  # batch 100: 0.5 ms/image
        self.dev.now += cost / 1000
        return self.conv(x)


def fake_gpu(threads: int = 1) -> HardwareProfile:
    # A "gpu" profile whose tensors stay on the CPU: the CUDA code path with an injected synchroniser.
    return HardwareProfile("gpu", "cpu", threads, True, "fake GPU")


def test_cuda_path_syncs_before_every_clock_read_and_warms_up_first():
    dev = FakeDevice()
    model = Probe(dev)
    res = measure_latency(model, fake_gpu(), protocol=TINY, clock=dev.clock, sync=dev.sync)
    ev = dev.events
    clocks = [i for i, e in enumerate(ev) if e == "clock"]
    assert clocks and all(ev[i - 1] == "sync" for i in clocks), "a clock read without a sync right before it"
    # Warm-up: the first `warmup` batch-1 calls happen before any clock read, and likewise for batch 100.
    assert ev[:TINY.warmup] == ["forward1"] * TINY.warmup
    first_b100 = ev.index("forward100")
    assert ev[first_b100:first_b100 + TINY.batch_warmup] == ["forward100"] * TINY.batch_warmup
    # One pilot + runs timed calls per loop, each between two clock reads.
    assert len(clocks) == 2 * (1 + res.runs) + 2 * (1 + res.per_image_runs)
    # Input moved to the device once: every call of a loop sees the very same tensor object.
    assert len({c[1] for c in model.calls if c[0] == 1}) == 1
    assert len({c[1] for c in model.calls if c[0] == 100}) == 1
    assert all(not training and inference for _, _, training, inference in model.calls)


def test_statistics_from_fake_clock():
    dev = FakeDevice()
    model = Probe(dev)
    res = measure_latency(model, fake_gpu(), protocol=TINY, clock=dev.clock, sync=dev.sync)
    assert res.runs == TINY.min_runs  # target_s = 0: the run count is the minimum
    # Calls 1-3 warm up, call 4 is the pilot, then calls 5..11 are timed: costs cycle 1..5 ms.
    first = TINY.warmup + 2
    timed = [(1.0, 2.0, 3.0, 4.0, 5.0)[(n - 1) % 5] for n in range(first, first + res.runs)]
    assert res.median_ms == pytest.approx(np.percentile(timed, 50))
    assert res.p90_ms == pytest.approx(np.percentile(timed, 90))
    assert res.iqr_ms == pytest.approx(np.percentile(timed, 75) - np.percentile(timed, 25))
    assert res.min_ms == pytest.approx(min(timed)) and res.max_ms == pytest.approx(max(timed))
    assert res.per_image_ms == pytest.approx(0.5) and res.per_image_batch == 100 and res.per_image_runs == 2


def test_quantile_matches_numpy():
    xs = [5.0, 1.0, 4.0, 2.0, 3.0, 9.0]
    for q in (0.0, 0.25, 0.5, 0.75, 0.9, 1.0):
        assert latency.quantile(xs, q) == pytest.approx(np.percentile(xs, q * 100))


def test_run_count_sized_by_pilot_and_clamped():
    dev = FakeDevice()

    def call():
        dev.now += 0.01

    t = latency.time_calls(call, warmup=0, min_runs=3, max_runs=1000, target_s=0.5, clock=dev.clock)
    assert t.runs == 50  # 0.5 s / 10 ms
    t = latency.time_calls(call, warmup=0, min_runs=3, max_runs=20, target_s=0.5, clock=dev.clock)
    assert t.runs == 20


def test_threads_and_model_state_restored():
    dev = FakeDevice()
    model = Probe(dev)
    model.train()
    model.conv.eval()  # a mixed state must come back exactly
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = measure_latency(model, fake_gpu(threads=2), protocol=TINY, clock=dev.clock, sync=dev.sync)
        assert torch.get_num_threads() == 1
        assert res.threads == 2 and res.provenance["threads"] == 2  # stated, and in force while measuring
        assert model.training and not model.conv.training
    finally:
        torch.set_num_threads(before)


def test_state_restored_when_the_model_fails():
    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    model = Boom().train()
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="boom"):
        measure_latency(model, fake_gpu(threads=before + 1), protocol=TINY)
    assert torch.get_num_threads() == before and model.training


def test_threads_argument_overrides_profile():
    dev = FakeDevice()
    res = measure_latency(Probe(dev), fake_gpu(threads=1), threads=2, protocol=TINY, clock=dev.clock,
                          sync=dev.sync)
    assert res.threads == 2


def test_result_fields_real_cpu_small_model():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 2))
    res = measure_latency(model, "cpu", protocol=TINY, per_image_batch=10, model_name="tiny")
    d = res.to_dict()
    assert REQUIRED <= d.keys()
    assert d["predicted"] is False and d["expected_error_pct"] is None
    assert d["input_size"] == [3, 32, 32] and d["batch"] == 1 and d["runs"] == TINY.min_runs
    assert d["median_ms"] > 0 and d["per_image_ms"] > 0 and d["per_image_batch"] == 10
    assert d["provenance"]["hardware"] == "cpu" and "torch" in d["provenance"]
    json.dumps(d)


def test_batch_and_no_per_image():
    dev = FakeDevice()
    model = Probe(dev)
    res = measure_latency(model, fake_gpu(), batch=4, per_image_batch=None, protocol=TINY, clock=dev.clock,
                          sync=dev.sync)
    assert res.batch == 4 and res.per_image_ms is None and res.per_image_runs == 0
    assert {c[0] for c in model.calls} == {4}


# ---- profiles

def test_unknown_hardware():
    with pytest.raises(SuiteError, match="unknown hardware 'rpi5'; did you mean rpi4"):
        hardware.get_profile("rpi5")


def test_gpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SuiteError, match="needs a CUDA device"):
        hardware.get_profile("gpu")


def test_cpu_profile_threads():
    p = hardware.get_profile("cpu")
    assert p.native and p.device == "cpu" and p.threads == hardware.physical_cores()
    assert hardware.get_profile("cpu", threads=3).threads == 3
    with pytest.raises(SuiteError):
        hardware.get_profile("cpu", threads=0)


def test_physical_cores_counts_hyperthreads_once(tmp_path, monkeypatch):
    block = "processor\t: {p}\nmodel name\t: Fake CPU\nphysical id\t: 0\ncore id\t\t: {c}\ncpu cores\t: 2\n\n"
    info = tmp_path / "cpuinfo"
    info.write_text("".join(block.format(p=p, c=c) for p, c in [(0, 0), (1, 1), (2, 0), (3, 1)]))
    monkeypatch.setattr(hardware.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert hardware.physical_cores(info) == 2
    monkeypatch.setattr(hardware.os, "sched_getaffinity", lambda pid: {0, 2})  # two siblings of one core
    assert hardware.physical_cores(info) == 1
    monkeypatch.setattr(hardware.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert hardware.physical_cores(tmp_path / "missing") == 3  # no topology: the affinity mask


def test_parse_profiles():
    ps = hardware.parse_profiles("cpu, rpi4,cpu")
    assert [p.name for p in ps] == ["cpu", "rpi4"]
    with pytest.raises(SuiteError, match="unknown hardware"):
        hardware.parse_profiles("cpu,tpu")
    with pytest.raises(SuiteError):
        hardware.parse_profiles(" , ")


# ---- command

def _run_command(argv, monkeypatch=None):
    from suite.commands import latency as cmd

    parser = argparse.ArgumentParser()
    cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_command_unknown_hardware():
    with pytest.raises(SuiteError, match="unknown hardware"):
        _run_command(["latency", "mobilenet_v2", "--hardware", "cpu,tpu"])


def test_command_gpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SuiteError, match="CUDA"):
        _run_command(["latency", "mobilenet_v2", "--hardware", "gpu"])


def test_command_json_cpu(monkeypatch, capsys):
    import suite.timing.latency as timing  # the command imports it when it runs

    monkeypatch.setattr(timing, "measure_latency", functools.partial(measure_latency, protocol=TINY))
    argv = ["latency", "squeezenet1_1", "--json", "--per-image-batch", "2", "--threads", "1"]
    assert _run_command(argv) == 0
    d = json.loads(capsys.readouterr().out)
    assert REQUIRED <= d.keys() and d["model"] == "squeezenet1_1" and d["threads"] == 1
    assert d["predicted"] is False


def test_command_table_cpu(monkeypatch, capsys):
    import suite.timing.latency as timing  # the command imports it when it runs

    monkeypatch.setattr(timing, "measure_latency", functools.partial(measure_latency, protocol=TINY))
    assert _run_command(["latency", "squeezenet1_1", "--per-image-batch", "0", "--threads", "1"]) == 0
    assert "measured" in capsys.readouterr().out


def test_cli_exit_code_for_unknown_hardware(capsys):
    from suite.cli import main

    assert main(["latency", "mobilenet_v2", "--hardware", "rpi5"]) == 2
    assert "unknown hardware 'rpi5'" in capsys.readouterr().err


def test_cli_rejects_an_empty_head_in_one_line(capsys):
    from suite.cli import main

    assert main(["latency", "mobilenet_v2", "--hardware", "cpu", "--num-classes", "0"]) == 2
    err = capsys.readouterr().err
    assert "--num-classes must be a positive integer, got 0" in err and "Traceback" not in err


# ---- the stability rule and the shared protocol module

def _scripted(costs_s):
    """A call whose n-th invocation advances the fake clock by costs_s[n] (the last cost repeats)."""
    dev = FakeDevice()
    calls = []

    def call():
        dev.now += costs_s[min(len(calls), len(costs_s) - 1)]
        calls.append(1)

    return dev, call, calls


def test_stability_rule_stops_once_the_median_settles():
    # pilot 10 ms, then 10 noisy calls, then a steady 10 ms: the median moves until the steady calls dominate.
    dev, call, _ = _scripted([0.010] + [0.030, 0.001] * 5 + [0.010])
    t = latency.time_calls(call, warmup=0, min_runs=10, max_runs=200, target_s=0.05, clock=dev.clock,
                           stable_tol=0.02, stable_window=5, stable_extra=100.0)
    assert t.runs > 10 and t.runs % 5 == 0 and t.stable is True
    from suite.timing.ondevice.timing_protocol import settled

    assert settled(t.times_s, 5, 0.02) and not settled(t.times_s[:-5], 5, 0.02)


def test_stability_rule_is_bounded_by_max_runs_and_by_its_time_budget():
    drifting = [0.001 * 1.1 ** n for n in range(1000)]  # each call 10 % slower (a throttling device)
    dev, call, _ = _scripted(drifting)
    t = latency.time_calls(call, warmup=0, min_runs=3, max_runs=12, target_s=0.001, clock=dev.clock,
                           stable_tol=0.0, stable_window=2, stable_extra=1e6)
    assert t.runs == 12 and t.stable is False  # never settled: stopped at max_runs
    dev, call, _ = _scripted(drifting)
    t = latency.time_calls(call, warmup=0, min_runs=4, max_runs=1000, target_s=0.002, clock=dev.clock,
                           stable_tol=0.0, stable_window=2, stable_extra=20.0)
    extra = t.times_s[4:]  # pilot 1 ms: 2 runs for target_s, so the 4 of min_runs, then the rule's chunks
    assert t.stable is False and 4 < t.runs < 1000
    assert sum(extra[:-2]) < 20 * 0.002 <= sum(extra)  # budget 20 x target_s: the last chunk started under it
    dev, call, _ = _scripted(drifting)
    t = latency.time_calls(call, warmup=0, min_runs=5, max_runs=1000, target_s=0.0, clock=dev.clock,
                           stable_tol=0.0, stable_window=2, stable_extra=5.0)
    assert t.runs == 5  # target_s = 0: exactly the sized count


def test_stability_rule_reads_the_clock_twice_per_timed_call():
    dev, call, calls = _scripted([0.010] + [0.030, 0.001] * 20)
    t = latency.time_calls(call, warmup=2, min_runs=4, max_runs=30, target_s=0.04, clock=dev.clock,
                           stable_tol=0.01, stable_window=3, stable_extra=3.0)
    assert dev.events.count("clock") == 2 * (1 + t.runs)
    assert len(calls) == 2 + 1 + t.runs


def test_protocol_default_has_the_rule_on_and_results_report_it():
    assert Protocol().stable_tol is not None and Protocol().stable_window > 0
    assert Protocol.from_dict({"min_runs": 4, "a_future_field": 1}) == Protocol(min_runs=4)
    dev = FakeDevice()
    steady = Protocol(warmup=1, min_runs=20, max_runs=40, target_s=0.001, batch_warmup=1, batch_min_runs=4,
                      batch_max_runs=8, batch_target_s=0.001, stable_window=5, batch_stable_window=2)
    res = measure_latency(Probe(dev, costs_ms=(2.0,)), fake_gpu(), protocol=steady, clock=dev.clock, sync=dev.sync)
    d = res.to_dict()
    assert d["stable"] is True and d["per_image_stable"] is True and d["runs"] == 20
    assert d["per_image_p90_ms"] == pytest.approx(0.5)
    assert d["provenance"]["protocol"]["stable_tol"] == steady.stable_tol


def test_latency_uses_the_shipped_protocol_module():
    from suite.timing.ondevice import timing_protocol

    assert latency.Protocol is timing_protocol.Protocol and latency.time_calls is timing_protocol.time_calls
    assert latency.LatencyResult is timing_protocol.LatencyResult
    src = Path(timing_protocol.__file__).read_text()
    imports = {line.split()[1].split(".")[0] for line in src.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "math", "os", "time", "collections", "contextlib", "dataclasses", "torch"}


def test_remote_profile_is_never_timed_or_predicted_locally():
    with pytest.raises(SuiteError, match="remote device"):
        measure_latency(nn.Conv2d(3, 4, 3), "ssh://127.0.0.1:2222", protocol=TINY)


def test_native_provenance_says_where_it_was_measured():
    import socket

    res = measure_latency(nn.Conv2d(3, 4, 3), "cpu", protocol=TINY, per_image_batch=None)
    assert res.provenance["source"] == "native" and res.provenance["host"] == socket.gethostname()
