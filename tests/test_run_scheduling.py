"""`suite run` against fake backends: the run store, the job protocol, the driver's scheduling, other table kinds."""

from __future__ import annotations

import json
import socket
import sys
from types import SimpleNamespace

import pytest
from run_fakes import TABLE3_MODELS, Fakes, assert_rejected_untouched, closed_port, config, run

from suite.core.errors import SuiteError
from suite.run import RESULTS, Runner, prepare, read_jsonl
from suite.run.executors import Executor

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


class FakeExecutor(Executor):
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
        change = change | {"ray_address": change["ray_address"].replace("PORT", str(closed_port()))}
    assert_rejected_untouched(tmp_path, change, words)


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

    from suite.train.engine import compile_or_eager

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

    from suite.train.engine import fast_kernels

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
