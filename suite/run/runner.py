"""The driver: harvest what finished, hand the rest to an executor, append each line as it comes back.

On start the driver takes the run directory's lock, writes the manifest, appends every finished
``result.json`` that has no line yet (``RunStore.harvest``) and submits only what is left: a job with a
``trained.json`` of an unfinished attempt goes straight to timing, a finished line that lacks some requested
hardware gets only that timed. Nothing is ever lost to a kill: the next invocation picks up the checkpoints.

Timing stays clean: a timing task starts only while no job of the run trains, and no training starts while
one is timed. With one slot that is today's order (train, time, next); with several, training fills every
slot and the timing of finished jobs waits until the slots drain (at the end, or a gap).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from suite.core.errors import DISK_FULL, SuiteError
from suite.timing.runtimes import lacking, parse_runtimes

from .backends import Backends, real_backends
from .executors.local import LocalExecutor
from .job import JobContext, Task, base_record
from .modes import resolve_modes
from .plan import ModelJob, Plan
from .records import FINISHED, SCHEMA, Line, ResultRecord, as_dict, failure, join_reasons, new_attempt, now, result_key
from .store import RunStore
from .throughput import RULE

log = logging.getLogger("suite.run")


@dataclass
class Outcome:
    row: str | None
    model: str
    seed: int
    status: str  # "ok", "failed", "diverged", "skipped" (finished in an earlier invocation)
    record: dict
    elapsed_s: float = 0.0


def manifest_for(plan: Plan, previous: dict | None, executor: dict | None = None) -> dict:
    from suite.core.provenance import provenance

    cfg = plan.config
    prev = previous or {}
    models = {m["model"]: m for m in prev.get("models", [])}
    models.update({j.model: asdict(j) for j in plan.jobs})
    # host and pid: `suite status` tells a driver that is still running from one that was killed
    invocation = {"started": now(), "host": socket.gethostname(), "pid": os.getpid(), "argv": list(cfg.argv),
                  "models": [j.model for j in plan.jobs], "seeds": list(cfg.seeds),
                  "hardware": [p.name for p in plan.profiles], "executor": executor or {"name": cfg.executor}}
    ds_meta = plan.dataset.meta
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
        "epochs": plan.recipe.epochs if "epochs" in plan.recipe_overrides else None,  # set by a flag or preset
        "train_subset": plan.train_subset,
        "test_subset": plan.test_subset,
        "train_count": plan.dataset.train_count,
        "test_count": plan.dataset.test_count,
        "seeds": sorted(set(prev.get("seeds", [])) | set(cfg.seeds)),
        "models": list(models.values()),
        "hardware": list(dict.fromkeys([*prev.get("hardware", []), *(p.name for p in plan.profiles)])),
        "precision": cfg.precision,
        "mode": cfg.mode,  # auto, or the exact mode of every model; each model's under "models"
        "channels_last": cfg.channels_last,
        "fast": cfg.fast,
        "compile": cfg.compile,
        "device": plan.device,
        "threads": cfg.threads,
        "config_hash": plan.config_hash,
        "provenance": provenance("cpu" if plan.device in ("auto", "cuda") else plan.device),
        "invocations": [*prev.get("invocations", []), invocation],
        **({"user_models": [src.provenance() for src in cfg.models_from]} if cfg.models_from else {}),
    }


def host_change(previous: dict | None, host: str) -> str | None:
    """A warning when this command appends to a run directory that earlier commands filled on other hosts."""
    others = sorted({str(i["host"]) for i in (previous or {}).get("invocations", [])
                     if i.get("host") and i["host"] != host})
    if not others:
        return None
    return (f"appending to a run directory filled earlier on {', '.join(others)}; this is {host}: its lines "
            "(times above all) come from a different machine, and the report says so. Use --run-name for a "
            "separate run")


class Runner:
    """Runs a Plan through an executor (default: local, in this process); appends each line as it finishes."""

    def __init__(self, plan: Plan, backends: Backends, *, progress: Any = None,
                 events: Callable[[str, dict], None] | None = None, executor=None,
                 backends_factory: Callable[[], Backends] = real_backends):
        self.plan, self.backends = plan, backends
        self.progress = progress
        self.report = events or (lambda event, info: None)
        self.executor = executor or LocalExecutor(plan, backends, progress=progress)
        self.context = JobContext.from_plan(plan, executor=self.executor.name, backends=backends_factory)
        self.run_dir = plan.run_dir
        self.store = RunStore(self.run_dir)
        self.results_path = self.store.results_path
        self._ids = 0

    # --- setup ----------------------------------------------------------------------------------------------
    def _open(self) -> dict:
        created = not self.run_dir.exists()
        try:
            self.store.logs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if created:
                _remove_empty_tree(self.run_dir)
            raise SuiteError(f"cannot write the run directory {self.run_dir}: {exc.strerror or exc}") from None
        return {"created": created}

    def execute(self) -> list[Outcome]:
        # --mode auto: every model's mode probed before any job trains (a no-op when the caller did it)
        self.plan = resolve_modes(self.plan, self.backends, self.executor.call)
        info = self._open()
        with self.store.driver_lock():
            try:
                previous = self.store.manifest()
                changed = host_change(previous, socket.gethostname())
                if changed:
                    warnings.warn(changed, stacklevel=1)
                manifest = manifest_for(self.plan, previous, self.executor.describe())
                self.store.write_manifest(manifest)
            except OSError as exc:
                if info["created"]:
                    _remove_empty_tree(self.run_dir)
                raise SuiteError(f"cannot write the run directory {self.run_dir}: {exc.strerror or exc}") from None
            handler = logging.FileHandler(self.store.logs / "run.log")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
            try:
                self.executor.check_shared(self.run_dir)
                return self._loop(manifest)
            finally:
                log.removeHandler(handler)
                handler.close()

    # --- tasks ----------------------------------------------------------------------------------------------
    def _task(self, phase: str, job: ModelJob, seed: int, attempt: str, **kw) -> Task:
        self._ids += 1
        return Task(phase, key=result_key(job.model, self.plan.dataset_name, seed), job=job, seed=seed,
                    attempt=attempt, context=self.context, id=self._ids, **kw)

    def _crash_record(self, task: Task, reason: str) -> Line:
        """The line of a job whose worker kept dying (or whose task could not run at all)."""
        _, job, seed = task.parts()
        record = (ResultRecord.from_dict(task.record) if task.record else
                  base_record(self.context, job, seed, self.plan.device))
        record.failures = [*record.failures, failure(task.phase, reason)]
        record.attempt, record.status, record.finished = task.attempt, "failed", now()
        record.reason = join_reasons(record.failures)
        return record.to_dict()

    def _loop(self, manifest: dict) -> list[Outcome]:
        plan, store = self.plan, self.store
        cut = store.drop_partial_tail()  # a line a killed driver left half-written; harvest re-adds it whole
        if cut:
            log.warning("%s: removed a half-written last line (%d bytes)", self.results_path, cut)
        harvested = store.harvest()
        if harvested:
            log.info("harvested %d finished job(s) whose line a killed driver had not written",
                     len(harvested))
        lines, bad = store.all_lines()
        if bad:
            log.warning("%s: %d unreadable line(s) ignored (an interrupted write)", self.results_path, bad)
        latest = {r["key"]: r for r in lines}
        records = {k: ResultRecord.from_dict(r) for k, r in latest.items()}
        with_lines = {r["attempt"] for r in lines if r.get("attempt")}
        done = {k: r for k, r in latest.items() if records[k].status in FINISHED}
        names = [p.name for p in plan.profiles]
        runtimes = parse_runtimes(plan.config.runtimes)  # added to a finished line: timed, never trained again
        outcomes: dict[str, Outcome] = {}
        order: list[str] = []
        train_q: deque[Task] = deque()
        time_q: deque[Task] = deque()
        total = len(plan.jobs) * len(plan.config.seeds)
        self.report("start", {"total": total, "run_dir": str(self.run_dir), "executor": self.executor.name,
                              "slots": self.executor.slots})
        log.info("run %s: %d model(s) x %d seed(s), resuming %d finished, executor %s (%s)", self.run_dir.name,
                 len(plan.jobs), len(plan.config.seeds), len(done), self.executor.name,
                 self.executor.slots_text())
        for job in plan.jobs:
            for seed in plan.config.seeds:
                key = result_key(job.model, plan.dataset_name, seed)
                order.append(key)
                if key in done:
                    missing = tuple(p.name for p in plan.profiles if lacking(done[key], p, runtimes))
                    if not missing:
                        outcomes[key] = Outcome(job.row, job.model, seed, "skipped", done[key])
                        self.report("begin", {"model": job.model, "row": job.row, "seed": seed})
                        self.report("end", {"model": job.model, "seed": seed, "status": "skipped"})
                        continue
                    time_q.append(self._task("time", job, seed, new_attempt(), record=done[key],
                                             profiles=missing))
                    continue
                trained = store.read_trained(store.job_dir(job.model, plan.dataset_name, seed))
                attempt = ResultRecord.from_dict(trained).attempt if trained else ""
                if trained and attempt and attempt not in with_lines:
                    # trained by an attempt that was stopped before its line: time it, do not train again
                    time_q.append(self._task("time", job, seed, attempt, record=trained,
                                             profiles=tuple(names)))
                else:
                    train_q.append(self._task("train", job, seed, new_attempt()))
        if train_q:
            log.info("training throughput (each job's line): %s", RULE)
            self._cpu_peak_before_training()
        self._schedule(train_q, time_q, outcomes)
        result = [outcomes[k] for k in order if k in outcomes]
        counts: dict[str, int] = {}
        for o in result:
            counts[o.status] = counts.get(o.status, 0) + 1
        manifest.update(updated=now(), last_status=counts)
        manifest["invocations"][-1]["finished"] = now()
        manifest["invocations"][-1]["status"] = counts
        store.write_manifest(manifest)
        return result

    def _cpu_peak_before_training(self) -> None:
        """A CPU run's peak FLOP/s, measured here once when this host has none stored for the run's precision and
        threads: before any job trains (never beside one), so that each job only reads it."""
        peak_of = self.backends.training_peak
        if peak_of is None or self.plan.device != "cpu":
            return
        import torch

        threads = int(self.executor.threads or torch.get_num_threads())  # what a job uses
        precision = self.plan.config.precision
        try:
            peak = peak_of("cpu", precision, threads, measure_by="suite run")
        except Exception as exc:  # noqa: BLE001 - the jobs say "peak unknown"; the run goes on
            log.warning("CPU peak (%s, %d threads) not measured: %s: %s", precision, threads, type(exc).__name__, exc)
            return
        if peak.measured_now and peak.gflops is not None:
            kept = "stored for later runs" if peak.stored else "not stored: the machine was busy"
            text = (f"measured this host's CPU peak before training (none was stored for {precision} at {threads} "
                    f"thread(s)): {peak.gflops:,.1f} GFLOP/s, {kept}")
            log.info("%s", text)
            self.report("note", {"text": text})

    # --- the scheduling loop --------------------------------------------------------------------------------
    def _schedule(self, train_q: deque, time_q: deque, outcomes: dict[str, Outcome]) -> None:
        ex = self.executor
        running: dict[int, Task] = {}
        tries: dict[str, int] = {}
        started: dict[str, float] = {}
        single = ex.slots == 1
        max_attempts = max(1, self.plan.config.max_attempts)
        disk_full: str | None = None
        ex.start(self._event)
        try:
            while train_q or time_q or running:
                while ex.free() > 0:
                    task = self._next(train_q, time_q, running, single)
                    if task is None:
                        break
                    running[task.id] = task
                    if task.key not in started:  # a key's first task: the progress view names it
                        started[task.key] = time.perf_counter()
                        _, job, seed = task.parts()
                        self.report("begin", {"model": job.model, "row": job.row, "seed": seed,
                                              "phase": task.phase})
                    ex.submit(task)
                if not running:
                    break
                for d in ex.wait(0.5):
                    task = running.pop(d.task.id)
                    if d.error is not None and DISK_FULL in d.error:
                        # Stop: every later model would fail the same way. Jobs in flight finish; none starts.
                        disk_full = disk_full or d.error.split(": ", 1)[-1]
                        train_q.clear()
                        time_q.clear()
                        continue
                    if d.error is not None and d.retry and tries.get(task.key, 1) < max_attempts:
                        tries[task.key] = tries.get(task.key, 1) + 1
                        log.warning("%s: %s; attempt %d of %d (resuming from its checkpoint)", task.label,
                                    d.error, tries[task.key], max_attempts)
                        (train_q if task.phase == "train" else time_q).appendleft(task)
                        continue
                    if d.error is not None:
                        self._finish(self._crash_record(task, d.error), task, outcomes, started)
                    elif task.phase == "train":
                        _, job, seed = task.parts()
                        time_q.append(self._task("time", job, seed, task.attempt, record=d.value,
                                                 profiles=tuple(p.name for p in self.plan.profiles)))
                    else:
                        self._finish(d.value, task, outcomes, started)
        finally:
            ex.close()
        if disk_full:
            log.error("%s; stopped (finished lines are kept)", disk_full)
            raise SuiteError(disk_full)

    @staticmethod
    def _next(train_q: deque, time_q: deque, running: dict, single: bool) -> Task | None:
        phases = {t.phase for t in running.values()}
        if "time" in phases:
            return None  # a measurement runs alone
        if time_q and "train" not in phases and (single or not train_q):
            return time_q.popleft()
        if train_q and not (single and time_q):
            return train_q.popleft()
        return None

    def _finish(self, record: Line, task: Task, outcomes: dict[str, Outcome], started: dict[str, float]) -> None:
        self.store.append(record)  # the only write to results.jsonl
        _, job, seed = task.parts()
        status = record["status"]
        _, job, seed = task.parts()
        rate = ResultRecord.from_dict(record).throughput
        log.info("%s seed %d: %s%s%s", job.model, seed, status,
                 f" ({record['reason']})" if record.get("reason") else "",
                 f"; training {rate.describe()}" if rate is not None else "")
        elapsed = time.perf_counter() - started.get(task.key, time.perf_counter())
        outcomes[task.key] = Outcome(job.row, job.model, seed, status, record, elapsed)
        self.report("end", {"model": job.model, "seed": seed, "status": status})

    def _event(self, event: dict) -> None:
        kind = event.get("event", "event")
        self.report(kind, event)


def _remove_empty_tree(path) -> None:
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
