"""`suite status` on run directories built by the fake backends or written by hand: states, reasons, estimates."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from run_fakes import Fakes, config, run

from suite.cli import main
from suite.run.store import write_json_atomic
from suite.watch.status import run_status

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)


def _ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat(timespec="seconds")


def _status_json(capsys, *args) -> list[dict]:
    capsys.readouterr()
    assert main(["status", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_finished_run_with_a_failed_job_names_its_reason(tmp_path, capsys):
    plan, _ = run(config(tmp_path), Fakes(broken={"hardnet68"}))
    (status,) = _status_json(capsys, "--results", str(tmp_path / "results"))
    jobs = {j["model"]: j for j in status["jobs"]}
    assert status["driver"] == "finished" and status["eta_s"] == 0.0
    assert jobs["hardnet68"]["state"] == "failed" and "hardnet68 exploded" in jobs["hardnet68"]["reason"]
    assert jobs["hardnet68"]["text"].startswith("failed: ")
    assert {jobs[m]["state"] for m in ("threshnet79", "ghostnet")} == {"done"}
    # by name under --results, and the plain (non-terminal) table
    assert main(["status", plan.run_dir.name, "--results", str(tmp_path / "results")]) == 0
    text = capsys.readouterr().out
    assert "failed: " in text and "hardnet68" in text and "ETA" in text and "\x1b[" not in text


def _hand_made_run(tmp_path, *, pid: int, epochs_of_a0: int, slots: int = 2):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    manifest = {"run_name": "r", "table": "threshnet-3", "dataset": "cifar10", "epochs": 10,
                "models": [{"model": "a", "row": "A"}, {"model": "b", "row": "B"}], "seeds": [0, 1],
                "invocations": [{"started": _ago(100), "host": socket.gethostname(), "pid": pid,
                                 "models": ["a", "b"], "seeds": [0, 1], "executor": {"name": "gpus", "slots": slots}}]}
    write_json_atomic(run_dir / "manifest.json", manifest)
    history = [{"epoch": e, "seconds": 5.0, "images_per_s": 100.0, "test_error_pct": 50.0}
               for e in range(1, epochs_of_a0 + 1)]
    for seed, hist, started in ((0, history, 40), (1, [], 3)):
        job = run_dir / "work" / "a" / f"seed{seed}"
        job.mkdir(parents=True)
        write_json_atomic(job / "progress.json", {"attempt": f"x{seed}", "model": "a", "seed": seed, "epochs": 10,
                                                  "started": _ago(started), "updated": _ago(2), "history": hist})
    return run_dir


def test_running_run_estimates_jobs_without_epochs_from_measured_ones(tmp_path):
    run_dir = _hand_made_run(tmp_path, pid=os.getpid(), epochs_of_a0=2)
    status = run_status(run_dir, now=NOW)
    jobs = {(j.model, j.seed): j for j in status.jobs}
    assert status.driver == "running"
    a0, a1, b0 = jobs[("a", 0)], jobs[("a", 1)], jobs[("b", 0)]
    assert (a0.state, a0.epochs_done, a0.text) == ("training", 2, "training, epoch 3 of 10")
    assert a0.remaining_s == pytest.approx(8 * 5.0 - 2.0)  # the epoch in progress has run 2 s
    assert a0.estimate is None and a0.images_per_s == 100.0
    assert a1.state == "training" and a1.remaining_s == pytest.approx(50.0)
    assert a1.estimate == "other seeds of this model"
    assert b0.state == "waiting" and b0.remaining_s == pytest.approx(50.0) and "mean epoch" in b0.estimate
    total = 38.0 + 50.0 + 50.0 + 50.0
    assert status.eta_s == pytest.approx(max(total / 2, 50.0)) and "estimates" in status.eta_basis
    assert status.images_per_s == pytest.approx(100.0)


def test_before_any_epoch_the_first_epoch_gives_a_lower_bound(tmp_path):
    run_dir = _hand_made_run(tmp_path, pid=os.getpid(), epochs_of_a0=0)
    status = run_status(run_dir, now=NOW)
    a0 = next(j for j in status.jobs if (j.model, j.seed) == ("a", 0))
    # 40 s into its first epoch: each of the 9 later epochs takes at least that long
    assert a0.remaining_s == pytest.approx(9 * 40.0) and a0.lower_bound and a0.estimate.startswith("at least")
    assert status.eta_s is None and status.eta_basis == "no epoch measured yet"  # waiting jobs: nothing to go on


def test_a_killed_driver_leaves_its_jobs_stopped(tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    run_dir = _hand_made_run(tmp_path, pid=dead.pid, epochs_of_a0=3, slots=1)
    (status,) = _status_json(capsys, str(run_dir))
    jobs = {(j["model"], j["seed"]): j for j in status["jobs"]}
    assert status["driver"] == "stopped"
    assert jobs[("a", 0)]["state"] == "stopped" and jobs[("a", 0)]["text"] == "stopped after epoch 3 of 10"
    assert jobs[("b", 1)]["state"] == "stopped" and jobs[("b", 1)]["text"] == "not started"
    assert "driver is not running" in status["eta_basis"]


def test_unknown_run_is_one_line_exit_2(tmp_path, capsys):
    run(config(tmp_path), Fakes())
    capsys.readouterr()
    assert main(["status", "nope", "--results", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown run 'nope'") and err.count("\n") == 1
    assert main(["status", "--results", str(tmp_path / "missing")]) == 2
    assert main(["status", "--results", str(tmp_path / "results"), "--watch", "0"]) == 2


def test_left_column_shows_time_to_go_or_unknown_and_users_rows_as_yours(tmp_path, capsys):
    from suite.commands.status import left_text

    run_dir = _hand_made_run(tmp_path, pid=os.getpid(), epochs_of_a0=0)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["models"].append({"model": "mynet", "row": None})
    manifest["invocations"][0]["models"].append("mynet")
    manifest["user_models"] = [{"path": "mine.py", "models": ["mynet"]}]
    write_json_atomic(run_dir / "manifest.json", manifest)
    status = run_status(run_dir, now=NOW)
    jobs = {(j.model, j.seed): j for j in status.jobs}
    assert left_text(jobs[("a", 0)]) == ">= 6 min 00 s*"  # 9 later epochs of at least 40 s each
    assert left_text(jobs[("b", 0)]) == "unknown"  # no epoch anywhere: nothing to estimate from
    assert jobs[("mynet", 0)].user_model and not jobs[("a", 0)].user_model
    capsys.readouterr()
    assert main(["status", str(run_dir)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "mynet" in line]
    assert lines and all(line.split()[0] == "(yours)" for line in lines)


def test_a_one_epoch_job_before_its_first_epoch_has_no_estimate(tmp_path):
    run_dir = _hand_made_run(tmp_path, pid=os.getpid(), epochs_of_a0=0)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["epochs"] = 1
    write_json_atomic(run_dir / "manifest.json", manifest)
    for seed in (0, 1):
        progress = run_dir / "work" / "a" / f"seed{seed}" / "progress.json"
        write_json_atomic(progress, json.loads(progress.read_text()) | {"epochs": 1})
    a0 = next(j for j in run_status(run_dir, now=NOW).jobs if (j.model, j.seed) == ("a", 0))
    assert a0.remaining_s is None  # never the time it has run so far
