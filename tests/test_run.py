"""`suite run` orchestration against fake backends: layout, resume, failure isolation, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from run_fakes import TABLE3_MODELS, Fakes, assert_rejected_untouched, closed_port, config, run

from suite.cli import main
from suite.core.errors import SuiteError
from suite.run import (
    RESULTS,
    Runner,
    append_jsonl,
    estimate_seconds,
    latest_by_key,
    parse_seeds,
    prepare,
    read_jsonl,
    train_summary,
)
from suite.train.recipes import get_recipe

REPO = Path(__file__).resolve().parents[1]


def test_run_writes_manifest_and_one_line_per_model_and_seed(tmp_path):
    fakes = Fakes()
    plan, outcomes = run(config(tmp_path, seeds=(0, 1)), fakes)
    assert [o.status for o in outcomes] == ["ok"] * 6
    lines, bad = read_jsonl(plan.run_dir / RESULTS)
    assert bad == 0 and len(lines) == 6
    first = lines[0]
    assert first["row"] == "ThreshNet79" and first["model"] == "threshnet79" and first["seed"] == 0
    assert first["summary"]["best_error_pct"] == 10.0 and first["summary"]["final_error_pct"] == 11.0
    pub = first["complexity"]["published"]
    assert pub["num_classes"] == 10 and pub["input_size"] == [3, 224, 224]  # ThreshNet79's published head
    assert lines[2]["complexity"]["published"]["num_classes"] == 1000  # HarDNet68's
    assert first["complexity"]["trained"]["input_size"] == [3, 32, 32]
    assert first["latency"]["rpi4"]["predicted"] is True
    manifest = json.loads((plan.run_dir / "manifest.json").read_text())
    assert manifest["preset"]["name"] == "smoke" and manifest["seeds"] == [0, 1]
    assert [m["model"] for m in manifest["models"]] == ["threshnet79", "hardnet68", "ghostnet"]
    assert manifest["train_subset"] == 100 and manifest["epochs"] == 1
    assert (plan.run_dir / "work" / "hardnet68" / "seed1").is_dir()


def test_default_models_are_the_table_rows(tmp_path):
    plan = prepare(config(tmp_path, models=None), Fakes().backends())
    assert [j.model for j in plan.jobs] == TABLE3_MODELS
    resnext = next(j for j in plan.jobs if j.row == "ResNeXt50-32x4d")
    assert resnext.profiled_model == "resnet50" and resnext.published_head == 1000


def test_table_4_trains_on_svhn(tmp_path):
    plan = prepare(config(tmp_path, table="4"), Fakes().backends())
    assert plan.dataset_name == "svhn"
    assert plan.run_dir.name.startswith(("table4-svhn-smoke", "threshnet-4-svhn-smoke"))


def test_failure_is_isolated_and_retried_on_resume(tmp_path):
    fakes = Fakes(broken={"hardnet68"})
    plan, outcomes = run(config(tmp_path), fakes)
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    failed = outcomes[1].record
    assert "hardnet68 exploded" in failed["reason"] and failed["failures"][0]["stage"] == "train"
    assert failed["complexity"] is not None  # the other stages still ran
    assert "RuntimeError" in (plan.run_dir / "logs" / "hardnet68-seed0.log").read_text()

    fixed = Fakes()  # the second invocation retries only the failed line
    _, outcomes = run(config(tmp_path), fixed)
    assert fixed.trained == [("hardnet68", 0)]
    assert [o.status for o in outcomes] == ["skipped", "ok", "skipped"]
    latest = latest_by_key(read_jsonl(plan.run_dir / RESULTS)[0])
    assert {r["status"] for r in latest.values()} == {"ok"}


def test_resume_skips_finished_and_adds_new_seeds_and_hardware(tmp_path):
    fakes = Fakes()
    plan, _ = run(config(tmp_path), fakes)
    again = Fakes()
    plan2, outcomes = run(config(tmp_path, seeds=(0, 1), hardware="rpi4,cpu"), again)
    assert plan2.run_dir == plan.run_dir  # same configuration, same directory
    assert again.trained == [("threshnet79", 1), ("hardnet68", 1), ("ghostnet", 1)]
    # finished seed-0 lines only get the new hardware timed; new seeds get both
    assert ("threshnet79", "cpu") in again.timed and ("threshnet79", "rpi4") in again.timed
    assert again.timed.count(("threshnet79", "rpi4")) == 1
    latest = latest_by_key(read_jsonl(plan.run_dir / RESULTS)[0])
    assert all(set(r["latency"]) == {"rpi4", "cpu"} for r in latest.values())
    manifest = json.loads((plan.run_dir / "manifest.json").read_text())
    assert manifest["seeds"] == [0, 1] and manifest["hardware"] == ["rpi4", "cpu"]
    assert len(manifest["invocations"]) == 2


def test_run_name_depends_on_what_changes_the_numbers(tmp_path):
    b = Fakes().backends()
    a = prepare(config(tmp_path), b).run_dir
    assert prepare(config(tmp_path, models=("ghostnet",), seeds=(3,), hardware="cpu"), b).run_dir == a
    assert prepare(config(tmp_path, epochs=2), b).run_dir != a
    assert prepare(config(tmp_path, train_subset=300), b).run_dir != a
    assert prepare(config(tmp_path, run_name="mine"), b).run_dir.name == "mine"


def test_interrupted_write_leaves_a_readable_file(tmp_path):
    path = tmp_path / RESULTS
    append_jsonl(path, {"key": "a|cifar10|0", "status": "ok"})
    with path.open("a") as fh:
        fh.write('{"key": "b|cifar10|0", "sta')  # a kill in the middle of a line
    append_jsonl(path, {"key": "c|cifar10|0", "status": "ok"})
    lines, bad = read_jsonl(path)
    assert [r["key"] for r in lines] == ["a|cifar10|0", "c|cifar10|0"] and bad == 1


def test_models_accept_row_labels_and_extra_zoo_models(tmp_path):
    plan = prepare(config(tmp_path, models=("ThreshNet95", "resnet18")), Fakes().backends())
    assert [(j.row, j.model) for j in plan.jobs] == [("ThreshNet95", "threshnet95"), (None, "resnet18")]


@pytest.mark.parametrize("change, words", [
    ({"models": ("threshnet97",)}, ["unknown model 'threshnet97'", "threshnet79"]),
    ({"dataset": "cifar11"}, ["unknown dataset 'cifar11'", "cifar10"]),
    ({"table": "5"}, ["unknown table '5'; valid: "]),  # only tables it can train: see the test below
    ({"preset": "smok"}, ["unknown preset 'smok'", "smoke"]),
    ({"hardware": "rpi5"}, ["unknown hardware 'rpi5'", "rpi4"]),
    ({"precision": "fp8"}, ["unknown precision 'fp8'"]),
    ({"epochs": 0}, ["--epochs must be a positive integer"]),
])
def test_bad_input_is_rejected_before_anything_is_written(tmp_path, change, words):
    assert_rejected_untouched(tmp_path, change, words)


def test_unwritable_out_is_rejected_before_training(tmp_path):
    (tmp_path / "file").write_text("x")
    fakes = Fakes()
    with pytest.raises(SuiteError, match="not usable"):
        prepare(config(tmp_path, out=str(tmp_path / "file" / "results")), fakes.backends())
    assert fakes.trained == []


def test_parse_seeds():
    assert parse_seeds("0,1,2") == (0, 1, 2) and parse_seeds("0-3") == (0, 1, 2, 3)
    assert parse_seeds("2,2") == (2,)
    with pytest.raises(SuiteError):
        parse_seeds("a")


def test_train_summary_reads_the_engine_record():
    record = {"error_best_pct": 9.5, "error_final_pct": 10.0, "error_best_epoch": 3, "status": "ok"}
    summary = train_summary(record)
    assert summary["best_epoch"] == 3 and summary["best_error_pct"] == 9.5 and summary["final_error_pct"] == 10.0
    assert train_summary({"best_acc": 0.9})["best_error_pct"] is None  # one field, never guessed from another
    assert train_summary(None)["best_error_pct"] is None


@pytest.mark.parametrize("args, words", [
    (["--models", "threshnet97"], ["unknown model", "threshnet79"]),
    (["--preset", "fast"], ["unknown preset"]),
    (["--table", "9"], ["unknown table"]),
    (["--hardware", "tpu"], ["unknown hardware"]),
    (["--dataset", "cifar-10"], ["unknown dataset", "cifar10"]),
    (["--data-dir", "/nonexistent/data"], ["cifar10 not found", "/nonexistent/data"]),
    (["--executor", "slurm"], ["unknown executor 'slurm'", "gpus, local, ray"]),
    (["--executor", "gpus", "--gpus", "7"], ["--gpus 7: no GPU 7 on this machine"]),
    (["--executor", "ray", "--ray-address", "127.0.0.1:PORT"], ["cannot reach the Ray cluster at 127.0.0.1:"]),
    (["--executor", "ray", "NO_RAY"], ["--executor ray needs Ray, which is not installed", 'pip install -e ".[ray]"']),
    # refused before the (missing) data is read
    (["--mode", "channel_last", "--data-dir", "/nonexistent/data"], ["unknown mode 'channel_last'", "channels_last"]),
    (["--mode", "eager", "--channels-last", "--data-dir", "/nonexistent/data"],
     ["--mode eager contradicts --channels-last"]),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, monkeypatch, capsys, args, words):
    out = tmp_path / "results"
    preset = [] if "--preset" in args else ["--preset", "smoke"]
    if "NO_RAY" in args:
        monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if Ray were not installed
    args = [a.replace("PORT", str(closed_port())) for a in args if a != "NO_RAY"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.chdir(tmp_path)
    assert main(["run", *preset, "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    for w in words:
        assert w in errors[0]
    assert not out.exists()


def test_engine_reported_failure_and_divergence(tmp_path):
    fakes = Fakes()
    backends = fakes.backends()
    inner = backends.train_and_evaluate

    def train(model, dataset, recipe, **kw):
        record = inner(model, dataset, recipe, **kw)
        if model == "hardnet68":
            return record | {"status": "failed", "reason": "ValueError: bad shape"}
        if model == "ghostnet":
            return record | {"status": "diverged", "error_final_pct": None}
        return record

    backends.train_and_evaluate = train
    plan = prepare(config(tmp_path), backends)
    outcomes = Runner(plan, backends).execute()
    assert [o.status for o in outcomes] == ["ok", "failed", "diverged"]
    assert "bad shape" in outcomes[1].record["reason"]
    again = Fakes()
    _, outcomes = run(config(tmp_path), again)
    assert again.trained == [("hardnet68", 0)]  # a divergence is a finished result, a failure is retried


def test_paper_estimate_scales_one_step_to_the_whole_run(tmp_path):
    backends = Fakes().backends()
    backends.time_train_step = lambda model, head, shape, batch, device, mode: 0.01  # s per image
    backends.get_recipe = lambda name, **o: get_recipe("threshnet", epochs=150)
    plan = prepare(config(tmp_path, preset="paper", seeds=(0, 1)), backends)
    estimates = estimate_seconds(plan, backends)
    images = 150 * (200 + 100 / 3)
    assert estimates["threshnet79"] == pytest.approx(0.01 * images * 2)


def test_a_named_run_is_not_resumed_with_another_configuration(tmp_path):
    run(config(tmp_path, run_name="mine"), Fakes())
    with pytest.raises(SuiteError, match="another configuration"):
        prepare(config(tmp_path, run_name="mine", epochs=3), Fakes().backends())
