"""`suite run`: train, profile and time every model of a paper table, into one resumable run directory.

A run directory (``<out>/<run name>/``) holds:

- ``manifest.json``: provenance, command lines, recipe, preset, seeds, models (rewritten atomically);
- ``results.jsonl``: one line per finished (model, dataset, seed), append-only; the last line of a key wins;
- ``work/<model>/seed<k>/``: the training engine's per-epoch checkpoints (a half-finished model resumes);
- ``logs/run.log`` and ``logs/<model>-seed<k>.log``: progress, and the traceback of any failure.

The run name is derived from everything that changes the numbers (table, dataset, preset, resolved recipe,
subsets, precision), so re-running the same command finds the directory and skips the finished lines; models,
seeds and hardware are left out of it so that a later command can add to the same run.

The work itself (dataset, recipe, training, complexity, latency) is reached only through ``Backends``, so
tests inject fakes and the real modules are imported in one place (``real_backends``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from suite.errors import SuiteError, unknown
from suite.paper_tables import TABLES, RowSpec, TableSpec

SCHEMA = 1
MANIFEST = "manifest.json"
PRECISIONS = ("fp32", "bf16", "fp16")
FINISHED = ("ok", "diverged")  # line statuses that a re-run skips (a divergence is deterministic)
RESULTS = "results.jsonl"
log = logging.getLogger("suite.run")


# --- presets ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    epochs: int | None = None  # None: the recipe's own epoch count
    train_subset: int | None = None  # None: the whole training set
    test_subset: int | None = None
    latency_protocol: dict | None = None  # suite.latency.Protocol fields; None: its defaults
    per_image_batch: int = 100
    estimate: bool = False  # time a training step of each model and print the total before starting
    reproduction: bool = True  # False: a pipeline check whose numbers must never be read as the paper's

    def to_dict(self) -> dict:
        return asdict(self)


_FAST_LATENCY = {"warmup": 1, "min_runs": 3, "max_runs": 10, "target_s": 0.05,
                 "batch_warmup": 1, "batch_min_runs": 1, "batch_max_runs": 2, "batch_target_s": 0.1}

PRESETS: dict[str, Preset] = {
    "paper": Preset("paper", "the full recipe on the full dataset, as the paper trained", estimate=True),
    "quick": Preset("quick", "3 epochs on 5,000 training / 1,000 test images: a trend, not a reproduction",
                    epochs=3, train_subset=5000, test_subset=1000,
                    latency_protocol={**_FAST_LATENCY, "min_runs": 10, "max_runs": 100, "target_s": 0.3,
                                      "batch_min_runs": 3, "batch_max_runs": 10, "batch_target_s": 1.0},
                    reproduction=False),
    # Small enough for CI on 2 shared cores: all 14 models of Table III in a few minutes.
    "smoke": Preset("smoke", "1 epoch on 100 training / 50 test images: checks the pipeline, reproduces "
                             "nothing",
                    epochs=1, train_subset=100, test_subset=50, latency_protocol=_FAST_LATENCY,
                    per_image_batch=20, reproduction=False),
}


# --- configuration ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelJob:
    row: str | None  # the paper table's row label, None for a model outside the table
    model: str  # zoo model trained and timed
    published_head: int | None = None  # head of the published complexity figures
    profiled_model: str | None = None  # model whose complexity the published row printed


@dataclass(frozen=True)
class RunConfig:
    table: str = "3"
    models: tuple[str, ...] | None = None  # None: every row of the table
    dataset: str | None = None  # None: the table's dataset
    recipe: str | None = None  # None: the table's recipe
    recipe_overrides: dict = field(default_factory=dict)
    preset: str = "paper"
    epochs: int | None = None
    seeds: tuple[int, ...] = (0,)
    train_subset: int | None = None
    test_subset: int | None = None
    data_dir: str | None = None
    download: bool | None = None  # None: only when SUITE_DOWNLOAD=1 (suite.data decides)
    out: str = "results"
    run_name: str | None = None
    hardware: str | None = None  # comma-separated; None: "rpi4" (the tables' measured device we can model)
    precision: str = "fp32"
    channels_last: bool = False
    device: str | None = None  # None: cuda if available, else cpu
    threads: int | None = None
    argv: tuple[str, ...] = ()


@dataclass
class Plan:
    """A validated configuration: everything resolved, nothing written yet."""

    config: RunConfig
    table: TableSpec
    preset: Preset
    jobs: list[ModelJob]
    dataset_name: str
    dataset: Any
    recipe_name: str
    recipe: Any
    profiles: list
    device: str
    train_subset: int | None
    test_subset: int | None
    run_dir: Path
    config_hash: str


# --- backends -----------------------------------------------------------------------------------------------

@dataclass
class Backends:
    """Every call that does real work; ``real_backends()`` wires the suite's modules, tests pass fakes."""

    model_names: Callable[[], list[str]]
    dataset_names: Callable[[], list[str]]
    load_dataset: Callable[..., Any]  # (name, data_dir=, download=, train_subset=, test_subset=, device=)
    get_recipe: Callable[..., Any]  # (name, **overrides) -> recipe
    train_and_evaluate: Callable[..., Any]  # (model, dataset, recipe, seed=, work_dir=, ...) -> result
    complexity: Callable[[str, int, tuple[int, int, int]], dict]  # (model, head, input) -> {convention: dict}
    parse_profiles: Callable[..., list]  # (text, threads=) -> [profile]
    latency: Callable[..., dict]  # (model, head, profile, threads=, protocol=, per_image_batch=) -> dict
    time_train_step: Callable[..., float] | None = None  # (model, head, shape, batch, device) -> s/image


def real_backends() -> Backends:
    """The suite's own modules, imported here and nowhere else in the orchestrator."""
    import zoo
    from suite import data, recipes, train
    from suite.hardware import parse_profiles

    def complexity(model: str, head: int, input_size) -> dict:
        from suite.complexity import profile_all

        net = zoo.create_model(model, num_classes=head)
        return {conv: rep.to_dict() for conv, rep in profile_all(net, tuple(input_size)).items()}

    def latency(model: str, head: int, profile, *, input_size=(3, 32, 32), threads=None, protocol=None,
                per_image_batch=100) -> dict:
        from suite.latency import Protocol, measure_latency

        net = zoo.create_model(model, num_classes=head)  # timing does not depend on the trained weights
        proto = Protocol(**protocol) if protocol else None
        return measure_latency(net, profile, input_size=tuple(input_size), threads=threads, protocol=proto,
                               per_image_batch=per_image_batch, model_name=model).to_dict()

    return Backends(
        model_names=zoo.list_models, dataset_names=data.dataset_names, load_dataset=data.load_dataset,
        get_recipe=recipes.get_recipe, train_and_evaluate=train.train_and_evaluate, complexity=complexity,
        parse_profiles=parse_profiles, latency=latency, time_train_step=_time_train_step)


def _time_train_step(model: str, head: int, image_shape, batch: int, device: str) -> float:
    """Seconds per training image of a forward + backward + Adam step: the fastest of two, after a warm-up."""
    import torch

    import zoo

    net = zoo.create_model(model, num_classes=head).to(device).train()
    opt = torch.optim.Adam(net.parameters())
    x = torch.randn(batch, *image_shape, device=device)
    y = torch.randint(0, head, (batch,), device=device)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times[1:]) / batch  # the fastest: other processes only ever add time


# --- small helpers ------------------------------------------------------------------------------------------

def as_dict(obj: Any) -> Any:
    """A JSON-ready dict of a result object (to_dict(), a dataclass, or already a dict)."""
    if obj is None or isinstance(obj, dict | list | str | int | float | bool):
        return obj
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if is_dataclass(obj):
        return asdict(obj)
    return dict(vars(obj))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def result_key(model: str, dataset: str, seed: int) -> str:
    return f"{model}|{dataset}|{seed}"


def parse_seeds(text: str | None) -> tuple[int, ...]:
    """'0,1,2' or '0-2' -> (0, 1, 2)."""
    if text is None or str(text).strip() == "":
        return (0,)
    seeds: list[int] = []
    try:
        for part in str(text).split(","):
            lo, sep, hi = part.strip().partition("-")
            if sep:
                seeds.extend(range(int(lo), int(hi) + 1))
            elif lo:
                seeds.append(int(lo))
    except ValueError:
        raise SuiteError(f"bad --seeds {text!r}; expected integers like 0,1,2 or 0-4") from None
    if not seeds:
        raise SuiteError(f"bad --seeds {text!r}; expected integers like 0,1,2 or 0-4")
    return tuple(dict.fromkeys(seeds))


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write to a temporary file, fsync, os.replace: readers see the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w") as fh:
            json.dump(obj, fh, indent=2, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def append_jsonl(path: Path, record: dict) -> None:
    """Append one line with a single write; a fragment left by a kill is isolated on its own line."""
    line = json.dumps(record, default=str, separators=(",", ":")).encode() + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            with path.open("rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> tuple[list[dict], int]:
    """Every parseable line of ``path`` and the number of lines skipped (a fragment left by a kill)."""
    lines, bad = [], 0
    if not path.is_file():
        return lines, bad
    for text in path.read_text(errors="replace").splitlines():
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(record, dict) and "key" in record:
            lines.append(record)
        else:
            bad += 1
    return lines, bad


def latest_by_key(lines: list[dict]) -> dict[str, dict]:
    """The last line of each key: a later line (a retry, added hardware) supersedes the earlier ones."""
    latest: dict[str, dict] = {}
    for record in lines:
        latest[record["key"]] = record
    return latest


def train_summary(train: dict | None) -> dict:
    """Best / final test error (%) out of a training record, whatever its exact field names."""
    train = train or {}

    def pick(*names):
        for n in names:
            if train.get(n) is not None:
                return train[n]
        return None

    def error(err_names, acc_names):
        v = pick(*err_names)
        if v is not None:
            return float(v)
        a = pick(*acc_names)
        if a is None:
            return None
        a = float(a)
        return 100.0 - (a * 100.0 if a <= 1.0 else a)

    return {
        "best_error_pct": error(("error_best_pct", "best_error_pct"), ("best_acc",)),
        "final_error_pct": error(("error_final_pct", "final_error_pct"), ("final_acc",)),
        "best_epoch": pick("error_best_epoch", "best_epoch"),
        "epochs": pick("epochs"),
        "epochs_planned": pick("epochs_planned"),
        "train_status": pick("status"),
    }


# --- planning -----------------------------------------------------------------------------------------------

def _jobs(table: TableSpec, models: tuple[str, ...] | None, known: list[str]) -> list[ModelJob]:
    by_model = {r.model: r for r in table.rows}
    by_label = {r.row.lower(): r for r in table.rows}

    def job(spec: RowSpec) -> ModelJob:
        return ModelJob(spec.row, spec.model, spec.published_head, spec.profiled_model)

    if models is None:
        chosen = [job(r) for r in table.rows]
    else:
        chosen = []
        for name in models:
            spec = by_model.get(name) or by_label.get(name.lower())
            if spec is not None:
                chosen.append(job(spec))
            elif name in known:
                chosen.append(ModelJob(None, name))
            else:
                raise unknown("model", name, known)
    for j in chosen:
        for name in {j.model, j.profiled_model or j.model}:
            if name not in known:
                raise unknown("model", name, known)
    return list({j.model: j for j in chosen}.values())


def config_hash(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _check_writable(out: Path) -> None:
    """Fail before any work if ``out`` cannot be created or written (checks the nearest existing folder)."""
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise SuiteError(f"--out {out} is not usable: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SuiteError(f"--out {out} is not writable ({probe} does not allow writing); choose another "
                         "--out")


def _device(requested: str | None) -> str:
    import torch

    if requested is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(requested)
    except RuntimeError:
        raise SuiteError(f"bad --device {requested!r}; expected cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SuiteError(f"--device {requested} asked for CUDA, and torch sees no CUDA device here; use "
                         "--device cpu")
    return str(dev)


def prepare(config: RunConfig, backends: Backends) -> Plan:
    """Validate every input and load the dataset; raises SuiteError before anything is written."""
    trainable = [k for k, t in TABLES.items() if t.dataset]
    if config.table not in TABLES:
        raise unknown("table", config.table, trainable)
    table = TABLES[config.table]
    if table.dataset is None:
        raise SuiteError(f"table {config.table} ({table.title}) has no training column; "
                         f"`suite run` reproduces tables {', '.join(trainable)}")
    if config.preset not in PRESETS:
        raise unknown("preset", config.preset, PRESETS)
    preset = PRESETS[config.preset]
    jobs = _jobs(table, config.models, list(backends.model_names()))
    if not jobs:
        raise SuiteError("no models to run: --models is empty")
    dataset_name = (config.dataset or table.dataset).lower()
    if dataset_name not in backends.dataset_names():
        raise unknown("dataset", dataset_name, backends.dataset_names())
    for name, value in (("--epochs", config.epochs), ("--train-subset", config.train_subset),
                        ("--test-subset", config.test_subset), ("--threads", config.threads)):
        if value is not None and value < 1:
            raise SuiteError(f"{name} must be a positive integer, got {value}")
    recipe_name = config.recipe or table.recipe or "threshnet"
    overrides = dict(config.recipe_overrides)
    epochs = config.epochs or preset.epochs
    if epochs is not None:
        overrides["epochs"] = epochs
    recipe = backends.get_recipe(recipe_name, **overrides)
    profiles = backends.parse_profiles(config.hardware or "rpi4", threads=config.threads)
    device = _device(config.device)
    if config.precision not in PRECISIONS:
        raise unknown("precision", config.precision, PRECISIONS)
    if config.precision == "fp16" and not device.startswith("cuda"):
        raise SuiteError("--precision fp16 needs a CUDA device (AMP with a grad scaler); use bf16 or fp32 "
                         "on the CPU")
    out = Path(config.out).expanduser()
    _check_writable(out)
    train_subset = config.train_subset if config.train_subset is not None else preset.train_subset
    test_subset = config.test_subset if config.test_subset is not None else preset.test_subset
    dataset = backends.load_dataset(dataset_name, data_dir=config.data_dir, download=config.download,
                                    train_subset=train_subset, test_subset=test_subset, device=device)
    identity = {"table": table.id, "dataset": dataset_name, "preset": preset.name, "recipe": as_dict(recipe),
                "train_subset": train_subset, "test_subset": test_subset, "precision": config.precision,
                "channels_last": config.channels_last}
    digest = config_hash(identity)
    name = config.run_name or f"table{table.id}-{dataset_name}-{preset.name}-{recipe_name}-{digest}"
    if "/" in name or name in ("", ".", ".."):
        raise SuiteError(f"bad --run-name {name!r}; use a plain folder name")
    _check_same_config(out / name, digest)
    return Plan(config, table, preset, jobs, dataset_name, dataset, recipe_name, recipe, profiles, device,
                train_subset, test_subset, out / name, digest)


def _check_same_config(run_dir: Path, digest: str) -> None:
    """A named run folder resumed with another configuration would mix incomparable lines: refuse."""
    try:
        previous = json.loads((run_dir / MANIFEST).read_text()).get("config_hash")
    except (OSError, json.JSONDecodeError):
        return
    if previous and previous != digest:
        raise SuiteError(f"{run_dir} holds a run with another configuration ({previous}, now {digest}); "
                         "choose another --run-name, or repeat that run's options to resume it")


def estimate_seconds(plan: Plan, backends: Backends, *, batch: int = 16) -> dict[str, float]:
    """Rough wall time per model: one timed training step, scaled to epochs x images x seeds (+ tests)."""
    if backends.time_train_step is None:
        return {}
    ds = plan.dataset
    shape = tuple(ds.image_shape) if hasattr(ds, "image_shape") else (3, 32, 32)
    estimates = {}
    for job in plan.jobs:
        recipe = plan.recipe
        if hasattr(recipe, "resolve"):
            recipe = recipe.resolve(job.model, plan.dataset_name)
        epochs = int(getattr(recipe, "epochs", None) or 1)
        per_image = backends.time_train_step(job.model, ds.num_classes, shape, batch, plan.device)
        images = epochs * (ds.train_count + ds.test_count / 3.0)  # a test image costs about a third of a step
        estimates[job.model] = per_image * images * len(plan.config.seeds)
    return estimates


# --- execution ----------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    row: str | None
    model: str
    seed: int
    status: str  # "ok", "failed", "skipped" (finished in an earlier invocation)
    record: dict
    elapsed_s: float = 0.0


def _manifest(plan: Plan, previous: dict | None) -> dict:
    from suite.provenance import provenance

    cfg = plan.config
    prev = previous or {}
    models = {m["model"]: m for m in prev.get("models", [])}
    models.update({j.model: asdict(j) for j in plan.jobs})
    invocation = {"started": now(), "argv": list(cfg.argv), "models": [j.model for j in plan.jobs],
                  "seeds": list(cfg.seeds), "hardware": [p.name for p in plan.profiles]}
    ds_meta = getattr(plan.dataset, "meta", {}) or {}
    return {
        "schema": SCHEMA,
        "run_name": plan.run_dir.name,
        "created": prev.get("created", now()),
        "updated": now(),
        "table": plan.table.id,
        "title": plan.table.title,
        "published_table": plan.table.published_table,
        "dataset": plan.dataset_name,
        "dataset_meta": {k: ds_meta.get(k) for k in ("fingerprint", "train_count", "test_count",
                                                      "full_counts", "checksum_verified", "subset_rule")
                         if k in ds_meta},
        "preset": plan.preset.to_dict(),
        "recipe_name": plan.recipe_name,
        "recipe": as_dict(plan.recipe),
        "recipe_overrides": dict(cfg.recipe_overrides),
        "epochs": cfg.epochs or plan.preset.epochs,
        "train_subset": plan.train_subset,
        "test_subset": plan.test_subset,
        "train_count": getattr(plan.dataset, "train_count", None),
        "test_count": getattr(plan.dataset, "test_count", None),
        "seeds": sorted(set(prev.get("seeds", [])) | set(cfg.seeds)),
        "models": list(models.values()),
        "hardware": list(dict.fromkeys([*prev.get("hardware", []), *(p.name for p in plan.profiles)])),
        "precision": cfg.precision,
        "channels_last": cfg.channels_last,
        "device": plan.device,
        "threads": cfg.threads,
        "config_hash": plan.config_hash,
        "provenance": provenance(plan.device),
        "invocations": [*prev.get("invocations", []), invocation],
    }


def _failure(stage: str, exc: BaseException) -> dict:
    return {"stage": stage, "reason": f"{type(exc).__name__}: {exc}".strip()[:500]}


class Runner:
    """Runs a Plan: one (model, seed) at a time, each line appended as soon as it is finished."""

    def __init__(self, plan: Plan, backends: Backends, *, progress: Any = None,
                 events: Callable[[str, dict], None] | None = None):
        self.plan, self.backends = plan, backends
        self.progress = progress  # a rich Progress shared with the training engine's bars, or None
        self.report = events or (lambda event, info: None)
        self.run_dir = plan.run_dir
        self.results_path = self.run_dir / RESULTS
        self._complexity: dict[str, dict] = {}  # per model: weights and seed do not change it

    # complexity and latency are per model, independent of training
    def complexity(self, job: ModelJob) -> dict:
        if job.model not in self._complexity:
            out: dict[str, Any] = {}
            head = self.plan.dataset.num_classes
            shape = tuple(getattr(self.plan.dataset, "image_shape", (3, 32, 32)))
            profiled = job.profiled_model or job.model
            pub_head = job.published_head or head
            # "as published": the model whose figures the paper printed, at 224, with the head it printed
            out["published"] = {"model": profiled, "num_classes": pub_head, "input_size": [3, 224, 224],
                                **self.backends.complexity(profiled, pub_head, (3, 224, 224))}
            out["trained"] = {"model": job.model, "num_classes": head, "input_size": list(shape),
                              **self.backends.complexity(job.model, head, shape)}
            self._complexity[job.model] = out
        return self._complexity[job.model]

    def latency(self, job: ModelJob, profiles: list) -> tuple[dict, list[dict]]:
        out, failures = {}, []
        shape = tuple(getattr(self.plan.dataset, "image_shape", (3, 32, 32)))
        for prof in profiles:
            try:
                out[prof.name] = self.backends.latency(
                    job.model, self.plan.dataset.num_classes, prof, input_size=shape,
                    threads=self.plan.config.threads, protocol=self.plan.preset.latency_protocol,
                    per_image_batch=self.plan.preset.per_image_batch)
            except Exception as exc:  # noqa: BLE001 - one hardware failing keeps the others
                failures.append(_failure(f"latency:{prof.name}", exc))
                self._log_exception(job, None, exc)
        return out, failures

    def _log_exception(self, job: ModelJob, seed: int | None, exc: BaseException) -> None:
        name = f"{job.model}-seed{seed}.log" if seed is not None else f"{job.model}.log"
        with (self.run_dir / "logs" / name).open("a") as fh:
            fh.write(f"--- {now()}\n")
            fh.write("".join(traceback.format_exception(exc)))
        log.error("%s seed %s: %s: %s", job.model, seed, type(exc).__name__, exc)

    def _base(self, job: ModelJob, seed: int) -> dict:
        plan = self.plan
        return {"schema": SCHEMA, "key": result_key(job.model, plan.dataset_name, seed),
                "run": plan.run_dir.name,
                "table": plan.table.id, "row": job.row, "model": job.model, "dataset": plan.dataset_name,
                "seed": seed, "preset": plan.preset.name, "recipe": plan.recipe_name,
                "train_subset": plan.train_subset, "test_subset": plan.test_subset,
                "precision": plan.config.precision, "device": plan.device}

    def run_one(self, job: ModelJob, seed: int) -> dict:
        plan, failures = self.plan, []
        record = self._base(job, seed) | {"started": now()}
        t0 = time.perf_counter()
        work_dir = self.run_dir / "work" / job.model / f"seed{seed}"
        work_dir.mkdir(parents=True, exist_ok=True)
        record["train"] = None
        try:
            result = self.backends.train_and_evaluate(
                job.model, plan.dataset, plan.recipe, seed=seed, work_dir=work_dir, device=plan.device,
                precision=plan.config.precision, channels_last=plan.config.channels_last,
                progress=self.progress)
            record["train"] = as_dict(result)
            status = record["train"].get("status", "ok")
            if status not in ("ok", "diverged"):  # the engine reports its own failures as a status
                failures.append({"stage": "train", "reason": record["train"].get("reason") or status})
                log.error("%s seed %d: training %s: %s", job.model, seed, status,
                          record["train"].get("reason"))
        except Exception as exc:  # noqa: BLE001 - a failing model never stops the others
            failures.append(_failure("train", exc))
            self._log_exception(job, seed, exc)
        record["summary"] = train_summary(record["train"])
        try:
            record["complexity"] = self.complexity(job)
        except Exception as exc:  # noqa: BLE001
            record["complexity"] = None
            failures.append(_failure("complexity", exc))
            self._log_exception(job, seed, exc)
        record["latency"], lat_failures = self.latency(job, plan.profiles)
        failures += lat_failures
        diverged = (record["train"] or {}).get("status") == "diverged"
        record.update(status="failed" if failures else "diverged" if diverged else "ok", failures=failures,
                      reason="; ".join(f"{f['stage']}: {f['reason']}" for f in failures) or None,
                      finished=now(), elapsed_s=round(time.perf_counter() - t0, 3))
        return record

    def supplement(self, record: dict, job: ModelJob, missing: list) -> dict:
        """A finished line that lacks some requested hardware: time it there and supersede the line."""
        latency, failures = self.latency(job, missing)
        updated = dict(record) | {"latency": {**(record.get("latency") or {}), **latency}, "finished": now()}
        if failures:
            updated.update(status="failed", failures=[*record.get("failures", []), *failures],
                           reason="; ".join(f"{f['stage']}: {f['reason']}" for f in failures))
        return updated

    def execute(self) -> list[Outcome]:
        plan = self.plan
        created = not self.run_dir.exists()
        try:
            (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
            previous = None
            if (self.run_dir / MANIFEST).is_file():
                try:
                    previous = json.loads((self.run_dir / MANIFEST).read_text())
                except (OSError, json.JSONDecodeError):
                    previous = None
            manifest = _manifest(plan, previous)
            write_json_atomic(self.run_dir / MANIFEST, manifest)
        except OSError as exc:
            if created:
                _remove_empty_tree(self.run_dir)
            reason = exc.strerror or exc
            raise SuiteError(f"cannot write the run directory {self.run_dir}: {reason}") from None
        handler = logging.FileHandler(self.run_dir / "logs" / "run.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        try:
            return self._loop(manifest)
        finally:
            log.removeHandler(handler)
            handler.close()

    def _loop(self, manifest: dict) -> list[Outcome]:
        plan = self.plan
        lines, bad = read_jsonl(self.results_path)
        if bad:
            log.warning("%s: %d unreadable line(s) ignored (an interrupted write)", self.results_path, bad)
        done = {k: r for k, r in latest_by_key(lines).items() if r.get("status") in FINISHED}
        outcomes: list[Outcome] = []
        total = len(plan.jobs) * len(plan.config.seeds)
        self.report("start", {"total": total, "run_dir": str(self.run_dir)})
        log.info("run %s: %d model(s) x %d seed(s), resuming %d finished", self.run_dir.name, len(plan.jobs),
                 len(plan.config.seeds), len(done))
        for job in plan.jobs:
            for seed in plan.config.seeds:
                key = result_key(job.model, plan.dataset_name, seed)
                self.report("begin", {"model": job.model, "row": job.row, "seed": seed})
                t0 = time.perf_counter()
                if key in done:
                    missing = [p for p in plan.profiles if p.name not in (done[key].get("latency") or {})]
                    if not missing:
                        outcomes.append(Outcome(job.row, job.model, seed, "skipped", done[key]))
                        self.report("end", {"model": job.model, "seed": seed, "status": "skipped"})
                        continue
                    record = self.supplement(done[key], job, missing)
                else:
                    record = self.run_one(job, seed)
                append_jsonl(self.results_path, record)
                status = record["status"]
                log.info("%s seed %d: %s%s", job.model, seed, status,
                         f" ({record['reason']})" if record.get("reason") else "")
                outcomes.append(Outcome(job.row, job.model, seed, status, record, time.perf_counter() - t0))
                self.report("end", {"model": job.model, "seed": seed, "status": status})
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        manifest.update(updated=now(), last_status=counts)
        manifest["invocations"][-1]["finished"] = now()
        manifest["invocations"][-1]["status"] = counts
        write_json_atomic(self.run_dir / MANIFEST, manifest)
        return outcomes


def _remove_empty_tree(path: Path) -> None:
    for sub in sorted(path.rglob("*"), reverse=True):
        if sub.is_dir():
            try:
                sub.rmdir()
            except OSError:
                return
    try:
        path.rmdir()
    except OSError:
        pass

