"""The run directory: its manifest, its results.jsonl (one writer: the driver), its job directories.

    <out>/<run name>/
        manifest.json                     provenance, command lines, recipe, preset, seeds, models (atomic)
        results.jsonl                     one line per finished attempt at a (model, dataset, seed); append-only
        work/<model>/seed<k>/             one job: the engine's epoch checkpoints, then
            tb/                           its TensorBoard event files (live curves, `tensorboard --logdir <run>`)
            progress.json                 epochs done so far, their seconds and images/s (`suite status`)
            mode.json                     the training mode its first attempt started in (suite.run.modes)
            trained.json                  the training half of the record (atomic), before timing
            result.json                   the whole record (atomic), written by whoever ran the job
        work/<model>/complexity.json      complexity of the model (weights and seed do not change it)
        logs/run.log, logs/<model>-seed<k>.log, logs/worker-*.log

Every record carries an ``attempt`` id. On start the driver harvests each ``result.json`` whose attempt has no
line yet, so a kill between a job's end and its line loses nothing and never gives a key two lines for one
attempt. Readers (the report, the results loader, import-times) use ``find_runs`` / ``load_run``.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from suite.core.errors import DISK_FULL, SuiteError, is_disk_full
from suite.core.fileio import write_json_atomic

MANIFEST = "manifest.json"
RESULTS = "results.jsonl"
RESULT_JSON = "result.json"
TRAINED_JSON = "trained.json"
WORK = "work"
LOCK = ".driver.lock"
TENSORBOARD = "tb"
HOW_TO = ("produce them with `python -m suite run --preset smoke` (minutes) or `python -m suite run` "
          "(the full recipe), then run `python -m suite report` again")


# --- files --------------------------------------------------------------------------------------------------

def read_json(path: Path) -> dict | None:
    """A JSON object, or None when the file is missing or unreadable (a half-copied file on a shared disk)."""
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


def append_jsonl(path: Path, record: dict) -> None:
    """Append one whole line, fsynced, or leave the file as it was and raise a SuiteError.

    ``os.write`` may write less than asked (a nearly full disk): the rest is written in a loop, and any failure
    truncates the file back to its size before the call, so a reader never sees a cut line reported as added.
    A fragment left by a kill is isolated on its own line.
    """
    path = Path(path)
    line = json.dumps(record, default=str, separators=(",", ":")).encode() + b"\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        if is_disk_full(exc):
            raise SuiteError(f"{DISK_FULL}: {path} ({len(line)} bytes needed)") from None
        raise SuiteError(f"cannot write {path}: {exc.strerror or exc}") from None
    size = None
    try:
        size = os.fstat(fd).st_size
        if size:
            with path.open("rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    line = b"\n" + line
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        if size is not None:
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                pass
        if is_disk_full(exc):
            raise SuiteError(f"{DISK_FULL}: {path} ({len(line)} bytes needed)") from None
        raise SuiteError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def drop_partial_tail(path: Path) -> int:
    """Cut a last line that a killed writer left without its newline; returns the bytes removed.

    Only the driver (holding the run's lock) calls this, after harvesting. A tail that is a whole JSON record
    is kept and given its newline.
    """
    path = Path(path)
    if not path.is_file():
        return 0
    with path.open("r+b") as fh:
        data = fh.read()
        if not data or data.endswith(b"\n"):
            return 0
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        try:
            whole = isinstance(json.loads(tail), dict)
        except (json.JSONDecodeError, UnicodeDecodeError):
            whole = False
        if whole:
            fh.write(b"\n")
            removed = 0
        else:
            fh.truncate(cut)
            removed = len(tail)
        fh.flush()
        os.fsync(fh.fileno())
    return removed


def read_jsonl(path: Path) -> tuple[list[dict], int]:
    """Every parseable line of ``path`` and the number of lines skipped (a fragment left by a kill)."""
    path = Path(path)
    lines: list[dict] = []
    bad = 0
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


# --- one run directory --------------------------------------------------------------------------------------

class RunStore:
    """One run directory. ``append`` is the only writer of results.jsonl; jobs write only their own folder."""

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self.results_path = self.run_dir / RESULTS
        self.manifest_path = self.run_dir / MANIFEST
        self.logs = self.run_dir / "logs"

    def manifest(self) -> dict | None:
        return read_json(self.manifest_path)

    def write_manifest(self, manifest: dict) -> None:
        write_json_atomic(self.manifest_path, manifest)

    def all_lines(self) -> tuple[list[dict], int]:
        return read_jsonl(self.results_path)

    def lines(self) -> list[dict]:
        """The latest line of each key (fragments skipped)."""
        return list(latest_by_key(self.all_lines()[0]).values())

    def append(self, record: dict) -> None:
        append_jsonl(self.results_path, record)

    def drop_partial_tail(self) -> int:
        return drop_partial_tail(self.results_path)

    def model_dir(self, model: str) -> Path:
        """``work/<model>``, which must lie inside the run directory (a model's name is checked where it enters
        the suite, zoo.names; this is the last guard before anything is written under it)."""
        from zoo.names import RULE, is_safe  # here: importing suite.run stays free of the zoo (and torch)

        work = self.run_dir / WORK
        folder = work / model
        if not is_safe(model) or folder.resolve().parent != work.resolve():
            raise SuiteError(f"model name {model!r} would put its job folder {folder} outside "
                             f"{work}: a model name must be {RULE}")
        return folder

    def job_dir(self, model: str, dataset: str, seed: int) -> Path:
        # A run has one dataset (it is part of the run name): the job folder needs no dataset level.
        del dataset
        return self.model_dir(model) / f"seed{int(seed)}"

    @staticmethod
    def write_result(job_dir: str | os.PathLike, record: dict) -> None:
        write_json_atomic(Path(job_dir) / RESULT_JSON, record)

    @staticmethod
    def write_trained(job_dir: str | os.PathLike, record: dict) -> None:
        write_json_atomic(Path(job_dir) / TRAINED_JSON, record)

    @staticmethod
    def read_result(job_dir: str | os.PathLike) -> dict | None:
        return read_json(Path(job_dir) / RESULT_JSON)

    @staticmethod
    def read_trained(job_dir: str | os.PathLike) -> dict | None:
        return read_json(Path(job_dir) / TRAINED_JSON)

    def complexity_path(self, model: str) -> Path:
        return self.model_dir(model) / "complexity.json"

    def attempts_with_lines(self) -> set[str]:
        return {r["attempt"] for r in self.all_lines()[0] if r.get("attempt")}

    def harvest(self) -> list[dict]:
        """Append every job's result.json whose attempt has no line yet; returns the appended records."""
        seen = self.attempts_with_lines()
        appended = []
        for path in sorted((self.run_dir / WORK).glob(f"*/seed*/{RESULT_JSON}")):
            record = read_json(path)
            if not record or "key" not in record or not record.get("attempt") or record["attempt"] in seen:
                continue
            self.append(record)
            seen.add(record["attempt"])
            appended.append(record)
        return appended

    @contextmanager
    def driver_lock(self) -> Iterator[None]:
        """One driver per run directory; the kernel drops the lock when the driver dies, however it dies."""
        fd = os.open(self.run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise SuiteError(f"another `suite run` is writing {self.run_dir} right now; wait for it to "
                                 "finish (or stop it), then run again") from None
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError:
                pass  # the pid is for people reading the file; the lock itself is held (a full disk, say)
            yield
        finally:
            os.close(fd)


JOB_LOCK = ".job.lock"
JOB_LOCK_WAIT_S = 300.0


@contextmanager
def job_lock(job_dir: str | os.PathLike, *, wait_s: float = JOB_LOCK_WAIT_S, poll_s: float = 0.2) -> Iterator[None]:
    """One process per job folder at a time.

    A killed driver's Ray tasks live on for a few seconds; the restarted driver's task for the same job waits
    here until they are gone (the kernel releases the lock of a dead process), so the two never write the same
    checkpoint or result.json at once.
    """
    path = Path(job_dir) / JOB_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise SuiteError(f"{job_dir} is still being written by another process after {wait_s:.0f} s (a "
                                 "task of an earlier, killed `suite run`?); stop it, then run again")
            time.sleep(poll_s)
        yield
    finally:
        os.close(fd)


# --- readers ------------------------------------------------------------------------------------------------

@dataclass
class Run:
    path: Path
    manifest: dict
    lines: list[dict]  # the latest line of each (model, dataset, seed)
    unreadable: int = 0  # fragments left by an interrupted write
    ignored: list[str] = field(default_factory=list)  # other runs of the same dataset, not merged

    @property
    def name(self) -> str:
        return self.manifest.get("run_name") or self.path.name

    @property
    def dataset(self) -> str:
        return self.manifest.get("dataset") or (self.lines[0]["dataset"] if self.lines else "unknown")

    @property
    def preset(self) -> str:
        preset = self.manifest.get("preset")
        if isinstance(preset, dict):
            return preset.get("name", "unknown")
        return preset or (self.lines[0].get("preset") if self.lines else None) or "unknown"

    @property
    def finished(self) -> int:
        return sum(1 for r in self.lines if r.get("status") in ("ok", "diverged"))


RECORD_KEYS = ("key", "model", "seed", "status")  # what every results line the suite writes has


def load_run(path: str | os.PathLike) -> Run:
    """A run for readers: lines that are not results records (foreign keys only) are skipped with a warning."""
    store = RunStore(path)
    lines, bad = store.all_lines()
    records = [r for r in lines if all(k in r for k in RECORD_KEYS)]
    if len(records) < len(lines):
        skipped = len(lines) - len(records)
        warnings.warn(f"{store.results_path}: {skipped} line(s) without {', '.join(RECORD_KEYS)} are not results "
                      "records; skipped", RuntimeWarning, stacklevel=2)
    return Run(store.run_dir, store.manifest() or {}, list(latest_by_key(records).values()), bad + len(lines)
               - len(records))


def find_runs(results: str | os.PathLike) -> list[Run]:
    """Every run folder (one holding results.jsonl with a line) under ``results``, or ``results`` itself."""
    results = Path(results).expanduser()
    if not results.exists():
        raise SuiteError(f"no results at {results}: {HOW_TO}")
    folders = sorted({p.parent for p in results.rglob(RESULTS)})
    runs = [r for r in (load_run(f) for f in folders) if r.lines]
    if not runs:
        raise SuiteError(f"no results under {results} (no results.jsonl with a finished line): {HOW_TO}")
    return runs
