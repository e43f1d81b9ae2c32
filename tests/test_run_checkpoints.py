"""Checkpoints of finished jobs: removed by the quick and smoke presets unless asked to keep them; the run
summary states the disk the run directory uses, a user's row as "(yours)" and an earlier job as done."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from rich.console import Console
from run_fakes import Fakes, config

from suite.run import Runner, prepare
from suite.run.runner import Outcome
from suite.train import checkpoint as ckpt
from suite.watch.display import disk_line
from suite.watch.display import print_summary as _summary


class CheckpointingFakes(Fakes):
    """Fake training that saves a checkpoint the way the engine names it; ``broken`` models fail after it."""

    def backends(self):
        b = super().backends()
        train = b.train_and_evaluate

        def saving(model, dataset, recipe, *, seed, work_dir, **kw):
            identity = {"model": model, "dataset": dataset.name, "seed": seed}
            ckpt.save_atomic({"weights": torch.zeros(256)}, ckpt.checkpoint_path(work_dir, identity))
            return train(model, dataset, recipe, seed=seed, work_dir=work_dir, **kw)

        return replace(b, train_and_evaluate=saving)


def _checkpoints(run_dir: Path) -> list[Path]:
    return sorted(run_dir.rglob("*.pt"))


def _run(tmp_path, fakes, keep: bool | None = None, **kw):
    plan = prepare(config(tmp_path, **kw), fakes.backends())
    if keep is not None:
        plan = replace(plan, preset=replace(plan.preset, keep_checkpoints=keep))
    return plan, Runner(plan, fakes.backends()).execute()


def test_smoke_run_keeps_no_checkpoint_of_a_finished_job(tmp_path):
    plan, outcomes = _run(tmp_path, CheckpointingFakes())
    assert [o.status for o in outcomes] == ["ok"] * 3
    assert _checkpoints(plan.run_dir) == []
    assert (plan.run_dir / "work").is_dir()  # the job folders and their records stay


def test_keep_checkpoints_keeps_one_per_job(tmp_path):
    plan, _ = _run(tmp_path, CheckpointingFakes(), keep=True)
    found = _checkpoints(plan.run_dir)
    assert len(found) == 3 and len({p.parent for p in found}) == 3


def test_paper_preset_keeps_checkpoints_and_quick_removes_them():
    from suite.run.presets import PRESETS

    assert PRESETS["paper"].keep_checkpoints
    assert not PRESETS["quick"].keep_checkpoints and not PRESETS["smoke"].keep_checkpoints


def test_a_failed_job_keeps_its_checkpoint_for_the_retry(tmp_path):
    plan, outcomes = _run(tmp_path, CheckpointingFakes(broken={"hardnet68"}))
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert [p.parent.parent.name for p in _checkpoints(plan.run_dir)] == ["hardnet68"]


def test_only_checkpoint_names_are_removed(tmp_path):
    (tmp_path / "notes.pt").write_text("mine")
    (tmp_path / "model_cifar10_seed0_0123456789ab.pt").write_bytes(b"x" * 10)
    (tmp_path / "model_cifar10_seed0_0123456789ab.pt.bak").write_text("mine")
    assert ckpt.remove_checkpoints(tmp_path) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_cifar10_seed0_0123456789ab.pt.bak", "notes.pt"]


def test_disk_line_states_the_run_directory_size(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "a.bin").write_bytes(b"x" * 3 * 1024 * 1024)
    assert disk_line(tmp_path, False) == ("disk: the run directory holds 3.0 MB (checkpoints of finished jobs "
                                          "removed; --keep-checkpoints keeps them)")
    assert disk_line(tmp_path, True).endswith("(checkpoints kept)")


def test_summary_names_a_users_row_and_an_earlier_job(monkeypatch):
    console = Console(record=True, width=200)
    _summary(console, [Outcome(None, "mynet", 0, "ok", {"user_model": {"path": "mine.py"}}),
                       Outcome("ThreshNet79", "threshnet79", 0, "skipped", {})])
    text = console.export_text()
    assert "(yours)" in text and "done earlier" in text and "skipped" not in text


def _cli_run(tmp_path, monkeypatch, capsys, *extra: str) -> tuple[str, Path]:
    from suite.cli import main

    monkeypatch.setattr("suite.run.real_backends", CheckpointingFakes().backends)
    out = tmp_path / "results"
    capsys.readouterr()
    assert main(["run", "--preset", "smoke", "--models", "threshnet79,ghostnet", "--hardware", "cpu", "--out",
                 str(out), *extra]) == 0
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return capsys.readouterr().err, run_dir


def test_run_command_states_disk_use_and_removes_finished_checkpoints(tmp_path, monkeypatch, capsys):
    err, run_dir = _cli_run(tmp_path, monkeypatch, capsys)
    assert "disk: the run directory holds " in err and "checkpoints of finished jobs removed" in err
    assert _checkpoints(run_dir) == []


def test_keep_checkpoints_flag_keeps_them(tmp_path, monkeypatch, capsys):
    err, run_dir = _cli_run(tmp_path, monkeypatch, capsys, "--keep-checkpoints")
    assert "(checkpoints kept)" in err and len(_checkpoints(run_dir)) == 2
