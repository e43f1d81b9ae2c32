"""Training throughput against the device's peak: the rule, the GPU table, the CPU peak's cache, and where a
run shows it (the record, `suite status`, `suite export`, the run log)."""

from __future__ import annotations

import json

import pytest
from run_fakes import Fakes, config, run
from torch import nn

from suite.cli import main
from suite.core import hostcache
from suite.device import cpu_peak
from suite.device.peaks import GPU_PEAKS, Peak, gpu_peak, gpu_training_peak, training_peak
from suite.run import ResultRecord
from suite.run.store import write_json_atomic
from suite.run.throughput import RULE, Throughput, basis, gflop_per_image, throughput
from suite.watch.status import run_status

# --- the rule ---------------------------------------------------------------------------------------------------

def test_achieved_gflops_is_three_forward_passes_of_two_flops_per_mac():
    from suite.complexity import profile_all

    # 3x8x8 input: a 3x3 conv to 4 channels (no bias), then a linear layer from 4x8x8 to 10 (no bias)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.Flatten(), nn.Linear(4 * 8 * 8, 10, bias=False))
    reports = {k: r.to_dict() for k, r in profile_all(net, (3, 8, 8)).items()}
    macs = 8 * 8 * 4 * (3 * 3 * 3) + 4 * 8 * 8 * 10  # 6,912 + 2,560 by hand
    assert reports["complete"]["macs"] == macs
    assert reports["torchstat"]["flops"] == macs  # the papers' "FLOPs" are multiply-accumulates
    gflop = gflop_per_image({"trained": {"input_size": [3, 8, 8], **reports}})
    assert gflop == pytest.approx(2 * macs / 1e9)
    assert gflop_per_image({"trained": {"input_size": [3, 8, 8], **reports}}, image_size=16) is None  # resized
    rate = throughput(1000.0, gflop, Peak(100.0, "fp32", "test"))
    assert rate.achieved_gflops == pytest.approx(3 * 2 * macs * 1000 / 1e9)
    assert rate.share_of_peak == pytest.approx(rate.achieved_gflops / 100.0)
    assert rate.rule == RULE and "3 (forward + backward)" in RULE and "2 per multiply-accumulate" in RULE
    unknown = throughput(1000.0, gflop, Peak(None, "fp32", "peak unknown: why"))
    assert unknown.share_of_peak is None and "peak unknown: why" in unknown.describe()


def test_a_record_keeps_its_throughput_and_older_or_broken_lines_read_without_one():
    rate = throughput(100.0, 0.5, Peak(1000.0, "tf32", "declared"))
    line = ResultRecord(key="m|cifar10|0", model="m", dataset="cifar10", seed=0, throughput=rate).to_dict()
    assert line["version"] == 3 and line["throughput"]["share_of_peak"] == pytest.approx(0.15)
    assert ResultRecord.from_dict(json.loads(json.dumps(line))).throughput == rate
    assert ResultRecord.from_dict({"model": "m", "dataset": "c", "seed": 0, "version": 2}).throughput is None
    broken = ResultRecord.from_dict({**line, "throughput": {"images_per_s": "fast", "achieved_gflops": True}})
    assert broken.throughput is not None and broken.throughput.images_per_s is None
    assert broken.throughput.achieved_gflops is None and broken.throughput.rule == RULE
    assert Throughput.from_dict("not a record") is None


# --- the GPU table ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, card", [("NVIDIA A100-SXM4-80GB", "A100 SXM"), ("Tesla A100-SXM4-40GB", "A100 SXM"),
                                        ("NVIDIA A100 80GB PCIe", "A100 PCIe"), ("NVIDIA H100 80GB HBM3", "H100 SXM"),
                                        ("NVIDIA H100 PCIe", "H100 PCIe"), ("NVIDIA H200", "H200"),
                                        ("Tesla V100-SXM2-16GB", "V100 SXM2"), ("Tesla T4", "T4"),
                                        ("NVIDIA A10", "A10"), ("NVIDIA GeForce RTX 4090", "RTX 4090")])
def test_a_declared_card_is_found_by_its_torch_device_name(name, card):
    found = gpu_peak(name)
    assert found is not None and found.name == card and found.source


def test_a_card_not_declared_has_no_peak_rather_than_a_neighbours():
    for name in ("NVIDIA A10G", "NVIDIA GeForce RTX 3090 Ti", "NVIDIA H100 NVL", "Some Future GPU"):
        assert gpu_peak(name) is None
        peak = gpu_training_peak(name, "bf16", tf32=False)
        assert peak.gflops is None and peak.source.startswith("peak unknown") and repr(name) in peak.source


def test_fp32_training_is_set_against_tf32_where_the_card_has_it():
    a100 = gpu_training_peak("NVIDIA A100-SXM4-80GB", "fp32", tf32=True)
    assert (a100.gflops, a100.precision) == (156_000.0, "tf32") and "datasheet" in a100.source
    assert gpu_training_peak("NVIDIA A100-SXM4-80GB", "fp32", tf32=False).gflops == 19_500.0
    v100 = gpu_training_peak("Tesla V100-SXM2-16GB", "fp32", tf32=True)
    assert (v100.gflops, v100.precision) == (15_700.0, "fp32")  # no TF32 on a V100
    assert gpu_training_peak("Tesla V100-SXM2-16GB", "bf16", tf32=True).gflops is None
    assert gpu_training_peak("NVIDIA H100 80GB HBM3", "bf16", tf32=True).gflops == pytest.approx(989_500.0)
    assert all(card.fp32 > 0 and card.source for card in GPU_PEAKS.values())


# --- the CPU peak, measured once per host -----------------------------------------------------------------------

def _load(other_cpu_s_per_s: float):
    """Fake /proc readings: other processes use ``other_cpu_s_per_s`` CPU-seconds per second."""
    from suite.timing.ondevice.timing_protocol import LoadSample

    clock = iter(range(10_000))

    def sample() -> LoadSample:
        t = float(next(clock))
        return LoadSample(t, t * other_cpu_s_per_s, 0.0, 0.0, None)

    return sample


@pytest.fixture
def measured(monkeypatch, tmp_path) -> list[tuple[str, int]]:
    """An empty host cache, an idle machine and a counted stand-in for the matmul."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("suite.timing.ondevice.timing_protocol.sample_load", _load(0.0))

    def fake(precision: str, threads: int, *, seconds: float = 0.0) -> dict:
        calls.append((precision, threads))
        return {"gflops": 50.0, "precision": precision, "threads": threads, "n": 1024, "repetitions": 3,
                "measured": "2026-01-01T00:00:00+00:00"}

    monkeypatch.setattr(cpu_peak, "measure", fake)
    return calls


def test_the_cpu_peak_is_measured_once_and_then_read_from_the_host_cache(measured):
    assert training_peak("cpu", "fp32", 2).gflops is None  # a job never measures
    first = training_peak("cpu", "fp32", 2, measure_by="suite run")
    again = training_peak("cpu", "fp32", 2, measure_by="suite run")
    assert measured == [("fp32", 2)]
    assert first.measured_now and not again.measured_now and first.gflops == again.gflops == 50.0
    assert first.stored and again.stored
    assert "by suite run" in again.source and training_peak("cpu", "fp32", 2).gflops == 50.0
    assert training_peak("cpu", "fp32", 1).gflops is None  # another thread count is another key


def test_a_busy_machines_cpu_peak_is_used_but_not_stored(measured, monkeypatch):
    monkeypatch.setattr("suite.timing.ondevice.timing_protocol.sample_load", _load(1.9))
    peak = training_peak("cpu", "fp32", 2, measure_by="suite run")
    assert peak.gflops == 50.0 and not peak.stored and peak.source.endswith("busy machine: not stored")
    assert hostcache.read(cpu_peak.KIND, cpu_peak.cache_key("fp32", 2)) is None  # not kept for later runs
    this_run = cpu_peak.cached("fp32", 2)  # the jobs of the run that measured it, in this process, read it marked
    assert this_run is not None and not this_run.stored and "busy machine" in this_run.source


def test_a_corrupt_cpu_peak_cache_is_a_miss_not_an_error(measured, tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / f"{cpu_peak.KIND}.json").write_text("{not json")
    assert training_peak("cpu", "fp32", 2).source.startswith("peak unknown")
    assert training_peak("cpu", "fp32", 2, measure_by="suite run").gflops == 50.0 and len(measured) == 1
    entries = json.loads((folder / f"{cpu_peak.KIND}.json").read_text())
    entries = {key: {"gflops": "fast"} for key in entries}  # readable JSON, a value that is no measurement
    (folder / f"{cpu_peak.KIND}.json").write_text(json.dumps(entries))
    assert cpu_peak.cached("fp32", 2) is None


def test_the_cpu_matmul_gives_a_positive_rate():
    entry = cpu_peak.measure("fp32", 1, seconds=0.0)
    assert entry["gflops"] > 0 and entry["repetitions"] == 3 and entry["n"] == 1024


# --- where a run shows it ---------------------------------------------------------------------------------------

def test_a_finished_run_carries_its_throughput_to_status_export_and_the_log(tmp_path, capsys):
    fakes = Fakes(train_seconds=2.0, peak_gflops=100.0)  # 200 images in 2 s; fake complete count: 0.1 GFLOP
    plan, _ = run(config(tmp_path, models=("threshnet79",)), fakes)
    assert fakes.calls[0] == "peak" and fakes.peaks[0][3] == "suite run"  # the driver's, before any training
    assert [p[3] for p in fakes.peaks[1:]] == [None]  # the job only reads it
    (status,) = json.loads(_out(capsys, "status", str(plan.run_dir), "--json"))
    rate = status["jobs"][0]["throughput"]
    assert rate["images_per_s"] == pytest.approx(100.0) and rate["gflop_per_image"] == pytest.approx(0.1)
    assert rate["achieved_gflops"] == pytest.approx(30.0) and rate["share_of_peak"] == pytest.approx(0.3)
    assert rate["peak_source"] == "declared by the test's backends" and rate["rule"] == RULE
    text = _out(capsys, "status", str(plan.run_dir))
    assert "GFLOP/s" in text and "% peak" in text and "30.0" in text and "declared by the test" in text
    (row,) = json.loads(_out(capsys, "export", str(plan.run_dir), "--format", "json"))
    assert row["achieved_gflops"] == pytest.approx(30.0) and row["share_of_peak"] == pytest.approx(0.3)
    assert row["peak_gflops"] == 100.0 and row["throughput_rule"] == RULE
    log = (plan.run_dir / "logs" / "run.log").read_text()
    assert "measured this host's CPU peak before training" in log
    assert "100 img/s, 30.0 GFLOP/s = 30.0 % of the 100 GFLOP/s fp32 peak" in log


def test_status_shows_a_training_jobs_throughput_from_its_last_epoch(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    write_json_atomic(run_dir / "manifest.json", {
        "run_name": "r", "table": "threshnet-3", "dataset": "cifar10", "models": [{"model": "a", "row": "A"}],
        "seeds": [0], "invocations": [{"started": "2026-01-01T00:00:00+00:00", "host": "elsewhere", "pid": 1,
                                       "models": ["a"], "seeds": [0]}]})
    job = run_dir / "work" / "a" / "seed0"
    job.mkdir(parents=True)
    write_json_atomic(job / "progress.json", {
        "attempt": "x", "epochs": 4, "started": "2026-01-01T00:00:00+00:00",
        "throughput_basis": basis(0.2, Peak(60.0, "bf16", "measured here")),
        "history": [{"epoch": 1, "seconds": 5.0, "images_per_s": 50.0, "test_error_pct": 80.0}]})
    (only,) = run_status(run_dir).jobs
    assert only.state == "training" and only.throughput is not None
    assert only.throughput.achieved_gflops == pytest.approx(30.0)  # 3 x 0.2 GFLOP x 50 img/s
    assert only.throughput.share_of_peak == pytest.approx(0.5) and only.throughput.peak_precision == "bf16"


def _out(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out
