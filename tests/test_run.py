"""`suite run` orchestration against fake backends: layout, resume, failure isolation, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from suite.errors import SuiteError, unknown
from suite.paper_tables import TABLES
from suite.run import (
    RESULTS,
    Backends,
    RunConfig,
    Runner,
    append_jsonl,
    estimate_seconds,
    latest_by_key,
    parse_seeds,
    prepare,
    read_jsonl,
    train_summary,
)

REPO = Path(__file__).resolve().parents[1]
TABLE3_MODELS = [r.model for r in TABLES["3"].rows]


@dataclass
class FakeDataset:
    name: str = "cifar10"
    num_classes: int = 10
    train_count: int = 200
    test_count: int = 100
    image_shape: tuple = (3, 32, 32)
    meta: dict = field(default_factory=lambda: {"fingerprint": "fake", "train_count": 200, "test_count": 100})


@dataclass
class FakeRecipe:
    name: str = "threshnet"
    epochs: int | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "epochs": self.epochs}


class Fakes:
    """Fake backends that record every call; ``broken`` models raise in training."""

    def __init__(self, broken=()):
        self.broken = set(broken)
        self.trained: list[tuple[str, int]] = []
        self.timed: list[tuple[str, str]] = []
        self.loaded = 0

    def backends(self) -> Backends:
        def train(model, dataset, recipe, *, seed, work_dir, device, precision, channels_last, progress):
            assert Path(work_dir).is_dir()
            self.trained.append((model, seed))
            if model in self.broken:
                raise RuntimeError(f"{model} exploded")
            return {"model": model, "status": "ok", "error_best_pct": 10.0 + seed,
                    "error_final_pct": 11.0 + seed, "error_best_epoch": 1, "epochs": 1,
                    "epochs_planned": 1, "test_images": 100}

        def complexity(model, head, input_size):
            scale = 49.0 if input_size[1] == 224 else 1.0
            rec = {"params": 1_000_000 + head, "flops": int(1e8 * scale), "madd": int(2e8 * scale),
                   "memory_mb": 10.0 * scale, "memrw_mb": 20.0 * scale}
            return {"torchstat": rec, "complete": rec}

        def parse_profiles(text, threads=None):
            names = [n.strip() for n in text.split(",") if n.strip()]
            for n in names:
                if n not in ("cpu", "rpi4", "gpu"):
                    raise unknown("hardware", n, ("cpu", "gpu", "rpi4"))
            return [SimpleNamespace(name=n) for n in names]

        def latency(model, head, profile, **kw):
            self.timed.append((model, profile.name))
            predicted = profile.name == "rpi4"
            return {"per_image_ms": 40.0 if predicted else 5.0, "median_ms": 40.0 if predicted else 6.0,
                    "predicted": predicted, "expected_error_pct": 13.0 if predicted else None}

        def load(name, **kw):
            self.loaded += 1
            return FakeDataset(name=name)

        return Backends(model_names=lambda: [*TABLE3_MODELS, "resnet18", "resnet50"],
                        dataset_names=lambda: ["cifar10", "svhn"], load_dataset=load,
                        get_recipe=lambda name, **o: FakeRecipe(name, o.get("epochs")),
                        train_and_evaluate=train, complexity=complexity, parse_profiles=parse_profiles,
                        latency=latency)


def config(tmp_path: Path, **kw) -> RunConfig:
    base = {"preset": "smoke", "out": str(tmp_path / "results"),
            "models": ("threshnet79", "hardnet68", "ghostnet")}
    return RunConfig(**(base | kw))


def run(cfg: RunConfig, fakes: Fakes):
    plan = prepare(cfg, fakes.backends())
    return plan, Runner(plan, fakes.backends()).execute()


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
    assert plan.dataset_name == "svhn" and plan.run_dir.name.startswith("table4-svhn-smoke")


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
    ({"table": "5"}, ["unknown table '5'; valid: 3, 4"]),  # 8 exists but has nothing to train
    ({"preset": "smok"}, ["unknown preset 'smok'", "smoke"]),
    ({"hardware": "rpi5"}, ["unknown hardware 'rpi5'", "rpi4"]),
    ({"precision": "fp8"}, ["unknown precision 'fp8'"]),
    ({"epochs": 0}, ["--epochs must be a positive integer"]),
])
def test_bad_input_is_rejected_before_anything_is_written(tmp_path, change, words):
    fakes = Fakes()
    with pytest.raises(SuiteError) as err:
        prepare(config(tmp_path, **change), fakes.backends())
    for w in words:
        assert w in str(err.value)
    assert not (tmp_path / "results").exists() and fakes.loaded == 0


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


def test_train_summary_reads_the_engine_record_and_accuracies():
    record = {"error_best_pct": 9.5, "error_final_pct": 10.0, "error_best_epoch": 3}
    assert train_summary(record)["best_epoch"] == 3
    assert train_summary({"best_acc": 0.9})["best_error_pct"] == pytest.approx(10.0)
    assert train_summary(None)["best_error_pct"] is None


def _cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("args, words", [
    (["--models", "threshnet97"], ["unknown model", "threshnet79"]),
    (["--preset", "fast"], ["unknown preset"]),
    (["--table", "9"], ["unknown table"]),
    (["--hardware", "tpu"], ["unknown hardware"]),
    (["--dataset", "cifar-10"], ["unknown dataset", "cifar10"]),
    (["--data-dir", "/nonexistent/data"], ["cifar10 not found", "/nonexistent/data"]),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, args, words):
    out = tmp_path / "results"
    preset = [] if "--preset" in args else ["--preset", "smoke"]
    proc = _cli("run", *preset, "--out", str(out), *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
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
    backends.time_train_step = lambda model, head, shape, batch, device: 0.01  # s per image
    recipe = SimpleNamespace(epochs=150, resolve=lambda model, dataset: SimpleNamespace(epochs=150))
    backends.get_recipe = lambda name, **o: recipe
    plan = prepare(config(tmp_path, preset="paper", seeds=(0, 1)), backends)
    estimates = estimate_seconds(plan, backends)
    images = 150 * (200 + 100 / 3)
    assert estimates["threshnet79"] == pytest.approx(0.01 * images * 2)


def test_a_named_run_is_not_resumed_with_another_configuration(tmp_path):
    run(config(tmp_path, run_name="mine"), Fakes())
    with pytest.raises(SuiteError, match="another configuration"):
        prepare(config(tmp_path, run_name="mine", epochs=3), Fakes().backends())
