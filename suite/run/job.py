"""One job: train, profile and time one (model, dataset, seed); the same code under every executor.

A job runs in two phases so that timing stays clean. ``train_phase`` computes the complexity, trains (the engine
resumes from the job's epoch checkpoints), sets its throughput against the device's peak (suite.run.throughput)
and writes the training half of the record to ``trained.json``. ``time_phase`` measures every requested hardware
profile and writes the whole record to ``result.json``; the driver schedules it only while no job of the run
trains (see runner.py), and each measurement records where it ran (host, device, CUDA_VISIBLE_DEVICES, threads).
Both files are written atomically by whoever runs the job; only the driver appends to results.jsonl.

A worker (a gpus subprocess, a ray task, or the driver itself for ``local``) calls ``execute(task, emit)``;
``emit`` sends progress events (one per epoch) back to the driver.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from suite import usermodels
from suite.core.errors import DiskFullError, SuiteError
from suite.core.modes import EAGER, MODES, ModeChoice
from suite.device.peaks import Peak

from .backends import Backends, real_backends
from .contracts import RunDataset
from .modes import sticky
from .plan import NO_DATA, ModelJob, Plan, RunConfig, TimingInput
from .presets import Preset
from .progress import ProgressFile
from .records import (
    FINISHED,
    Line,
    ResultRecord,
    as_dict,
    failure,
    join_reasons,
    now,
    result_key,
    train_summary,
)
from .store import MANIFEST, TENSORBOARD, RunStore, job_lock, read_json, write_json_atomic
from .throughput import basis, gflop_per_image, throughput, training_images_per_s

log = logging.getLogger("suite.run")
UNPROBED = ModeChoice(EAGER, "--mode auto, never probed")  # a plan that reached a job without resolve_modes
Emit = Callable[[dict], None]


@dataclass(frozen=True)
class JobContext:
    """What a worker needs to rebuild the run's workspace: plain picklable values, never the dataset."""

    config: RunConfig
    run_dir: str
    table_id: str
    dataset_name: str
    recipe_name: str
    recipe_overrides: dict
    preset: Preset
    train_subset: int | None
    test_subset: int | None
    config_hash: str
    data_fingerprint: str | None
    executor: str = "local"
    backends: Callable[[], Backends] = real_backends  # pickled by reference: tests name their own factory

    @classmethod
    def from_plan(cls, plan: Plan, *, executor: str = "local",
                  backends: Callable[[], Backends] = real_backends) -> JobContext:
        meta = plan.dataset.meta
        return cls(plan.config, str(plan.run_dir), str(plan.table.id), plan.dataset_name, plan.recipe_name,
                   dict(plan.recipe_overrides), plan.preset, plan.train_subset, plan.test_subset,
                   plan.config_hash, meta.get("fingerprint"), executor, backends)

    @property
    def run_name(self) -> str:
        return Path(self.run_dir).name


@dataclass(frozen=True)
class Task:
    """One unit of work for an executor: a job's training phase, its timing phase, or a plain call."""

    phase: str  # "train" | "time" | "call"
    key: str = ""
    job: ModelJob | None = None
    seed: int | None = None
    attempt: str = ""
    context: JobContext | None = None
    record: dict | None = None  # time: the training half, or a finished record to add hardware to
    profiles: tuple[str, ...] = ()  # time: the hardware to measure
    fn: Callable | None = None  # call: a module-level function (pickled by reference)
    args: tuple = ()
    id: int = 0

    def parts(self) -> tuple[JobContext, ModelJob, int]:
        """Context, job and seed of a train or time task (a plain call has none)."""
        if self.context is None or self.job is None or self.seed is None:
            raise ValueError(f"a {self.phase} task without its job: {self.key or self.id}")
        return self.context, self.job, self.seed

    @property
    def label(self) -> str:
        if self.job is not None:
            return f"{self.job.model} seed {self.seed}"
        return self.fn.__name__ if self.fn is not None else "call"


def resolve_device(requested: str | None) -> str:
    """The training device where the job runs: None / "auto" means cuda if this worker sees one."""
    import torch

    if requested in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if torch.device(requested).type == "cuda" and not torch.cuda.is_available():
        raise SuiteError(f"--device {requested}: torch sees no CUDA device on {socket.gethostname()} "
                         f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r})")
    return requested


def set_threads(threads: int) -> None:
    """Intra-op threads, set explicitly: Ray and other launchers change OMP_NUM_THREADS on their own."""
    import torch

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)  # for anything this worker starts
    torch.set_num_threads(threads)


def _pinned_cores() -> list[int] | None:
    """The cores a slot's worker is pinned to (suite.run.executors.worker.pin); None when unpinned."""
    if not os.environ.get("SUITE_WORKER_CORES") or not hasattr(os, "sched_getaffinity"):
        return None
    return sorted(os.sched_getaffinity(0))


def _span(began: float) -> dict:
    """When a phase ran (Unix seconds): with job slots, the proof that nothing trained while a model was timed."""
    return {"began": round(began, 3), "ended": round(time.time(), 3)}


def worker_info(executor: str) -> dict:
    """Where a phase ran: recorded in every line, next to what it measured."""
    import torch

    return {"executor": executor, "host": socket.gethostname(), "pid": os.getpid(),
            "slot": os.environ.get("SUITE_WORKER_SLOT"), "ray_node_id": os.environ.get("SUITE_RAY_NODE_ID"),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "pinned_cores": _pinned_cores(), "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


# --- the workspace: dataset, recipe, profiles, as one worker sees them ---------------------------------------

@dataclass
class Workspace:
    context: JobContext
    backends: Backends
    dataset: Any
    recipe: Any
    profiles: list
    device: str
    progress: Any = None  # a rich Progress shared with the engine's bars (local executor only)
    complexity: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_plan(cls, plan: Plan, backends: Backends, context: JobContext, *, progress=None) -> Workspace:
        return cls(context, backends, plan.dataset, plan.recipe, list(plan.profiles), plan.device, progress)

    @classmethod
    def load(cls, context: JobContext) -> Workspace:
        """Rebuild the workspace in a worker (cached per process: a gpus worker runs many jobs)."""
        cached = _WORKSPACES.get(context.config_hash)
        if cached is not None and cached.context == context:
            return cached
        _check_run_dir(context)
        cfg = context.config
        backends = context.backends()
        device = resolve_device(cfg.device)
        dataset: RunDataset
        if context.dataset_name == NO_DATA:  # a timing-only table: an input shape and a head, no data
            from suite.tables import get_table

            dataset = TimingInput.of(get_table(context.table_id))
        else:
            dataset = backends.load_dataset(context.dataset_name, data_dir=cfg.data_dir, download=cfg.download,
                                            train_subset=context.train_subset, test_subset=context.test_subset,
                                            device=device)
        fingerprint = dataset.meta.get("fingerprint")
        if context.data_fingerprint and fingerprint != context.data_fingerprint:
            raise SuiteError(f"{context.dataset_name} on {socket.gethostname()} is not the driver's "
                             f"(fingerprint {fingerprint}, the driver's {context.data_fingerprint}): every "
                             "node must see the same --data-dir")
        recipe = backends.get_recipe(context.recipe_name, **context.recipe_overrides)
        profiles = list(backends.parse_profiles(cfg.hardware or "rpi4", threads=cfg.threads))
        ws = cls(context, backends, dataset, recipe, profiles, device)
        _WORKSPACES.clear()  # one run per worker at a time: do not keep an old dataset alive
        _WORKSPACES[context.config_hash] = ws
        return ws

    @property
    def store(self) -> RunStore:
        return RunStore(self.context.run_dir)

    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.dataset.image_shape)  # type: ignore[return-value]

    def epochs_planned(self, model: str) -> int | None:
        return self.recipe.resolve(model, self.context.dataset_name).epochs


_WORKSPACES: dict[str, Workspace] = {}


def _check_run_dir(context: JobContext) -> None:
    """A worker must see the driver's run directory: on a cluster --out is a path every node mounts."""
    manifest = read_json(Path(context.run_dir) / MANIFEST)
    if manifest is None or manifest.get("config_hash") != context.config_hash:
        raise SuiteError(f"the run directory {context.run_dir} is not visible on {socket.gethostname()}: with "
                         f"--executor {context.executor}, --out must be a path every node sees (a shared "
                         "filesystem mounted at the same path)")


# --- the two phases -----------------------------------------------------------------------------------------

def base_record(ctx: JobContext, job: ModelJob, seed: int, device: str) -> ResultRecord:
    cfg = ctx.config
    mode = job.mode or UNPROBED
    return ResultRecord(
        key=result_key(job.model, ctx.dataset_name, seed), run=ctx.run_name, table=ctx.table_id, row=job.row,
        model=job.model, dataset=ctx.dataset_name, seed=seed, preset=ctx.preset.name, recipe=ctx.recipe_name,
        train_subset=ctx.train_subset, test_subset=ctx.test_subset, precision=cfg.precision, device=device,
        fast=cfg.fast, compile=MODES[mode.mode].compile, mode=mode.to_dict(), executor=ctx.executor,
        user_model=usermodels.record(job.model, cfg.models_from))  # a user's model: its file and sha256


def log_exception(run_dir: str | Path, job: ModelJob, seed: int | None, exc: BaseException) -> None:
    name = f"{job.model}-seed{seed}.log" if seed is not None else f"{job.model}.log"
    try:
        logs = Path(run_dir) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / name).open("a") as fh:
            fh.write(f"--- {now()} on {socket.gethostname()}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        pass  # the reason is in the line all the same
    log.error("%s seed %s: %s: %s", job.model, seed, type(exc).__name__, exc)


def complexity(ws: Workspace, job: ModelJob) -> dict:
    """Per model (weights and seed do not change it), cached in the run directory for every worker."""
    if job.model in ws.complexity:
        return ws.complexity[job.model]
    path = ws.store.complexity_path(job.model)
    out = read_json(path)
    if out is None:
        head = ws.dataset.num_classes
        shape = ws.input_shape()
        profiled = job.profiled_model or job.model
        pub_head = job.published_head or head
        # "as published": the model whose figures the paper printed, at 224, with the head it printed
        out = {"trained": {"model": job.model, "num_classes": head, "input_size": list(shape),
                           **ws.backends.complexity(job.model, head, shape)}}
        try:
            out["published"] = {"model": profiled, "num_classes": pub_head, "input_size": [3, 224, 224],
                                **ws.backends.complexity(profiled, pub_head, (3, 224, 224))}
        except Exception as exc:
            # a user's network may be built for the table's input only: nothing was published for it at 224
            if usermodels.source_of(job.model, ws.context.config.models_from) is None:
                raise
            out["published"] = None
            out["published_skipped"] = f"not profiled at 3x224x224: {type(exc).__name__}: {exc}"[:300]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(path, out)
        except OSError:
            pass  # only a cache
    ws.complexity[job.model] = out
    return out


def training_peak(ws: Workspace, precision: str) -> Peak:
    """The peak this job's throughput is set against; read, never measured here (a job may train beside
    others: the driver measures a missing CPU peak before any training starts)."""
    if ws.backends.training_peak is None:
        return Peak(None, precision, "peak unknown: these backends declare none")
    import torch

    try:
        return ws.backends.training_peak(ws.device, precision, torch.get_num_threads())
    except Exception as exc:  # noqa: BLE001 - a figure beside the result, never a reason to fail the job
        return Peak(None, precision, f"peak unknown: {type(exc).__name__}: {exc}"[:300])


def train_phase(ws: Workspace, task: Task, emit: Emit) -> Line:
    """Train (resuming from the job's checkpoints) and profile; the training half goes to trained.json."""
    ctx, job, seed = task.parts()
    cfg = ctx.config
    job_dir = ws.store.job_dir(job.model, ctx.dataset_name, seed)
    job_dir.mkdir(parents=True, exist_ok=True)
    choice = job.mode or UNPROBED
    if not isinstance(ws.dataset, TimingInput):  # a resumed job trains on in the mode it started in
        choice = sticky(job_dir, choice)
    job, mode = replace(job, mode=choice), MODES[choice.mode]
    record = base_record(ctx, job, seed, ws.device)
    record.attempt, record.started = task.attempt, now()
    t0, began = time.perf_counter(), time.time()
    planned = ws.epochs_planned(job.model)
    info = {"key": task.key, "model": job.model, "row": job.row, "seed": seed}
    late: list[dict] = []  # the complexity's failure: listed after the training's
    try:  # before training: its FLOPs per image let `suite status` show achieved GFLOP/s while the job trains
        record.complexity = complexity(ws, job)
    except Exception as exc:  # noqa: BLE001
        record.complexity = None
        late.append(failure("complexity", exc))
        log_exception(ctx.run_dir, job, seed, exc)
    peak = training_peak(ws, cfg.precision)
    gflop = gflop_per_image(record.complexity)
    progress = ProgressFile(job_dir, attempt=task.attempt, model=job.model, seed=seed, epochs=planned,
                            basis=basis(gflop, peak))

    def on_epoch(entry: dict) -> None:
        progress.epoch(entry)
        seconds = entry.get("train_seconds")
        emit({"event": "epoch", **info, "epoch": entry.get("epoch"), "epochs": planned,
              "test_error_pct": entry.get("test_error_pct"), "seconds": entry.get("seconds"),
              "images_per_s": entry["train_images"] / seconds if seconds and entry.get("train_images") else None})

    failures: list[dict] = []
    if not isinstance(ws.dataset, TimingInput):  # a timing-only table: complexity and latency only
        try:
            progress.start()
            result = ws.backends.train_and_evaluate(
                job.model, ws.dataset, ws.recipe, seed=seed, work_dir=job_dir, device=ws.device,
                precision=cfg.precision, channels_last=mode.channels_last, progress=ws.progress,
                on_epoch_end=on_epoch, fast=cfg.fast, compile=mode.compile,
                tensorboard_dir=job_dir / TENSORBOARD, keep_final=ctx.preset.keep_checkpoints)
            train = record.train = as_dict(result)
            status = train.get("status", "ok")
            if status not in ("ok", "diverged"):  # the engine reports its own failures as a status
                failures.append({"stage": "train", "reason": train.get("reason") or status})
                log.error("%s seed %d: training %s: %s", job.model, seed, status, train.get("reason"))
        except DiskFullError:
            raise  # the whole run stops: the next model would fill the same disk
        except Exception as exc:  # noqa: BLE001 - a failing model never stops the others
            failures.append(failure("train", exc))
            log_exception(ctx.run_dir, job, seed, exc)
    record.summary = train_summary(record.train)
    if record.train is not None:
        resized = (record.train.get("recipe") or {}).get("image_size")  # a recipe may train at another size
        rate = gflop_per_image(record.complexity, resized) if resized else gflop
        record.throughput = throughput(training_images_per_s(record.train), rate, peak)
    record.failures = [*failures, *late]
    record.train_elapsed_s = round(time.perf_counter() - t0, 3)
    record.worker = {"train": {**worker_info(ctx.executor), **_span(began)}}
    line = record.to_dict()
    RunStore.write_trained(job_dir, line)
    emit({"event": "trained", **info, "failed": bool(failures)})
    return line


def measure(ws: Workspace, job: ModelJob, profile, runtimes_out: dict[str, dict] | None = None) -> dict:
    """One latency measurement (or prediction) of ``job.model`` on ``profile``; a remote device's runtimes
    beside eager (ONNX Runtime where it imports there) go into ``runtimes_out`` (runtime -> cell)."""
    cfg = ws.context.config
    latency = _latency_spec(ws.context.table_id)
    per_image_batch = ws.context.preset.per_image_batch if latency.per_image else None
    if profile.remote is not None:
        # `--hardware rpi4@host` / `ssh://host`: a bundle of this model is timed on that machine over SSH; a
        # device that cannot be reached fails this profile only (the caller records it, the others go on).
        from suite.device.remote import measure_remote

        cells: dict[str, dict[str, dict]] = {}
        records = measure_remote(profile, [(job.model, ws.dataset.num_classes)], input_size=ws.input_shape(),
                                 threads=profile.threads or None, protocol=ws.context.preset.latency_protocol,
                                 per_image_batch=per_image_batch, batch=latency.batch, runtimes_out=cells)
        record = records[job.model]
        if runtimes_out is not None and cells.get(job.model):
            runtimes_out.update(cells[job.model])
        if record.get("status") == "failed":
            raise SuiteError(f"{job.model} failed on {profile.remote.display}: {record.get('error')}")
        return record
    return as_dict(ws.backends.latency(job.model, ws.dataset.num_classes, profile, input_size=ws.input_shape(),
                                       threads=cfg.threads, protocol=ws.context.preset.latency_protocol,
                                       per_image_batch=per_image_batch,
                                       **({"batch": latency.batch} if latency.batch != 1 else {})))


def measure_runtimes(ws: Workspace, job: ModelJob, profile, out: dict[str, dict]) -> dict:
    """Eager's record on ``profile``; with ``--runtimes``, the others timed interleaved with it go into ``out``
    (hardware -> runtime -> cell: a timing with its output check, or why there is none)."""
    from suite.timing.runtimes import parse_runtimes, timed_here

    cfg = ws.context.config
    runtimes = parse_runtimes(cfg.runtimes)
    others = timed_here(runtimes, profile)
    if not others:
        device_cells: dict[str, dict] = {}
        record = measure(ws, job, profile, device_cells)
        if device_cells:  # a remote device times the runtimes it can import, whatever --runtimes says
            out[profile.name] = device_cells
        return record
    import zoo
    from suite.timing.latency import Protocol
    from suite.timing.runtimes import RUNTIMES
    from suite.timing.runtimes.measure import measure_runtimes as timed

    latency = _latency_spec(ws.context.table_id)
    proto = ws.context.preset.latency_protocol
    net = zoo.create_model(job.model, num_classes=ws.dataset.num_classes)  # timing does not depend on weights
    cells = timed(net, profile, [RUNTIMES["eager"], *others], name=job.model, input_size=ws.input_shape(),
                  batch=latency.batch, threads=cfg.threads, protocol=Protocol(**proto) if proto else None,
                  per_image_batch=ws.context.preset.per_image_batch if latency.per_image else None)
    out[profile.name] = {name: c.to_dict() for name, c in cells.items() if name != "eager"}
    return cells["eager"].record


def _latency_spec(table_id: str):
    """How the table's time columns are measured (suite.tables.Latency); the default for an unknown id."""
    from suite.tables import TABLES, Latency

    spec = TABLES.get(table_id)
    return spec.latency if spec is not None else Latency()


def time_phase(ws: Workspace, task: Task, emit: Emit) -> Line:
    """Measure the requested hardware and write the whole record to result.json (atomically)."""
    ctx, job, seed = task.parts()
    record = ResultRecord.from_dict(task.record or {})
    t0, began = time.perf_counter(), time.time()
    where = worker_info(ctx.executor)
    latency: dict[str, Line] = {}
    failures: list[Line] = []
    runtimes: dict[str, dict[str, Line]] = {}
    for prof in [p for p in ws.profiles if p.name in task.profiles]:
        try:
            value = measure_runtimes(ws, job, prof, runtimes)
        except Exception as exc:  # noqa: BLE001 - one hardware failing keeps the others
            failures.append(failure(f"latency:{prof.name}", exc))
            log_exception(ctx.run_dir, job, None, exc)
            continue
        if isinstance(value, dict):
            threads = value.get("threads") or prof.threads
            value["context"] = {"host": where["host"], "device": prof.device,
                                "cuda_visible_devices": where["cuda_visible_devices"], "threads": threads,
                                "executor": ctx.executor, "predicted": not prof.native,
                                "exclusive": "no job of this run trained while this was timed"}
        latency[prof.name] = value
    record.failures = [*record.failures, *failures]
    diverged = (record.train or {}).get("status") == "diverged"
    elapsed = round(time.perf_counter() - t0, 3)
    record.latency = {**record.latency, **latency}
    if runtimes:
        record.runtimes = {**record.runtimes, **runtimes}
    record.attempt = task.attempt
    record.status = "failed" if record.failures else "diverged" if diverged else "ok"
    record.reason = join_reasons(record.failures)
    record.finished = now()
    record.elapsed_s = round(float(record.train_elapsed_s or 0.0) + elapsed, 3)
    record.worker = {**record.worker, "time": {**where, **_span(began)}}
    record.started = record.started or now()
    job_dir = ws.store.job_dir(job.model, ctx.dataset_name, seed)
    job_dir.mkdir(parents=True, exist_ok=True)  # a line of an older run may have no job folder yet
    line = record.to_dict()
    RunStore.write_result(job_dir, line)
    if record.status in FINISHED and not ctx.preset.keep_checkpoints:
        from suite.train.checkpoint import remove_checkpoints

        remove_checkpoints(job_dir)  # the job is done: its record is on disk, a re-run skips it
    return line


def execute(task: Task, emit: Emit, workspace: Workspace | None = None) -> Line | object:
    """The worker's entry point, the same for every executor: a train or time task returns the record as
    written (``ResultRecord.to_dict()``), a call task its function's value."""
    if task.phase == "call":
        if task.fn is None:
            raise ValueError(f"a call task without its function: {task.id}")
        return task.fn(*task.args)
    from zoo.user import install  # torch: imported where a job runs

    ctx, job, seed = task.parts()
    install(ctx.config.models_from)  # a worker without the user's file: loaded from the job's bytes
    ws = workspace or Workspace.load(ctx)
    phases = {"train": train_phase, "time": time_phase}
    if task.phase not in phases:
        raise ValueError(f"unknown task phase {task.phase!r}")
    with job_lock(ws.store.job_dir(job.model, ctx.dataset_name, seed)):
        return phases[task.phase](ws, task, emit)
