"""The gpus executor on a CPU machine: fake GPU ids, real worker subprocesses, sleep-based fake jobs.

What is checked is behaviour (each worker sees its own CUDA_VISIBLE_DEVICES, one job per slot at a time, two
slots overlap, a dead worker is replaced and its job resumed, nothing is timed while something trains), with
generous bounds: these are not speed goals.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from run_fakes import FakeDataset, FakeProfile, FakeRecipe

from suite.run import RESULTS, Backends, RunConfig, Runner, prepare, read_jsonl
from suite.run.executors.gpus import GpusExecutor
from suite.run.job import Task

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
MODELS = ("threshnet79", "hardnet68", "ghostnet")


def _env(**extra) -> dict:
    # the workers import this module by name (the fakes below are pickled by reference)
    return {"PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO), os.environ.get("PYTHONPATH", "")]), **extra}


# --- fakes that run inside the worker subprocesses ------------------------------------------------------------

def sleep_job(seconds: float) -> dict:
    start = time.time()
    time.sleep(seconds)
    return {"pid": os.getpid(), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "slot": os.environ.get("SUITE_WORKER_SLOT"), "start": start, "end": time.time()}


def _log(what: str, model: str, t0: float, t1: float) -> None:
    line = json.dumps({"what": what, "model": model, "start": t0, "end": t1, "pid": os.getpid(),
                       "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}) + "\n"
    fd = os.open(os.environ["FAKE_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def fake_backends() -> Backends:
    """Backends whose training sleeps; a model named in $FAKE_CRASH kills its worker once, mid-training."""

    def train(model, dataset, recipe, *, seed, work_dir, on_epoch_end=None, **kw):
        t0 = time.time()
        marker = Path(work_dir) / "epoch1.ckpt"  # stands for the engine's epoch checkpoint
        resumed = marker.exists()
        time.sleep(0.5)
        marker.write_text("1")
        if on_epoch_end is not None:
            on_epoch_end({"epoch": 1, "test_error_pct": 50.0})
        if model in os.environ.get("FAKE_CRASH", "").split(",") and not resumed:
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies after its first epoch checkpoint
        time.sleep(0.5)
        _log("train", model, t0, time.time())
        return {"model": model, "status": "ok", "error_best_pct": 40.0, "error_final_pct": 41.0, "epochs": 2,
                "resumed_at": [1] if resumed else [], "pid": os.getpid()}

    def latency(model, head, profile, **kw):
        t0 = time.time()
        time.sleep(0.2)
        _log("time", model, t0, time.time())
        return {"per_image_ms": 5.0, "predicted": False, "threads": 1}

    def load(name, **kw):
        return FakeDataset(name=name, train_count=100, test_count=50, meta={"fingerprint": "fake"})

    return Backends(model_names=lambda: [*MODELS], dataset_names=lambda: ["cifar10"], load_dataset=load,
                    get_recipe=lambda name, **o: FakeRecipe(name, epochs=2),
                    train_and_evaluate=train,
                    complexity=lambda model, head, size: {"torchstat": {"params": 1}},
                    parse_profiles=lambda text, threads=None: [FakeProfile("cpu")],
                    latency=latency)


# --- tests ----------------------------------------------------------------------------------------------------

def _drain(ex: GpusExecutor, n: int, timeout: float = 120.0) -> list:
    done, deadline = [], time.monotonic() + timeout
    while len(done) < n and time.monotonic() < deadline:
        done += ex.wait(0.5)
    assert len(done) == n, f"{len(done)} of {n} tasks came back"
    return done


@pytest.mark.slow
def test_each_slot_sees_its_gpu_runs_one_job_at_a_time_and_slots_overlap(tmp_path):
    ex = GpusExecutor(gpus=["0", "1"], jobs_per_gpu=1, threads=1, log_dir=tmp_path / "logs", env=_env())
    try:
        ex.start(lambda event: None)
        for i in range(2):  # warm both workers first: their start-up (importing torch) is not the point
            ex.submit(Task("call", fn=sleep_job, args=(0.0,), id=100 + i))
        _drain(ex, 2)
        seconds, jobs = 1.0, 6
        t0 = time.monotonic()
        pending = [Task("call", fn=sleep_job, args=(seconds,), id=i) for i in range(jobs)]
        results = []
        while pending or len(results) < jobs:
            while pending and ex.free():
                ex.submit(pending.pop(0))
            results += [d.value for d in ex.wait(0.5)]
        wall = time.monotonic() - t0
    finally:
        ex.close()
    assert {(r["slot"], r["cuda"]) for r in results} == {("gpu0-0", "0"), ("gpu1-0", "1")}
    by_pid: dict[int, list] = {}
    for r in results:
        by_pid.setdefault(r["pid"], []).append((r["start"], r["end"]))
    assert len(by_pid) == 2
    for spans in by_pid.values():  # at most one job per slot at a time
        spans.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
    (a, b) = by_pid.values()
    assert any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)  # the two slots ran at the same time
    serial = seconds * jobs
    assert 0.4 * serial < wall < 0.8 * serial, f"wall {wall:.2f} s for {serial:.0f} s of sleeping jobs"


def _config(tmp_path: Path, **kw) -> RunConfig:
    return RunConfig(**({"preset": "smoke", "out": str(tmp_path / "results"), "models": MODELS,
                         "hardware": "cpu", "max_attempts": 3} | kw))


@pytest.mark.slow
def test_a_run_on_two_gpu_slots_resumes_a_dead_worker_and_never_times_while_training(tmp_path):
    log = tmp_path / "fake.log"
    backends = fake_backends()
    plan = prepare(_config(tmp_path), backends)
    ex = GpusExecutor(gpus=["0", "1"], threads=1, log_dir=plan.run_dir / "logs",
                      env=_env(FAKE_LOG=str(log), FAKE_CRASH="hardnet68"))
    events: list[tuple[str, dict]] = []
    outcomes = Runner(plan, backends, executor=ex, backends_factory=fake_backends,
                      events=lambda kind, info: events.append((kind, info))).execute()
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"], [o.record.get("reason") for o in outcomes]
    lines = read_jsonl(plan.run_dir / RESULTS)[0]
    assert sorted(r["model"] for r in lines) == sorted(MODELS)  # one line each, the crash included
    hard = next(r for r in lines if r["model"] == "hardnet68")
    assert hard["train"]["resumed_at"] == [1]  # the new worker resumed from the dead one's checkpoint
    assert hard["worker"]["train"]["cuda_visible_devices"] in ("0", "1")
    assert hard["latency"]["cpu"]["context"]["cuda_visible_devices"] in ("0", "1")
    spans = [json.loads(t) for t in log.read_text().splitlines()]
    trains = [s for s in spans if s["what"] == "train"]
    timings = [s for s in spans if s["what"] == "time"]
    assert len(trains) == 3 and len(timings) == 3
    for t in timings:  # nothing of the run trained while a model was timed
        assert not any(s["start"] < t["end"] and t["start"] < s["end"] for s in trains), (t, trains)
    assert {s["cuda"] for s in trains} == {"0", "1"}
    assert any(kind == "epoch" and info.get("slot") for kind, info in events)  # per-epoch progress came back
    assert (plan.run_dir / "logs" / "worker-gpu0-0.log").is_file()
