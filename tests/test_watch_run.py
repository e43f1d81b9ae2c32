"""Watching a run: a tiny real run, seen by `suite status` while it trains, after a kill and once resumed to its end;
its live TensorBoard curves served by a real server, with no step written twice."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real run, killed and resumed, and a TensorBoard server

REPO = Path(__file__).resolve().parents[1]
MODELS = ("squeezenet_cifar", "shufflenet_cifar")
EPOCHS = 2


def _command(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "suite", "run", "--table", "3", "--models", ",".join(MODELS), "--preset",
            "smoke", "--epochs", str(EPOCHS), "--train-subset", "40", "--test-subset", "20", "--data-dir",
            str(data), "--out", str(out), "--hardware", "rpi4", "--run-name", "watch"]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO))


def _poll(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def _epochs_done(job: Path) -> int:
    try:
        return len(json.loads((job / "progress.json").read_text())["history"])
    except (OSError, ValueError, KeyError):
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _steps(tb_dir: Path, tag: str) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb_dir))
    acc.Reload()
    return [e.step for e in acc.Scalars(tag)]


def _raw_steps(tb_dir: Path, tag: str) -> list[int]:
    """Every point written under ``tag`` in every event file, purged or not (what a kill may leave)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    steps = []
    for path in sorted(tb_dir.glob("events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            steps += [event.step for v in event.summary.value if v.tag == tag]
    return steps


def _status(run_dir: Path) -> dict:
    from suite.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["status", str(run_dir), "--json"]) == 0
    (status,) = json.loads(buffer.getvalue())
    return status


@pytest.fixture(scope="module")
def watched(cifar10_root, tmp_path_factory):
    """The run killed once its last job finished epoch 1, then resumed; `suite status` at each stage."""
    tmp_path = tmp_path_factory.mktemp("watch")
    out = tmp_path / "results"
    run_dir = out / "watch"
    # the second model trains after the first; kill the driver once its first epoch (and checkpoint) is written
    last_job = run_dir / "work" / MODELS[-1] / "seed0"
    proc = subprocess.Popen(_command(cifar10_root, out), env=_env(), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        _poll(lambda: _epochs_done(last_job) >= 1 or proc.poll() is not None, 400, "the first epoch")
        running = _status(run_dir)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _epochs_done(last_job) == 1, "the run finished before it could be killed"
    assert not (last_job / "result.json").exists()
    killed = _status(run_dir)

    again = subprocess.run(_command(cifar10_root, out), env=_env(), cwd=tmp_path, capture_output=True, text=True,
                           timeout=400)
    assert again.returncode == 0, again.stderr[-3000:]
    return {"run_dir": run_dir, "running": running, "killed": killed, "finished": _status(run_dir)}


def _jobs(status: dict) -> dict[str, dict]:
    return {j["model"]: j for j in status["jobs"]}


def test_status_while_training_after_a_kill_and_at_the_end(watched):
    running, killed, finished = watched["running"], watched["killed"], watched["finished"]
    assert running["driver"] == "running"
    first, last = (_jobs(running)[m] for m in MODELS)
    assert first["state"] == "done" and first["remaining_s"] == 0.0
    assert last["state"] == "training" and last["epochs_done"] == 1 and last["epochs"] == EPOCHS
    assert last["text"] == f"training, epoch 2 of {EPOCHS}"
    assert last["images_per_s"] > 0 and last["epoch_s"] > 0 and last["estimate"] is None
    assert running["eta_s"] is not None and 0.0 <= running["eta_s"] <= last["epoch_s"]
    assert running["eta_basis"].startswith("measured epochs")
    assert running["counts"]["done"] == 1 and running["counts"]["training"] == 1

    assert killed["driver"] == "stopped"
    last = _jobs(killed)[MODELS[-1]]
    assert last["state"] == "stopped" and last["epochs_done"] == 1
    assert killed["eta_s"] == pytest.approx(last["epoch_s"]) and "driver is not running" in killed["eta_basis"]

    assert finished["driver"] == "finished" and finished["eta_s"] == 0.0
    assert {j["state"] for j in finished["jobs"]} == {"done"}
    assert all(j["epochs_done"] == EPOCHS for j in finished["jobs"])


@pytest.mark.timeout(600)
def test_killed_and_resumed_run_serves_one_curve_per_job(watched):
    run_dir = watched["run_dir"]
    lines = [json.loads(t) for t in (run_dir / "results.jsonl").read_text().splitlines() if t.strip()]
    assert {r["model"]: r["status"] for r in lines} == dict.fromkeys(MODELS, "ok")
    resumed = next(r for r in lines if r["model"] == MODELS[-1])
    assert resumed["train"]["resumed_at"] == [1]  # it really continued from the epoch-1 checkpoint
    assert not list(run_dir.rglob("*.pt"))  # a smoke run keeps no checkpoint of a finished job

    for model in MODELS:
        tb = run_dir / "work" / model / "seed0" / "tb"
        assert list(tb.glob("events.out.tfevents.*")), f"no event file for {model}"
        for tag in ("test/error_pct", "test/top5_error_pct", "train/loss", "train/error_pct", "train/lr",
                    "time/epoch_s", "time/images_per_s"):
            assert _steps(tb, tag) == list(range(1, EPOCHS + 1)), (model, tag)
    # the resumed job wrote step 1 again only behind a purge marker, and no step after it twice
    raw = _raw_steps(run_dir / "work" / MODELS[-1] / "seed0" / "tb", "test/error_pct")
    assert sorted(set(raw)) == [1, 2] and raw.count(2) == 1

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(run_dir), "--host",
                               "127.0.0.1", "--port", str(port), "--reload_interval", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    runs = {m: f"work/{m}/seed0/tb" for m in MODELS}
    try:
        def tags():
            if server.poll() is not None:
                raise AssertionError("tensorboard exited")
            try:
                found = _get(f"{base}/data/plugin/scalars/tags")
            except OSError:
                return None
            return found if all("test/error_pct" in found.get(r, {}) for r in runs.values()) else None

        _poll(tags, 120, "tensorboard to serve every job", interval=0.5)
        for model, run in runs.items():
            query = urllib.parse.urlencode({"run": run, "tag": "test/error_pct"})
            points = _get(f"{base}/data/plugin/scalars/scalars?{query}")
            assert [p[1] for p in points] == list(range(1, EPOCHS + 1)), model
            assert all(0.0 <= p[2] <= 100.0 for p in points)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
