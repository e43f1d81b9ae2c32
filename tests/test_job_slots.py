"""CPU job slots of the local executor (``suite run --jobs N|auto``): the choice, the run's identity, the estimate,
and one real two-slot run killed on its driver and resumed to the same weights as an uninterrupted one."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_fakes import Fakes, config, session_processes

from suite.run import prepare
from suite.run.plan import estimate_wall
from suite.run.slots import JobSlots, ProbeResult, choose, resolve
from suite.watch.estimate import by_jobs

REPO = Path(__file__).resolve().parents[1]


def _probe(rates: dict[int, float], busy: str | None = None):
    calls: list[list[tuple[int, int]]] = []

    def probe(rounds, cores, pin):
        calls.append(list(rounds))
        return ProbeResult({k: rates[k] for k, _ in rounds if k in rates}, busy)

    return probe, calls


def _resolve(jobs, probe=None, *, device="cpu", threads=None, preset_jobs=1):
    return resolve(jobs, preset_jobs=preset_jobs, preset_name="paper", executor="local", device=device,
                   threads=threads, probe=probe)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores")
def test_auto_takes_the_measured_best_slot_count_and_ties_go_to_fewer():
    probe, calls = _probe({1: 100.0, 2: 125.0})
    slots = _resolve("auto", probe)
    assert slots.count == 2 and slots.threads is not None and slots.speedups[2] == pytest.approx(1.25)
    assert slots.origin == "auto: probe measured 1.25x for 2 slots"
    assert calls[0][0][0] == 1  # the baseline: one process of all threads
    tie, _ = _probe({1: 100.0, 2: 103.0})
    assert _resolve("auto", tie).count == 1  # within the noise margin: fewer slots
    assert choose({1: 1.0, 2: 1.3, 4: 1.32}) == 2
    assert _resolve(None, probe, preset_jobs="auto").origin.startswith("auto: probe measured")
    loaded, _ = _probe({1: 100.0, 2: 300.0}, busy="load average 7.2 on 2 cores")
    assert "measured while the machine was busy (load average 7.2 on 2 cores): remove " in \
        _resolve("auto", loaded).origin


def test_auto_is_one_slot_on_a_gpu_and_without_a_probe():
    probe, calls = _probe({1: 100.0, 2: 200.0})
    gpu = _resolve("auto", probe, device="cuda")
    assert gpu.count == 1 and "--executor gpus --jobs-per-gpu" in gpu.origin and calls == []
    assert _resolve("auto", None).count == 1


def test_slot_threads_name_the_run_only_when_chosen(tmp_path, monkeypatch):
    import suite.run.slots as slots_module

    monkeypatch.setattr(slots_module, "usable_cores", lambda: [0, 1, 2, 3])
    b = Fakes().backends()
    names = {jobs_threads: prepare(config(tmp_path, jobs=jobs_threads[0], threads=jobs_threads[1]), b).run_dir
             for jobs_threads in [(None, None), (None, 2), ("1", None), ("1", 1), ("2", 1), ("2", 2), (2, 2)]}
    assert names[(None, None)] == names[(None, 2)]  # the default: --threads alone keeps today's names
    assert names[(2, 2)] == names[("2", 2)]  # the same choice, the same run
    assert names[("1", 1)] == names[("2", 1)]  # one thread per job trains the same weights beside another job
    assert len({names[(None, None)], names[("2", 1)], names[("2", 2)]}) == 3  # other threads per job, other run
    assert names[("1", None)] != names[(None, None)]  # --jobs given: its threads name the run
    plan = prepare(config(tmp_path, jobs=2, threads=2), b)
    assert plan.slots.count == 2 and plan.slots.threads == 2 and "(--jobs)" in plan.slots.text()


def test_wall_time_packs_the_jobs_onto_slots_slowed_by_sharing_the_cores():
    per_model = {"a": 300.0, "b": 100.0, "c": 100.0, "d": 100.0}
    assert estimate_wall(per_model, 1) == 600.0
    assert estimate_wall(per_model, 2) == 300.0  # longest first: a | b c d
    # two CPU slots measured 1.2x together: each job runs 2 / 1.2 times longer than alone
    assert estimate_wall(per_model, 2, speedup=1.2) == pytest.approx(500.0)
    line = by_jobs(per_model, 1, {1: 1.0, 2: 1.2}, 2, lambda s: f"{s:.0f} s")
    assert line is not None and line.endswith("--jobs 1: 600 s, --jobs 2: 500 s (chosen)")
    assert by_jobs(per_model, 1, {}, 1, str) is None


def test_the_estimate_states_the_wall_time_of_each_jobs_choice(tmp_path, monkeypatch):
    from dataclasses import replace

    from rich.console import Console

    import suite.run.slots as slots_module
    from suite.run.executors import CpuSlotsExecutor
    from suite.watch import display

    monkeypatch.setattr(slots_module, "usable_cores", lambda: [0, 1])
    monkeypatch.setattr(slots_module, "default_threads", lambda count: max(1, 2 // count))  # a 2-core machine
    probe, _ = _probe({1: 100.0, 2: 120.0})
    backends = replace(Fakes().backends(), time_train_step=lambda *args: 0.5, scaling_probe=probe)
    plan = prepare(config(tmp_path, jobs="auto", models=("threshnet79", "hardnet68")), backends)
    executor = CpuSlotsExecutor(plan, backends, plan.slots)  # its workers start with the first training only
    out = io.StringIO()
    try:
        display.banner(Console(file=out, width=400), plan, executor)
        display.print_estimate(Console(file=out, width=400), plan, backends, executor)
    finally:
        executor.close()
    text = out.getvalue()
    assert "executor local: 2 slots x 1 thread(s)" in text and "(auto: probe measured 1.20x for 2 slots)" in text
    assert "by --jobs (probe speed-ups 1.00x, 1.20x): --jobs 1: " in text and ", --jobs 2: " in text
    assert text.count("(chosen)") == 1


def test_the_banner_states_slots_threads_pinning_and_origin():
    pinned = JobSlots(2, 1, ((0,), (1,)), "auto: probe measured 1.20x for 2 slots")
    assert pinned.text() == "2 slots x 1 thread(s), pinned to cores 0, 1 (auto: probe measured 1.20x for 2 slots)"
    loose = JobSlots(2, 2, (), "--jobs", True, unpinned_reason="this OS does not let a process choose its cores")
    assert "unpinned (this OS does not let" in loose.text()
    assert JobSlots(origin="smoke preset").text() == "1 slot (in this process, one thread per physical core; " \
                                                     "smoke preset)"


# --- a real two-slot run: killed on its driver after the first epoch checkpoint, resumed ------------------------

# one small model, two seeds: two jobs for the two slots, its complexity profiled once per run
ARGS = ["run", "--table", "3", "--models", "squeezenet_cifar", "--seeds", "0,1", "--preset", "smoke", "--epochs",
        "2", "--train-subset", "40", "--test-subset", "20", "--hardware", "rpi4", "--jobs", "2",
        "--keep-checkpoints"]


def _epochs_done(job: Path) -> int:
    try:
        return len(json.loads((job / "progress.json").read_text())["history"])
    except (OSError, ValueError, KeyError):
        return 0



def _run_in_process(argv: list[str]) -> None:
    from suite.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0


def _weights(run_dir: Path) -> dict[str, dict]:
    import torch

    out = {}
    for path in sorted(run_dir.glob("work/*/seed*/*.pt")):
        out[path.parent.name] = torch.load(path, map_location="cpu", weights_only=True)["model"]
    return out


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores")
def test_two_slots_killed_and_resumed_train_the_same_weights_and_never_time_while_training(cifar10_root,
                                                                                            tmp_path):
    out = tmp_path / "results"
    common = [*ARGS, "--data-dir", str(cifar10_root), "--out", str(out)]
    killed_dir = out / "killed"
    driver = subprocess.Popen([sys.executable, "-m", "suite", *common, "--run-name", "killed"], cwd=tmp_path,
                              env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    jobs = [killed_dir / "work" / "squeezenet_cifar" / f"seed{s}" for s in (0, 1)]
    try:
        deadline = time.monotonic() + 300
        while not any(_epochs_done(j) >= 1 for j in jobs) and driver.poll() is None:
            assert time.monotonic() < deadline, "no epoch within 300 s"
            time.sleep(0.02)
        driver.send_signal(signal.SIGKILL)  # the driver only: its workers must die with it
    finally:
        driver.kill()
        driver.wait()
    deadline = time.monotonic() + 20
    while session_processes(driver.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not session_processes(driver.pid), "a worker outlived its killed driver"
    unfinished = [j for j in jobs if not (j / "result.json").exists()]
    assert unfinished and any(list(j.glob("*.pt")) for j in unfinished), "nothing left to resume"

    _run_in_process([*common, "--run-name", "killed"])
    _run_in_process([*common, "--run-name", "whole"])
    resumed, whole = _weights(killed_dir), _weights(out / "whole")
    assert sorted(resumed) == sorted(whole) == ["seed0", "seed1"]
    for seed, state in whole.items():
        assert state.keys() == resumed[seed].keys()
        assert all((state[k] == resumed[seed][k]).all() for k in state), f"{seed}: other weights after resume"
    assert any((whole["seed0"][k] != whole["seed1"][k]).any() for k in whole["seed0"])  # a comparison that can fail

    for run in (killed_dir, out / "whole"):
        records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
        assert {r["status"] for r in records} == {"ok"}
        trains = [r["worker"]["train"] for r in records]
        times = [r["worker"]["time"] for r in records]
        assert sorted(t["slot"] for t in trains) == ["cpu0", "cpu1"] and {t["threads"] for t in trains} == {1}
        assert all(len(t["pinned_cores"]) == 1 for t in trains)
        for timing in times:  # nothing of the run trained while a model was timed
            assert not any(t["began"] < timing["ended"] and timing["began"] < t["ended"] for t in trains)
        manifest = json.loads((run / "manifest.json").read_text())
        executor = manifest["invocations"][-1]["executor"]
        assert executor["jobs"] == 2 and [s["name"] for s in executor["slot_specs"]] == ["cpu0", "cpu1"]
