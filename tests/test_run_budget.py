"""An explicit value always wins over the preset's, and the run says where each figure of its budget came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_fakes import Fakes, config

from suite.cli import main
from suite.core.errors import SuiteError
from suite.run import prepare

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("change", "epochs", "origin"), [
    ({}, 3, "quick preset"),
    ({"epochs": 4}, 4, "--epochs"),
    ({"recipe_overrides": {"epochs": 5}}, 5, "--set"),
    ({"epochs": 5, "recipe_overrides": {"epochs": 5}}, 5, "--epochs"),
])
def test_explicit_epochs_win_over_the_presets(tmp_path, change, epochs, origin):
    plan = prepare(config(tmp_path, preset="quick", **change), Fakes().backends())
    assert plan.recipe.epochs == epochs and plan.recipe_overrides["epochs"] == epochs
    assert plan.origins["epochs"] == origin


def test_explicit_subsets_win_over_the_presets(tmp_path):
    plan = prepare(config(tmp_path, preset="quick", train_subset=20), Fakes().backends())
    assert (plan.train_subset, plan.test_subset) == (20, 1000)
    assert plan.origins["train_subset"] == "--train-subset" and plan.origins["test_subset"] == "quick preset"


def test_epochs_given_twice_must_agree(tmp_path):
    with pytest.raises(SuiteError, match="--epochs 4 and --set epochs=5 disagree"):
        prepare(config(tmp_path, preset="quick", epochs=4, recipe_overrides={"epochs": 5}), Fakes().backends())


@pytest.mark.slow
def test_set_epochs_with_the_quick_preset_trains_those_epochs(cifar10_root, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "--table", "3", "--models-from", str(REPO / "examples" / "my_models.py"), "--models", "tinynet",
            "--preset", "quick", "--set", "epochs=5", "--train-subset", "20", "--test-subset", "10",
            "--hardware", "cpu", "--data-dir", str(cifar10_root), "--out", str(out)]
    assert main(argv) == 0
    (run_dir,) = out.iterdir()
    line = json.loads((run_dir / "results.jsonl").read_text().splitlines()[-1])
    assert line["train"]["epochs"] == 5 and line["train"]["epochs_planned"] == 5
    assert [h["epoch"] for h in line["train"]["history"]] == [1, 2, 3, 4, 5]
    trained = json.loads(next(run_dir.rglob("trained.json")).read_text())
    assert trained["train"]["epochs"] == 5
    err = " ".join(capsys.readouterr().err.split())
    assert "epochs 5 (--set)" in err and "20 training images (--train-subset)" in err
