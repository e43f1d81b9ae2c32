"""`suite run --executor ray` on real CIFAR-10: driver kills end in the lines of a local run; a lost node.

Ray is a test dependency (pyproject's [test] extra pulls in [ray]); each test starts its own small Ray
instance (2 CPUs, or a head and one worker node) and sizes its jobs to a few images and epochs, so that the
file stays in minutes on a 2-core machine. Training numbers are compared at one thread per job (--threads 1):
the thread count changes the order of float sums in CPU kernels, so it is part of what makes runs identical.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from run_fakes import session_processes

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e \".[ray]\"")

REPO = Path(__file__).resolve().parents[1]
KILL_MODELS = "squeezenet_cifar,shufflenetv2_cifar,ghostnet,tinynet"  # tinynet: a user's model file (examples/)
TINY = ("--preset", "smoke", "--epochs", "2", "--train-subset", "20", "--test-subset", "10")


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                RAY_ADDRESS="", CUDA_VISIBLE_DEVICES="")


def _suite(*args: str, cwd: Path, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "suite", "run", *args], capture_output=True, text=True,
                          cwd=cwd, env=_env(), timeout=timeout)


def _lines(out: Path) -> list[dict]:
    (results,) = out.glob("*/results.jsonl")
    return [json.loads(t) for t in results.read_text().splitlines() if t.strip()]


def _numbers(line: dict) -> dict:
    """What must not change with the executor, a kill or a resume: the training numbers and the weights."""
    train = line["train"] or {}
    history = [{k: h.get(k) for k in ("epoch", "lr", "train_loss", "train_error_pct", "test_loss",
                                      "test_error_pct")} for h in train.get("history", [])]
    return {"status": line["status"], "summary": line["summary"], "weights": train.get("weights_sha256"),
            "error_final_pct": train.get("error_final_pct"), "error_best_pct": train.get("error_best_pct"),
            "history": history}


def _snapshot(out: Path) -> dict[str, str]:
    """Key -> attempt of every result.json on disk right now."""
    found = {}
    for path in out.glob("*/work/*/seed*/result.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        found[record["key"]] = record["attempt"]
    return found



def _poll(condition, proc: subprocess.Popen | None, timeout: float = 600) -> bool:
    """Wait until ``condition()`` holds (True), or the process ends or the time is up (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc is not None and proc.poll() is not None:
            return condition()
        time.sleep(0.05)
    return False


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_ray_after_two_driver_kills_gives_the_local_lines_one_per_key(cifar10_root, tmp_path):
    """Ray, killed mid-training and after a finished job, then run to the end, gives exactly the lines of an
    uninterrupted local run (the training numbers and weights), a user's model file included."""
    import torch

    import zoo.user
    from suite import usermodels
    from suite.run import RunConfig, Runner, prepare, real_backends

    outside = tmp_path / "elsewhere"  # the user's file outside the repository, as a researcher keeps it
    outside.mkdir()
    mine = outside / "my_models.py"
    shutil.copyfile(REPO / "examples" / "my_models.py", mine)
    args = ("--models-from", str(mine), "--models", KILL_MODELS, *TINY, "--hardware", "cpu", "--threads", "1",
            "--data-dir", str(cifar10_root))
    # the uninterrupted reference: the local executor in this process, one thread
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cfg = RunConfig(models=tuple(KILL_MODELS.split(",")), preset="smoke", epochs=2, train_subset=20,
                        test_subset=10, hardware="cpu", threads=1, data_dir=str(cifar10_root),
                        out=str(tmp_path / "reference"), models_from=usermodels.load([str(mine)]))
        backends = real_backends()
        Runner(prepare(cfg, backends), backends).execute()
    finally:
        torch.set_num_threads(threads)
        zoo.user.forget()  # the file is loaded again from the spec below
    reference = {r["key"]: r for r in _lines(tmp_path / "reference")}
    assert len(reference) == 4 and all(r["executor"] == "local" for r in reference.values())

    out = tmp_path / "ray"
    kept: dict[str, str] = {}  # result.json that existed before a kill: must end up as the key's line
    # two kills at fixed points: mid-training (a first epoch's checkpoint on disk), then after a finished job
    for point in (lambda: any(out.glob("*/work/*/seed*/*.pt")), lambda: bool(_snapshot(out))):
        proc = subprocess.Popen([sys.executable, "-m", "suite", "run", *args, "--executor", "ray", "--out",
                                 str(out)], cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        assert _poll(point, proc), "the driver ended before the kill point"
        kept.update(_snapshot(out))
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its local Ray instance, all at once
        proc.wait(timeout=60)
        _poll(lambda session=proc.pid: not session_processes(session), None, timeout=30)
    assert kept, "no job had finished before the last kill"
    final = _suite(*args, "--executor", "ray", "--out", str(out), cwd=tmp_path)
    assert final.returncode == 0, final.stderr[-3000:]
    slots = os.cpu_count() or 1  # one thread per job
    assert "Traceback" not in final.stderr and f"executor ray: {slots} slot(s)" in final.stderr
    lines = _lines(out)
    finished = [r for r in lines if r["status"] in ("ok", "diverged")]
    assert sorted(r["key"] for r in finished) == sorted(reference)  # exactly one finished line per key
    assert len({r["attempt"] for r in lines}) == len(lines)  # never two lines for one attempt
    for r in finished:
        assert _numbers(r) == _numbers(reference[r["key"]]), r["key"]
        assert r["train"]["weights_sha256"]
        assert r["executor"] == "ray" and r["worker"]["train"]["threads"] == 1
        assert r["latency"]["cpu"]["context"]["executor"] == "ray"
        if r["key"] in kept:  # harvested (or already appended), never trained or timed again
            assert r["attempt"] == kept[r["key"]], r["key"]
    (user,) = [r for r in finished if r["model"] == "tinynet"]
    assert user["user_model"]["path"] == str(mine)
    assert user["user_model"]["sha256"] == reference[user["key"]]["user_model"]["sha256"]
    # the run directory is named for the numbers, not for the executor
    assert [p.name for p in out.iterdir()] == [p.name for p in (tmp_path / "reference").iterdir()]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_lost_node_is_replaced_and_the_job_resumes_from_its_checkpoint(cifar10_root, tmp_path):
    from ray.cluster_utils import Cluster

    from suite.run import RESULTS, RunConfig, Runner, prepare, read_jsonl, real_backends
    from suite.run.executors.ray import RayExecutor

    fast_health = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500,
                   "health_check_failure_threshold": 3}
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                            "_system_config": fast_health})
    try:
        worker = cluster.add_node(num_cpus=1, num_gpus=1)  # a fake GPU: the job needs one, so it runs here
        cluster.wait_for_nodes()
        cfg = RunConfig(models=("squeezenet_cifar",), preset="smoke", epochs=4, train_subset=100, test_subset=10,
                        hardware="cpu", threads=1, data_dir=str(cifar10_root), out=str(tmp_path / "results"),
                        executor="ray", max_attempts=3)
        backends = real_backends()
        plan = prepare(cfg, backends)
        ex = RayExecutor(address=cluster.address, threads=1, max_attempts=3).connect()
        assert ex.use_gpu and ex.slots == 1
        first_epoch = threading.Event()
        outcome: dict = {}

        def events(kind, info):
            if kind == "epoch" and info.get("epoch") == 1:
                first_epoch.set()

        def drive():
            try:
                outcome["result"] = Runner(plan, backends, executor=ex, events=events).execute()
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome["error"] = exc

        driver = threading.Thread(target=drive)
        driver.start()
        assert first_epoch.wait(600), "the job never finished its first epoch"
        cluster.remove_node(worker)  # mid-job: epoch 1's checkpoint is written, epoch 2 is training
        time.sleep(2.0)
        cluster.add_node(num_cpus=1, num_gpus=1)
        driver.join(900)
        assert not driver.is_alive() and "error" not in outcome, outcome
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    (only,) = outcome["result"]
    assert only.status == "ok", only.record.get("reason")
    lines = read_jsonl(plan.run_dir / RESULTS)[0]
    assert len(lines) == 1
    train = lines[0]["train"]
    assert train["epochs"] == 4 and train["resumed_at"] and train["resumed_at"][0] >= 1  # not from scratch
    assert lines[0]["worker"]["train"]["cuda_visible_devices"] == "0"  # Ray gave it the (fake) GPU
