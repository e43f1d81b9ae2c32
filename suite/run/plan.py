"""Configuration -> jobs: validate every input, resolve the table's rows, load the dataset; nothing written.

The run name is derived from everything that changes the numbers (table, dataset, preset, resolved recipe,
subsets, precision, --fast, --mode, the threads per job of --jobs), so re-running the same command finds the
directory and skips the finished lines; models, seeds, hardware and the executor are left out of it so that a
later command (on another machine, through another executor) can add to the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from suite import usermodels
from suite.core.errors import SuiteError, unknown
from suite.core.modes import AUTO, MODES, ModeChoice, spelled_mode
from suite.core.precision import PRECISIONS
from suite.timing.runtimes import check_profiles, parse_runtimes

from .backends import Backends
from .contracts import RunDataset, RunProfile, RunRecipe
from .executor_check import check_executor, executor_name
from .presets import PRESETS, Preset
from .slots import JobSlots, check_jobs, check_jobs_device
from .slots import resolve as resolve_slots
from .store import MANIFEST, read_json

if TYPE_CHECKING:  # the registry is imported where a plan is made (_table): suite.run itself stays torch-free
    from suite.tables import TableSpec

NO_DATA = "none"  # the dataset name of a timing-only table's run


def _table(name: str):
    """The table called ``name`` and the ids of the tables `suite run` can run (the one registry lookup)."""
    from suite.tables import TABLES, resolve

    runnable = [k for k, t in TABLES.items() if t.runnable]
    key = resolve(name)
    if key is None:
        raise unknown("table", name, runnable)
    return TABLES[key], runnable


@dataclass(frozen=True)
class TimingInput:
    """What a timing-only table (no training column) stands on instead of a dataset: an input and a head."""

    num_classes: int
    image_shape: tuple[int, int, int]
    name: str = NO_DATA
    train_count: int = 0
    test_count: int = 0
    meta: dict = field(default_factory=dict)

    @classmethod
    def of(cls, table) -> TimingInput:
        heads = {r.published_head for r in table.rows}
        return cls(max(heads), tuple(table.latency.input_size or (3, 224, 224)),
                   meta={"fingerprint": None, "note": "timing only: no data set, random inputs of this shape"})


@dataclass(frozen=True)
class ModelJob:
    row: str | None  # the paper table's row label, None for a model outside the table
    model: str  # zoo model trained and timed
    published_head: int | None = None  # head of the published complexity figures
    profiled_model: str | None = None  # model whose complexity the published row printed
    mode: ModeChoice | None = None  # the exact mode it trains in (suite.run.modes); None: --mode auto, not probed yet


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
    download: bool | None = None  # None: suite.data decides (download when missing and the host answers)
    out: str = "results"
    run_name: str | None = None
    hardware: str | None = None  # comma-separated; None: the table's (suite.tables: rpi4 for the Pi tables)
    runtimes: str | None = None  # comma-separated (suite.timing.runtimes); None: eager only. Not in the run's name
    precision: str = "fp32"
    mode: str | None = None  # suite.core.modes: auto or an exact mode for every model; None: the preset's
    channels_last: bool = False  # spellings of a pinned --mode (channels_last, compile, channels_last+compile)
    device: str | None = None  # None: cuda if available, else cpu (decided where the job runs)
    threads: int | None = None
    fast: bool = False  # cudnn.benchmark, TF32, non-deterministic kernels (what the authors ran)
    compile: bool = False  # torch.compile, eager where a model does not compile (see mode)
    keep_checkpoints: bool = False  # keep finished jobs' checkpoints where the preset removes them (not identity)
    executor: str = "local"
    gpus: tuple[str, ...] | None = None  # gpus executor: GPU ids; None: every visible GPU
    jobs_per_gpu: int = 1
    max_attempts: int = 3  # a job whose worker dies is run again up to this many times in all
    ray_address: str | None = None  # None: $RAY_ADDRESS, else a local Ray instance for the run
    workers: int | None = None  # DataLoader workers of a streamed data set; None: $SUITE_DATA_WORKERS, else 8
    jobs: str | int | None = None  # local executor: CPU jobs at once, a count or "auto"; None: the preset's
    argv: tuple[str, ...] = ()
    # zoo.user.UserSource of --models-from, loaded: each carries its file's text, so that every worker (a Ray
    # node without the file) loads the same bytes; their sha256 are part of the run's identity
    models_from: tuple = ()


@dataclass
class Plan:
    """A validated configuration: everything resolved, nothing written yet."""

    config: RunConfig
    table: TableSpec
    preset: Preset
    jobs: list[ModelJob]
    dataset_name: str
    dataset: RunDataset
    recipe_name: str
    recipe: RunRecipe
    profiles: list[RunProfile | DeferredProfile]
    device: str  # "auto" where each worker decides (the ray executor)
    train_subset: int | None
    test_subset: int | None
    run_dir: Path
    config_hash: str
    recipe_overrides: dict = field(default_factory=dict)  # what get_recipe was called with (epochs included)
    # where epochs, train_subset and test_subset came from: a flag, "<name> preset", the recipe, the whole set
    origins: dict[str, str] = field(default_factory=dict)
    slots: JobSlots = field(default_factory=JobSlots)  # the local executor's CPU job slots (suite.run.slots)


MAX_SEEDS = 1000  # a typo like 0-100000000 is refused before anything is allocated


def parse_seeds(text: str | None) -> tuple[int, ...]:
    """'0,1,2' or '0-2' -> (0, 1, 2); empty items, reversed ranges and more than MAX_SEEDS seeds are errors."""
    if text is None or str(text).strip() == "":
        return (0,)
    usage = f"bad --seeds {text!r}; expected non-negative integers like 0,1,2 or 0-4"
    seeds: dict[int, None] = {}
    for part in str(text).split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise SuiteError(usage) from None
        if last < first:
            raise SuiteError(f"bad --seeds {text!r}: the range {part.strip()} is empty (write low-high)")
        if len(seeds) + (last - first + 1) > MAX_SEEDS:
            raise SuiteError(f"--seeds {text!r} names more than {MAX_SEEDS} seeds; give fewer")
        seeds.update(dict.fromkeys(range(first, last + 1)))
    return tuple(seeds)


def config_hash(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _jobs(table, models: tuple[str, ...] | None, known: list[str],
          user: tuple[str, ...] | list[str] = ()) -> list[ModelJob]:
    by_model = {r.model: r for r in table.rows}
    by_label = {r.row.lower(): r for r in table.rows}

    def job(spec) -> ModelJob:
        return ModelJob(spec.row, spec.model, spec.published_head, spec.profiled_model)

    if models is None:  # every row, and the user's own models below them
        chosen = [job(r) for r in table.rows] + [ModelJob(None, m) for m in user]
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


def _executor_device(config: RunConfig) -> str:
    """The training device as the driver states it; the gpus and ray drivers never touch CUDA themselves."""
    if config.executor == "local":
        return _device(config.device)
    if config.device not in (None, "cpu", "cuda", "cuda:0"):
        raise SuiteError(f"--device {config.device} with --executor {config.executor}: each worker sees only "
                         "its own GPU(s); use --device cuda (or leave it out)")
    if config.executor == "gpus":
        if config.device == "cpu":
            raise SuiteError("--executor gpus trains on GPUs; use --executor local or ray for --device cpu")
        return "cuda"
    return "cpu" if config.device == "cpu" else "auto"


@dataclass(frozen=True)
class DeferredProfile:
    """A profile the driver of workers does not resolve itself (it never touches CUDA): each worker does."""

    name: str
    device: str = "cuda"
    native: bool = True
    threads: int | None = None
    remote: None = None  # a GPU of a worker is never a remote device


def _profiles(config: RunConfig, backends: Backends) -> list[RunProfile | DeferredProfile]:
    text = config.hardware or "rpi4"
    if config.executor == "local":
        return list(backends.parse_profiles(text, threads=config.threads))
    names = list(dict.fromkeys(n.strip().lower() for n in str(text).split(",") if n.strip()))
    if not names:
        return list(backends.parse_profiles(text, threads=config.threads))  # its own error for an empty list
    return [DeferredProfile(n) if n == "gpu" else backends.parse_profiles(n, threads=config.threads)[0]
            for n in names]


def reach_remotes(profiles: Sequence[RunProfile | DeferredProfile], backends: Backends) -> None:
    """Log in to every remote device (and find its torch) now, so that none is found unreachable after training."""
    if backends.reach_remote is None:
        return
    for profile in profiles:
        if not isinstance(profile, DeferredProfile) and profile.remote is not None:
            backends.reach_remote(profile)


def _identity(table, dataset_name: str, preset: Preset, recipe, train_subset, test_subset,
              config: RunConfig, slots: JobSlots) -> dict:
    # notes and listed choices do not change the numbers: only the fields that do name the run
    numbers = recipe.identity()
    # a pinned mode names the run as --channels-last / --compile did, so that those runs keep their names
    pinned = MODES.get(config.mode or "")
    identity = {"table": table.id, "dataset": dataset_name, "preset": preset.name, "recipe": numbers,
                "train_subset": train_subset, "test_subset": test_subset, "precision": config.precision,
                "channels_last": bool(pinned and pinned.channels_last)}
    # only when set, so that the runs without them keep their names
    identity.update({flag: True for flag, on in (("fast", config.fast), ("compile", pinned and pinned.compile))
                     if on})
    if pinned is None:
        identity["mode"] = config.mode
    identity.update(slots.identity())  # the threads per job, when --jobs chose them: they change the weights
    if config.models_from:  # an edited model file starts a new run; the same file resumes
        identity["user_models"] = [src.identity() for src in config.models_from]
    return identity


def run_name(table, dataset_name: str, preset: Preset, recipe_name: str, digest: str) -> str:
    prefix = f"table{table.id}" if str(table.id).isdigit() else str(table.id)
    return f"{prefix}-{dataset_name}-{preset.name}-{recipe_name}-{digest}"


def prepare(config: RunConfig, backends: Backends) -> Plan:
    """Validate every input and load the dataset; raises SuiteError before anything is written."""
    config = replace(config, table=str(config.table).strip(), preset=config.preset.strip().lower(),
                     precision=config.precision.strip().lower(), executor=executor_name(config.executor))
    table, runnable = _table(config.table)
    # Each table names the hardware it is usually timed on (rpi4 for the Pi tables, cpu otherwise).
    config = replace(config, hardware=config.hardware or table.hardware)
    if not table.runnable:
        raise SuiteError(f"table {table.id} ({table.title}) is complexity only: `python -m suite report` computes "
                         f"it, no run needed (`suite run` runs {', '.join(runnable)})")
    if config.preset not in PRESETS:
        raise unknown("preset", config.preset, PRESETS)
    preset = PRESETS[config.preset]
    if config.keep_checkpoints:  # not identity: the run's name stays the same
        preset = replace(preset, keep_checkpoints=True)
    config, mode_origin = _mode(config, preset)
    jobs = _jobs(table, config.models, list(backends.model_names()), usermodels.user_models(config.models_from))
    if not jobs:
        raise SuiteError("no models to run: --models is empty")
    dataset_name = (config.dataset or table.dataset or NO_DATA).lower()
    if table.trainable and dataset_name not in backends.dataset_names():
        raise unknown("dataset", dataset_name, backends.dataset_names())
    for name, value in (("--epochs", config.epochs), ("--train-subset", config.train_subset),
                        ("--test-subset", config.test_subset), ("--threads", config.threads),
                        ("--jobs-per-gpu", config.jobs_per_gpu), ("--max-attempts", config.max_attempts)):
        if value is not None and value < 1:
            raise SuiteError(f"{name} must be a positive integer, got {value}")
    if config.workers is not None and config.workers < 0:
        raise SuiteError(f"--workers must be 0 or more, got {config.workers}")
    check_jobs(config.jobs, executor=config.executor, threads=config.threads)
    if config.run_name is not None:
        from zoo.names import UnsafeNameError, check_name

        try:
            check_name(config.run_name, "--run-name")
        except UnsafeNameError as exc:
            raise SuiteError(str(exc)) from None
    recipe_name = config.recipe or table.recipe or "threshnet"
    overrides, origins = _epochs(config, preset, backends, recipe_name)
    recipe = backends.get_recipe(recipe_name, **overrides)
    runtimes = parse_runtimes(config.runtimes)  # every name known and installed before anything is read
    profiles = _profiles(config, backends)
    check_profiles(runtimes, profiles)
    if config.precision not in PRECISIONS:
        raise unknown("precision", config.precision, PRECISIONS)
    device = _executor_device(config)
    check_jobs_device(config.jobs, config.executor, device)
    if config.precision == "fp16" and device == "cpu":
        raise SuiteError("--precision fp16 needs a CUDA device (AMP with a grad scaler); use bf16 or fp32 "
                         "on the CPU")
    out = Path(config.out).expanduser()
    _check_writable(out)
    check_executor(config)  # Ray installed and reachable, GPUs that exist: before the dataset is read
    reach_remotes(profiles, backends)
    train_subset, origins["train_subset"] = _explicit_or_preset(config.train_subset, "--train-subset", preset,
                                                                 preset.train_subset)
    test_subset, origins["test_subset"] = _explicit_or_preset(config.test_subset, "--test-subset", preset,
                                                               preset.test_subset)
    load_on = device if config.executor == "local" else "cpu"  # the driver of workers stays off the GPU
    if table.trainable:
        dataset = backends.load_dataset(dataset_name, data_dir=config.data_dir, download=config.download,
                                        train_subset=train_subset, test_subset=test_subset, device=load_on)
    else:
        if config.dataset:
            raise SuiteError(f"table {table.id} times models on random inputs: it takes no --dataset")
        dataset, train_subset, test_subset = TimingInput.of(table), None, None
    if config.models_from:  # builds, has parameters, (batch, classes) at the table's input: before any write
        usermodels.check([j.model for j in jobs], num_classes=dataset.num_classes,
                         input_size=tuple(getattr(dataset, "image_shape", (3, 32, 32))), sources=config.models_from)
    slots = resolve_slots(config.jobs, preset_jobs=preset.jobs, preset_name=preset.name, executor=config.executor,
                          device=device, threads=config.threads, probe=backends.scaling_probe)
    digest = config_hash(_identity(table, dataset_name, preset, recipe, train_subset, test_subset, config, slots))
    name = config.run_name or run_name(table, dataset_name, preset, recipe_name, digest)
    _check_same_config(out / name, digest)
    origins["mode"] = mode_origin
    if config.mode != AUTO:  # pinned: every model's mode is known now; auto is probed by suite.run.modes
        jobs = [replace(j, mode=ModeChoice(str(config.mode), mode_origin)) for j in jobs]
    return Plan(config, table, preset, jobs, dataset_name, dataset, recipe_name, recipe, profiles, device,
                train_subset, test_subset, out / name, digest, overrides, origins, slots)


def _mode(config: RunConfig, preset: Preset) -> tuple[RunConfig, str]:
    """The configuration with its --mode resolved (flag, its spellings, else the preset's) and where it came
    from; the boolean spellings then agree with it (both false for auto: each model has its own)."""
    flags = " ".join(f for f, on in (("--channels-last", config.channels_last), ("--compile", config.compile))
                     if on)
    given = spelled_mode(config.mode, channels_last=config.channels_last, compile=config.compile)
    mode = given or preset.mode
    origin = ("--mode" if config.mode is not None else flags) if given else f"{preset.name} preset"
    pinned = MODES.get(mode)
    return replace(config, mode=mode, channels_last=bool(pinned and pinned.channels_last),
                   compile=bool(pinned and pinned.compile)), origin


def _explicit_or_preset(explicit: int | None, flag: str, preset: Preset, preset_value: int | None,
                        fallback: str = "the whole data set") -> tuple[int | None, str]:
    """An explicit value always wins over the preset's; the second item says where the figure came from."""
    if explicit is not None:
        return explicit, flag
    if preset_value is not None:
        return preset_value, f"{preset.name} preset"
    return None, fallback


def _epochs(config: RunConfig, preset: Preset, backends: Backends, recipe_name: str) -> tuple[dict, dict[str, str]]:
    """The recipe overrides with the epochs this run trains: --epochs or --set epochs=N, else the preset's,
    else the recipe's own; and where that figure came from."""
    overrides = dict(config.recipe_overrides)
    if "epochs" in overrides:  # as typed: the recipe converts and checks it
        typed = backends.get_recipe(recipe_name, epochs=overrides["epochs"]).epochs
        if config.epochs is not None and typed != config.epochs:
            raise SuiteError(f"--epochs {config.epochs} and --set epochs={overrides['epochs']} disagree; give one")
        if config.epochs is None:
            return overrides, {"epochs": "--set"}
    epochs, origin = _explicit_or_preset(config.epochs, "--epochs", preset, preset.epochs, "recipe")
    if epochs is not None:
        overrides["epochs"] = epochs
    return overrides, {"epochs": origin}


def _check_same_config(run_dir: Path, digest: str) -> None:
    """A named run folder resumed with another configuration would mix incomparable lines: refuse."""
    previous = (read_json(run_dir / MANIFEST) or {}).get("config_hash")
    if previous and previous != digest:
        raise SuiteError(f"{run_dir} holds a run with another configuration ({previous}, now {digest}); "
                         "choose another --run-name, or repeat that run's options to resume it")


# --- the time estimate --------------------------------------------------------------------------------------

def estimate_seconds(plan: Plan, backends: Backends, *, batch: int = 16, timer=None,
                     budget_s: float | None = None) -> dict[str, float]:
    """Rough serial time per model: one training step in the model's mode, scaled to epochs x images x seeds
    (+ tests). A probed mode's rate (at the run's batch) is that step; otherwise one step is timed.

    ``timer`` runs ``time_train_step`` where the jobs will run (an executor's worker); default: here.
    ``budget_s``: once the timed steps took this long, the models left are not timed (absent from the result).
    """
    step = backends.time_train_step
    if not plan.table.trainable:
        return {}
    ds = plan.dataset
    shape = tuple(ds.image_shape)
    device = plan.device  # "auto": the worker decides (backends.time_train_step)
    estimates: dict[str, float] = {}
    t0 = time.perf_counter()
    for job in plan.jobs:
        if budget_s is not None and estimates and time.perf_counter() - t0 > budget_s:
            break
        epochs = int(plan.recipe.resolve(job.model, plan.dataset_name).epochs or 1)
        mode = job.mode.mode if job.mode is not None else "eager"
        rate = job.mode.images_per_s.get(mode) if job.mode is not None else None
        if rate:
            per_image = 1.0 / rate
        elif step is None:
            continue
        else:
            args = (job.model, ds.num_classes, shape, batch, device, mode)
            per_image = timer(step, *args) if timer is not None else step(*args)
        images = epochs * (ds.train_count + ds.test_count / 3.0)  # a test image costs about a third of a step
        estimates[job.model] = per_image * images * len(plan.config.seeds)
    return estimates


def estimate_wall(estimates: dict[str, float], slots: int, seeds: int = 1, speedup: float | None = None) -> float:
    """Wall time on ``slots`` parallel slots: the (model, seed) jobs packed longest first, each onto the slot
    that is free soonest. ``speedup``: the measured aggregate speed-up of ``slots`` CPU slots over one slot of
    all threads (they share the cores, so each job runs ``slots / speedup`` times longer than alone); None: slots
    that do not share (a GPU each)."""
    if not estimates:
        return 0.0
    slots, seeds = max(slots, 1), max(seeds, 1)
    stretch = slots / speedup if speedup else 1.0
    jobs = sorted((t / seeds * stretch for t in estimates.values() for _ in range(seeds)), reverse=True)
    ends = [0.0] * slots
    for seconds in jobs:
        soonest = ends.index(min(ends))
        ends[soonest] += seconds
    return max(ends)
