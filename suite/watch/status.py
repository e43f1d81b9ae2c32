"""`suite status`: how far a run is, from its run directory alone (never the driver's lock, never its process).

Each job's state comes from the files its attempt wrote: a line in results.jsonl or a ``result.json`` (done or
failed), a ``trained.json`` without a result (timing), a ``progress.json`` (training, epoch k of n), nothing
(waiting). Whether the driver still runs is read from the manifest's last invocation (finished, or its pid on
this host alive); a job of a driver that is gone is "stopped" and resumes from its checkpoint on the next
`suite run`. The ETA adds up the epochs still to train at each job's measured seconds per epoch; a job with no
finished epoch borrows the mean of the others (an estimate, marked so) and, before any epoch of the run
finished, the time the first epoch has taken so far gives a lower bound. Each job's throughput is set against its
device's peak (suite.run.throughput): a finished job's from its record, a training job's from its last epoch.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from suite.core.errors import SuiteError, unknown
from suite.run.progress import PROGRESS_JSON, read_progress
from suite.run.records import ResultRecord, result_key
from suite.run.store import MANIFEST, RESULTS, RunStore
from suite.run.throughput import Throughput, live

STATES = ("done", "failed", "training", "timing", "stopped", "waiting")


@dataclass
class JobStatus:
    model: str
    seed: int
    row: str | None = None
    state: str = "waiting"
    epochs_done: int = 0
    epochs: int | None = None
    reason: str | None = None
    test_error_pct: float | None = None
    images_per_s: float | None = None  # the last finished epoch's training throughput
    # against the device's peak: the finished job's, or (training) the last epoch's images/s on the job's basis
    throughput: Throughput | None = None
    epoch_s: float | None = None  # mean seconds per epoch so far (training + evaluation)
    remaining_s: float | None = None
    estimate: str | None = None  # how remaining_s was found when not from this job's own epochs
    lower_bound: bool = False  # remaining_s is at least this (no epoch of the run has finished yet)
    started: bool = True  # False: no attempt of this job has begun training
    user_model: bool = False  # a model of the user's --models-from file, not a row of the table

    @property
    def text(self) -> str:
        if self.state == "training":
            return f"training, epoch {self.epochs_done + 1} of {self.epochs or '?'}"
        if self.state == "stopped" and not self.started:
            return "not started"
        if self.state == "stopped":
            if self.epochs_done == 0:
                return f"stopped in epoch 1 of {self.epochs or '?'}"
            return f"stopped after epoch {self.epochs_done} of {self.epochs or '?'}"
        if self.state == "failed":
            return f"failed: {self.reason or 'no reason recorded'}"
        return self.state


@dataclass
class RunStatus:
    name: str
    path: str
    table: str | None
    driver: str  # running | finished | stopped | unknown (another host)
    slots: int
    jobs: list[JobStatus] = field(default_factory=list)
    eta_s: float | None = None
    eta_basis: str = ""
    images_per_s: float | None = None  # the jobs training now, added up
    notes: list[str] = field(default_factory=list)  # e.g. a progress.json read as missing, and why

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for job in self.jobs:
            out[job.state] += 1
        return out

    def to_dict(self) -> dict:
        out = asdict(self)
        out["counts"] = self.counts()
        for job, data in zip(self.jobs, out["jobs"], strict=True):
            data["text"] = job.text
        return out


def _seconds_since(stamp: str | None, now: datetime) -> float | None:
    if stamp is None:
        return None
    try:
        return max(0.0, (now - datetime.fromisoformat(stamp)).total_seconds())
    except (TypeError, ValueError):
        return None


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def driver_state(manifest: dict) -> str:
    invocations = manifest.get("invocations") or []
    if not invocations:
        return "unknown"
    last = invocations[-1]
    if last.get("finished"):
        return "finished"
    if last.get("host") != socket.gethostname() or last.get("pid") is None:
        return "unknown"
    return "running" if _pid_alive(last["pid"]) else "stopped"


def _job_list(manifest: dict, lines: list[dict]) -> list[tuple[str, str | None, int]]:
    rows = {m.get("model"): m.get("row") for m in manifest.get("models", []) if isinstance(m, dict)}
    last = (manifest.get("invocations") or [{}])[-1]
    wanted = [(m, s) for m in last.get("models", list(rows)) for s in last.get("seeds", manifest.get("seeds", []))]
    wanted += [(r["model"], r["seed"]) for r in lines if "model" in r and "seed" in r]
    return [(m, rows.get(m), int(s)) for m, s in dict.fromkeys(wanted)]


_NUMBER: tuple[type, ...] = (int, float)
_PROGRESS_TYPES: dict[str, tuple[type, ...]] = {"attempt": (str,), "started": (str,), "updated": (str,),
                                                "epochs": (int,), "history": (list,), "throughput_basis": (dict,)}
_EPOCH_TYPES: dict[str, tuple[type, ...]] = {"epoch": (int,), "seconds": _NUMBER, "test_error_pct": _NUMBER,
                                             "images_per_s": _NUMBER}


def malformed(progress: dict) -> str | None:
    """What is wrong with a progress.json's values (None: nothing); status reads a malformed one as missing."""
    for key, kind in _PROGRESS_TYPES.items():
        value = progress.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            return f"{key} is {type(value).__name__} {value!r:.40}"
    for i, entry in enumerate(progress.get("history") or []):
        if not isinstance(entry, dict):
            return f"history[{i}] is {type(entry).__name__}, not an object"
        for key, kinds in _EPOCH_TYPES.items():
            value = entry.get(key)
            if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
                return f"history[{i}].{key} is {type(value).__name__} {value!r:.40}"
    return None


def checked_progress(job_dir: Path, notes: list[str]) -> dict:
    """The job's progress.json, or {} when it is missing or malformed (then a note says which and why)."""
    progress = read_progress(job_dir) or {}
    why = malformed(progress)
    if why is None:
        return progress
    note = f"{job_dir / PROGRESS_JSON} is malformed ({why}): read as missing"
    if note not in notes:
        notes.append(note)
    return {}


def _job(store: RunStore, dataset: str, model: str, row: str | None, seed: int, line: dict | None,
         driver: str, now: datetime, notes: list[str]) -> JobStatus:
    job_dir = store.job_dir(model, dataset, seed)
    result = store.read_result(job_dir)
    latest = result if result and (line is None or result.get("attempt") != line.get("attempt")) else line
    final = ResultRecord.from_dict(latest) if latest is not None else None
    progress = checked_progress(job_dir, notes)
    trained = store.read_trained(job_dir)
    job = JobStatus(model, seed, row, epochs=progress.get("epochs"))
    history = [e for e in progress.get("history", []) if isinstance(e, dict)]
    job.epochs_done = len(history)
    if history:
        last = history[-1]
        job.test_error_pct, job.images_per_s = last.get("test_error_pct"), last.get("images_per_s")
        seconds = [float(e["seconds"]) for e in history if isinstance(e.get("seconds"), int | float)]
        job.epoch_s = sum(seconds) / len(seconds) if seconds else None
    newer = progress.get("attempt") and (final is None or (progress["attempt"] != final.attempt and
                                                           str(progress.get("started")) > str(final.finished)))
    if final is not None and not newer:
        job.state = "done" if final.status in ("ok", "diverged") else "failed"
        job.reason = final.reason if job.state == "failed" else None
        summary = final.summary or {}
        job.epochs_done = summary.get("epochs") or job.epochs_done
        job.epochs = summary.get("epochs_planned") or job.epochs
        job.test_error_pct = summary.get("final_error_pct", job.test_error_pct)
        job.throughput = final.throughput
        if final.throughput is not None and final.throughput.images_per_s is not None:
            job.images_per_s = final.throughput.images_per_s  # the whole training's, not the last epoch's
        job.remaining_s = 0.0
        return job
    if not progress:
        job.state, job.started = ("waiting" if driver != "stopped" else "stopped"), False
        return job
    if trained and trained.get("attempt") == progress.get("attempt"):
        job.state = "timing"
        job.remaining_s = 0.0
        return job
    job.state = "stopped" if driver == "stopped" else "training"
    if job.images_per_s is not None:
        job.throughput = live(job.images_per_s, progress.get("throughput_basis"))
    if job.epochs and job.epoch_s is not None:
        left = job.epochs - job.epochs_done
        # the epoch in progress has already run for a while: count only what is left of it
        running = _seconds_since(progress.get("updated"), now) if job.state == "training" else 0.0
        job.remaining_s = max(0.0, left * job.epoch_s - min(running or 0.0, job.epoch_s))
    return job


def _fill_estimates(run: RunStatus, planned: int | None,
                    progress_started: dict[tuple[str, int], float | None]) -> None:
    """Jobs without an epoch of their own: the same model's other seeds, else the run's mean epoch."""
    per_model: dict[str, list[float]] = {}
    for job in run.jobs:
        if job.epoch_s is not None:
            per_model.setdefault(job.model, []).append(job.epoch_s)
    measured = [s for v in per_model.values() for s in v]
    for job in run.jobs:
        if job.remaining_s is not None:
            continue
        epochs = job.epochs or planned
        if not epochs:
            continue
        left = epochs - job.epochs_done
        if job.model in per_model:
            job.epoch_s = sum(per_model[job.model]) / len(per_model[job.model])
            job.remaining_s, job.estimate = left * job.epoch_s, "other seeds of this model"
        elif measured:
            job.remaining_s = left * sum(measured) / len(measured)
            job.estimate = "the run's mean epoch (other models)"
        elif job.state == "training" and (running := progress_started.get((job.model, job.seed))) is not None \
                and epochs > 1:
            # the first epoch has run this long and is not done: each later one takes at least as long
            job.remaining_s, job.lower_bound = (epochs - 1) * running, True
            job.estimate = "at least: the first epoch has not finished after this long per later epoch"


def run_status(run_dir: str | os.PathLike, *, now: datetime | None = None) -> RunStatus:
    store = RunStore(run_dir)
    manifest = store.manifest()
    if manifest is None:
        raise SuiteError(f"{run_dir} is not a run directory (no readable {MANIFEST}); run `suite run` first")
    now = now or datetime.now(UTC)
    driver = driver_state(manifest)
    lines = store.lines()
    by_key = {r["key"]: r for r in lines if "key" in r}
    dataset = manifest.get("dataset") or ""
    last = (manifest.get("invocations") or [{}])[-1]
    slots = int((last.get("executor") or {}).get("slots") or 1)
    run = RunStatus(manifest.get("run_name") or store.run_dir.name, str(store.run_dir), manifest.get("table"),
                    driver, slots)
    started: dict[tuple[str, int], float | None] = {}
    users = {m for src in manifest.get("user_models") or [] if isinstance(src, dict) for m in src.get("models") or []}
    for model, row, seed in _job_list(manifest, lines):
        job = _job(store, dataset, model, row, seed, by_key.get(result_key(model, dataset, seed)), driver, now,
                   run.notes)
        job.user_model = model in users
        run.jobs.append(job)
        progress = checked_progress(store.job_dir(model, dataset, seed), run.notes)
        started[(model, seed)] = _seconds_since(progress.get("started"), now)
    planned = manifest.get("epochs") or (manifest.get("recipe") or {}).get("epochs")
    _fill_estimates(run, planned, started)
    training = [j.images_per_s for j in run.jobs if j.state == "training" and j.images_per_s]
    run.images_per_s = sum(training) if training else None
    pending = [j for j in run.jobs if j.state not in ("done", "failed")]
    if not pending:
        run.eta_s, run.eta_basis = 0.0, "finished"
    elif any(j.remaining_s is None for j in pending):
        run.eta_basis = "no epoch measured yet"
    else:
        remaining = [j.remaining_s for j in pending if j.remaining_s is not None]
        run.eta_s = max(sum(remaining) / max(slots, 1), max(remaining))
        estimated = any(j.estimate for j in pending)
        run.eta_basis = ("measured epochs, with estimates for jobs not yet started" if estimated
                         else "measured epochs") + (f", {slots} slots" if slots > 1 else "")
        if driver == "stopped":
            run.eta_basis += "; the driver is not running: re-run the same `suite run` to continue"
    return run


def find_run_dirs(runs: list[str], results: str | os.PathLike) -> list[Path]:
    """RUN arguments as paths or names under ``results``; none: every run directory under ``results``."""
    results = Path(results).expanduser()
    if runs:
        out = []
        for name in runs:
            path = Path(name).expanduser()
            candidates = list(dict.fromkeys([path, results / name]))  # an absolute name is the same path twice
            found = next((p for p in candidates if (p / MANIFEST).is_file()), None)
            if found is None:
                known = sorted(p.parent.name for p in results.glob(f"*/{MANIFEST}")) if results.is_dir() else []
                why = (f"no run {name!r}: neither {path} nor {results / name} holds a {MANIFEST}"
                       if len(candidates) > 1 else f"no run at {path}: it holds no {MANIFEST}")
                raise unknown("run", name, known) if known else SuiteError(why)
            out.append(found)
        return out
    if not results.is_dir():
        raise SuiteError(f"no results folder {results}; pass --results DIR or a run directory")
    every = sorted({p.parent for p in results.rglob(MANIFEST) if (p.parent / RESULTS).exists()
                    or (p.parent / "work").is_dir()})
    if not every:
        raise SuiteError(f"no run directories under {results}")
    return every
