"""`suite run` orchestration against fake backends: layout, resume, failure isolation, bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from suite.errors import SuiteError, unknown
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
from suite.tables import get_table

REPO = Path(__file__).resolve().parents[1]
TABLE3_MODELS = [r.model for r in get_table("threshnet-3").rows]


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
        def train(model, dataset, recipe, *, seed, work_dir, device, precision, channels_last, progress,
                  on_epoch_end=None, fast=False, compile=False):
            assert Path(work_dir).is_dir()
            self.trained.append((model, seed))
            if on_epoch_end is not None:
                on_epoch_end({"epoch": 1, "test_error_pct": 10.0 + seed})
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


def _closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
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
])
def test_cli_bad_input_one_line_exit_2(tmp_path, args, words):
    out = tmp_path / "results"
    preset = [] if "--preset" in args else ["--preset", "smoke"]
    args = [a.replace("PORT", str(_closed_port())) for a in args if a != "NO_RAY"]
    path = [str(REPO)]
    if "NO_RAY" in args or words[0].startswith("--executor ray needs"):
        stub = tmp_path / "noray" / "ray"  # shadows an installed Ray: `import ray` fails as if it were absent
        stub.mkdir(parents=True)
        (stub / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
        path.insert(0, str(stub.parent))
    env = {"PYTHONPATH": os.pathsep.join(path), "PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-m", "suite", "run", *preset, "--out", str(out), *args],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
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


# --- the run store, the job protocol, the driver's scheduling --------------------------------------------------

def test_unknown_table_lists_only_the_tables_it_can_train(tmp_path):
    from suite.run.plan import _table

    with pytest.raises(SuiteError) as err:
        prepare(config(tmp_path, table="5"), Fakes().backends())
    listed = str(err.value).split("valid: ")[1].split(", ")
    assert listed and all(_table(t)[0].runnable for t in listed) and "thresholdnet-8" not in listed
    assert "dpnet-7" in listed  # a timing-only table runs (no training): it is listed


def _lines(plan) -> list[dict]:
    return read_jsonl(plan.run_dir / RESULTS)[0]


def test_a_result_json_without_its_line_is_harvested_not_trained_again(tmp_path):
    plan, _ = run(config(tmp_path), Fakes())
    lines = _lines(plan)
    ghost = next(r for r in lines if r["model"] == "ghostnet")
    result = json.loads((plan.run_dir / "work" / "ghostnet" / "seed0" / "result.json").read_text())
    assert result["attempt"] == ghost["attempt"] and result["key"] == ghost["key"]
    # a driver killed after the job wrote result.json and before it appended the line
    kept = [json.dumps(r) for r in lines if r["model"] != "ghostnet"]
    (plan.run_dir / RESULTS).write_text("\n".join(kept) + "\n")
    again = Fakes()
    _, outcomes = run(config(tmp_path), again)
    assert again.trained == [] and again.timed == []
    assert [o.status for o in outcomes] == ["skipped"] * 3
    after = _lines(plan)
    assert len(after) == 3 and after[-1]["attempt"] == ghost["attempt"]
    run(config(tmp_path), Fakes())  # and a third invocation adds nothing
    assert len(_lines(plan)) == 3


def test_a_job_killed_while_timed_is_timed_again_not_trained(tmp_path):
    fakes = Fakes()
    backends = fakes.backends()
    inner = backends.latency

    def latency(model, head, profile, **kw):
        if model == "hardnet68":
            raise KeyboardInterrupt  # the driver is stopped in the middle of a measurement
        return inner(model, head, profile, **kw)

    backends.latency = latency
    plan = prepare(config(tmp_path), backends)
    with pytest.raises(KeyboardInterrupt):
        Runner(plan, backends).execute()
    trained = json.loads((plan.run_dir / "work" / "hardnet68" / "seed0" / "trained.json").read_text())
    assert [r["model"] for r in _lines(plan)] == ["threshnet79"]
    again = Fakes()
    _, outcomes = run(config(tmp_path), again)
    assert again.trained == [("ghostnet", 0)]  # hardnet68 was trained before the stop
    assert ("hardnet68", "rpi4") in again.timed
    lines = _lines(plan)
    assert [r["model"] for r in lines] == ["threshnet79", "hardnet68", "ghostnet"]
    assert lines[1]["attempt"] == trained["attempt"] and lines[1]["status"] == "ok"
    assert len({r["attempt"] for r in lines}) == 3  # never two lines for one attempt


def test_one_driver_per_run_directory(tmp_path):
    from suite.run.store import RunStore

    plan = prepare(config(tmp_path), Fakes().backends())
    plan.run_dir.mkdir(parents=True)
    with RunStore(plan.run_dir).driver_lock(), pytest.raises(SuiteError, match="another `suite run`"):
        Runner(plan, Fakes().backends()).execute()


class FakeExecutor:
    """Two (or n) slots, simulated in one thread: ``wait`` finishes the oldest running task."""

    name = "fake"

    def __init__(self, backends, plan, *, slots=2, crash=None):
        from suite.run.executors.local import LocalExecutor

        self.slots, self.inner = slots, LocalExecutor(plan, backends)
        self.running: list = []
        self.log: list[tuple[str, str, str]] = []  # (start|end, phase, model)
        self.crash = dict(crash or {})  # model -> how many times its worker dies

    def start(self, emit):
        self.inner.start(emit)

    def free(self):
        return self.slots - len(self.running)

    def submit(self, task):
        self.running.append(task)
        self.log.append(("start", task.phase, task.job.model))

    def wait(self, timeout):
        from suite.run.executors import Done

        task = self.running.pop(0)
        self.log.append(("end", task.phase, task.job.model))
        if self.crash.get(task.job.model):
            self.crash[task.job.model] -= 1
            return [Done(task, error="worker gpu0-0 was killed by SIGKILL", crashed=True, retry=True)]
        self.inner.submit(task)
        return self.inner.wait(timeout)

    def describe(self):
        return {"name": self.name, "slots": self.slots}

    def slots_text(self):
        return f"{self.slots} fake slots"

    def close(self):
        pass


def test_training_fills_the_slots_and_timing_runs_alone(tmp_path):
    fakes = Fakes()
    backends = fakes.backends()
    plan = prepare(config(tmp_path, seeds=(0, 1)), backends)
    ex = FakeExecutor(backends, plan, slots=2)
    outcomes = Runner(plan, backends, executor=ex).execute()
    assert [o.status for o in outcomes] == ["ok"] * 6
    active: dict[str, int] = {"train": 0, "time": 0}
    most_training = 0
    for event, phase, _model in ex.log:
        active[phase] += 1 if event == "start" else -1
        if event == "start" and phase == "time":
            assert active == {"train": 0, "time": 1}, ex.log  # nothing trains while a model is timed
        if event == "start" and phase == "train":
            assert active["time"] == 0
        most_training = max(most_training, active["train"])
    assert most_training == 2  # two jobs trained at once


def test_one_slot_keeps_train_then_time_per_job(tmp_path):
    fakes = Fakes()
    backends = fakes.backends()
    plan = prepare(config(tmp_path), backends)
    ex = FakeExecutor(backends, plan, slots=1)
    Runner(plan, backends, executor=ex).execute()
    starts = [(phase, model) for event, phase, model in ex.log if event == "start"]
    assert starts == [(p, m) for m in ("threshnet79", "hardnet68", "ghostnet") for p in ("train", "time")]


def test_a_dead_worker_is_retried_then_the_job_fails_alone(tmp_path):
    fakes = Fakes()
    backends = fakes.backends()
    plan = prepare(config(tmp_path, max_attempts=3), backends)
    ex = FakeExecutor(backends, plan, crash={"threshnet79": 2, "hardnet68": 5})
    outcomes = Runner(plan, backends, executor=ex).execute()
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert "killed by SIGKILL" in outcomes[1].record["reason"]
    assert [e for e in ex.log if e[0] == "start" and e[2] == "hardnet68"] == [("start", "train", "hardnet68")] * 3
    assert len(_lines(plan)) == 3


@pytest.mark.parametrize("change, env, words", [
    ({"executor": "slurm"}, {}, ["unknown executor 'slurm'"]),
    ({"executor": "gpus", "gpus": ("0", "3")}, {"CUDA_VISIBLE_DEVICES": "0,1"},
     ["--gpus 0,3: no GPU 3 on this machine (visible: 0, 1)"]),
    ({"executor": "gpus"}, {"CUDA_VISIBLE_DEVICES": ""}, ["--executor gpus: this machine shows no GPU"]),
    ({"executor": "ray", "ray_address": "127.0.0.1:PORT"}, {}, ["cannot reach the Ray cluster at 127.0.0.1:"]),
    ({"executor": "ray", "ray_address": "nohost:x"}, {}, ["bad --ray-address 'nohost:x'"]),
    ({"executor": "local", "gpus": ("0",)}, {}, ["--gpus is for --executor gpus"]),
    ({"executor": "gpus", "device": "cpu"}, {"CUDA_VISIBLE_DEVICES": "0"}, ["--executor gpus trains on GPUs"]),
    ({"max_attempts": 0}, {}, ["--max-attempts must be a positive integer"]),
])
def test_bad_executor_input_is_one_error_before_anything_is_read(tmp_path, monkeypatch, change, env, words):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if "ray_address" in change:
        change = change | {"ray_address": change["ray_address"].replace("PORT", str(_closed_port()))}
    fakes = Fakes()
    with pytest.raises(SuiteError) as err:
        prepare(config(tmp_path, **change), fakes.backends())
    for w in words:
        assert w in str(err.value)
    assert not (tmp_path / "results").exists() and fakes.loaded == 0


def test_ray_not_installed_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    fakes = Fakes()
    with pytest.raises(SuiteError, match=r"needs Ray, which is not installed: pip install -e \"\.\[ray\]\""):
        prepare(config(tmp_path, executor="ray"), fakes.backends())
    assert fakes.loaded == 0


def test_fast_and_compile_are_part_of_the_run_identity(tmp_path):
    b = Fakes().backends()
    plain = prepare(config(tmp_path), b)
    fast = prepare(config(tmp_path, fast=True), b)
    both = prepare(config(tmp_path, fast=True, compile=True), b)
    assert len({plain.run_dir, fast.run_dir, both.run_dir}) == 3
    _, outcomes = run(config(tmp_path, fast=True, compile=True), Fakes())
    assert outcomes[0].record["fast"] is True and outcomes[0].record["compile"] is True
    manifest = json.loads((both.run_dir / "manifest.json").read_text())
    assert manifest["fast"] is True and manifest["compile"] is True


def test_the_estimate_is_divided_by_the_slots_never_below_the_longest_job():
    from suite.run import estimate_wall

    estimates = {"a": 100.0, "b": 100.0, "c": 400.0}
    assert estimate_wall(estimates, 1) == 600.0
    assert estimate_wall(estimates, 2) == 400.0  # c alone is 400 s
    assert estimate_wall({"a": 100.0, "b": 100.0}, 2) == 100.0
    assert estimate_wall(estimates, 2, seeds=2) == 300.0  # two seeds of c: 200 s each, on two slots


def test_every_line_records_where_it_trained_and_was_timed(tmp_path):
    _, outcomes = run(config(tmp_path, hardware="cpu,rpi4", threads=1), Fakes())
    record = outcomes[0].record
    assert record["executor"] == "local" and record["worker"]["train"]["threads"] >= 1
    context = record["latency"]["cpu"]["context"]
    assert context["host"] == socket.gethostname() and context["executor"] == "local"
    assert "cuda_visible_devices" in context and "threads" in context and context["predicted"] is False


def test_the_store_reads_runs_for_the_report(tmp_path):
    from suite.report.runs import find_runs as report_find_runs
    from suite.run.store import RunStore, find_runs, load_run

    plan, _ = run(config(tmp_path), Fakes())
    (only,) = find_runs(tmp_path / "results")
    assert only.name == plan.run_dir.name and len(only.lines) == 3 and only.finished == 3
    assert load_run(plan.run_dir).manifest["config_hash"] == plan.config_hash
    assert [r.name for r in report_find_runs(tmp_path / "results")] == [only.name]
    store = RunStore(plan.run_dir)
    assert store.job_dir("ghostnet", "cifar10", 0) == plan.run_dir / "work" / "ghostnet" / "seed0"
    with pytest.raises(SuiteError, match="no results"):
        find_runs(tmp_path / "nothing")


def test_compile_falls_back_to_eager_with_one_warning():
    import torch

    from suite.train import compile_or_eager

    class Uncompilable(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x)

        def compile(self, *a, **kw):  # stands for a model torch.compile cannot handle
            raise RuntimeError("dynamo: unsupported operator")

    net = Uncompilable()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    data = SimpleNamespace(image_shape=(3, 8, 8))
    with pytest.warns(RuntimeWarning, match=r"--compile: tiny does not compile .*training it eagerly") as got:
        assert compile_or_eager(net, "tiny", data, torch.device("cpu"), False) is False
    assert len(got) == 1 and "\n" not in str(got[0].message)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # the probe trained a copy


def test_fast_kernels_turn_off_determinism_and_restore_it():
    import torch

    from suite.train import fast_kernels

    torch.use_deterministic_algorithms(True, warn_only=True)
    precision = torch.get_float32_matmul_precision()
    try:
        with fast_kernels():
            assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.benchmark
            assert torch.get_float32_matmul_precision() == "high"
        assert torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.benchmark
        assert torch.get_float32_matmul_precision() == precision
    finally:
        torch.use_deterministic_algorithms(False)


def test_the_driver_of_gpu_workers_leaves_the_gpu_profile_to_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")  # two (fake) GPUs for --executor gpus
    backends = Fakes().backends()
    parsed: list[str] = []
    inner = backends.parse_profiles
    backends.parse_profiles = lambda text, threads=None: parsed.append(text) or inner(text, threads=threads)
    plan = prepare(config(tmp_path, executor="gpus", hardware="cpu,gpu,rpi4"), backends)
    assert [p.name for p in plan.profiles] == ["cpu", "gpu", "rpi4"] and "gpu" not in parsed
    assert plan.device == "cuda"  # stated, not probed: the driver never initialises CUDA


# --- tables of other kinds ----------------------------------------------------------------------------------

def test_a_timing_only_table_times_without_training_or_data(tmp_path):
    fakes = Fakes()
    models = ("mobilenet_v3_large", "dpnet")
    backends = fakes.backends()
    backends.model_names = lambda: [*TABLE3_MODELS, "mobilenet_v3_large", "dpnet"]
    cfg = config(tmp_path, table="dpnet-7", models=models, hardware=None)
    plan = prepare(cfg, backends)
    assert plan.dataset_name == "none" and plan.dataset.image_shape == (3, 224, 224) and fakes.loaded == 0
    assert [p.name for p in plan.profiles] == ["cpu"]  # the table's own hardware when --hardware is not given
    outcomes = Runner(plan, backends).execute()
    assert [o.status for o in outcomes] == ["ok", "ok"] and fakes.trained == []
    lines, _ = read_jsonl(plan.run_dir / RESULTS)
    assert all(line["train"] is None and line["latency"]["cpu"]["median_ms"] == 6.0 for line in lines)
    assert lines[0]["complexity"]["trained"]["input_size"] == [3, 224, 224]
    assert lines[0]["complexity"]["trained"]["num_classes"] == 1000
    assert {m for m, _ in fakes.timed} == set(models)


def test_a_complexity_only_table_needs_no_run(tmp_path):
    with pytest.raises(SuiteError, match="complexity only: `python -m suite report` computes it"):
        prepare(config(tmp_path, table="8", models=None), Fakes().backends())


def test_namespaced_ids_and_their_default_hardware(tmp_path):
    plan = prepare(config(tmp_path, table="threshnet-3", hardware=None), Fakes().backends())
    assert plan.table.id == "threshnet-3" and [p.name for p in plan.profiles] == ["rpi4"]
    assert plan.run_dir.name.startswith("threshnet-3-cifar10-smoke-threshnet-")
