"""A results line as a typed record (``ResultRecord``) and its small pieces: keys, timestamps, JSON-ready
results, the training summary, failures."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from .throughput import Throughput

SCHEMA = 1  # the manifest's version
RECORD_VERSION = 3  # a results line's; older ones read the same (version 1 lines say "schema": 1; < 3: no throughput)
Line = dict[str, Any]  # a record as results.jsonl, trained.json and result.json hold it


@dataclass
class ResultRecord:
    """One results.jsonl line: what one attempt at a (model, dataset, seed) trained, counted and timed.

    Built by ``suite.run.job`` (and the driver, for a job whose worker died), written as ``to_dict()``; every
    reader (``suite.analysis.results``, ``suite status``, the driver's resume) reads a line through ``from_dict``."""

    key: str
    model: str
    dataset: str
    seed: int
    run: str | None = None
    table: str | None = None
    row: str | None = None
    preset: str | None = None
    recipe: str | None = None
    train_subset: int | None = None
    test_subset: int | None = None
    precision: str | None = None
    device: str | None = None
    fast: bool = False
    compile: bool = False
    # suite.core.modes.ModeChoice.to_dict(): the exact mode it trained in, why (the probe's images/s per mode,
    # or the flag or preset that pinned it)
    mode: Line | None = None
    executor: str | None = None
    user_model: dict | None = None  # a user's model: its file and sha256
    attempt: str = ""
    started: str | None = None
    finished: str | None = None
    status: str | None = None  # "ok", "failed", "diverged"; None in trained.json (not timed yet)
    reason: str | None = None
    train: Line | None = None  # TrainResult.to_dict(); None for a timing-only table or a failed training
    summary: Line | None = None  # train_summary(train)
    complexity: Line | None = None  # {"trained": ..., "published": ...}
    latency: dict[str, Line] = field(default_factory=dict)  # per hardware profile
    runtimes: dict[str, dict[str, Line]] = field(default_factory=dict)  # hardware -> runtime -> cell, beside eager
    failures: list[Line] = field(default_factory=list)
    train_elapsed_s: float | None = None
    elapsed_s: float | None = None
    worker: Line = field(default_factory=dict)  # where each phase ran
    throughput: Throughput | None = None  # training images/s and GFLOP/s against the device's peak
    version: int = RECORD_VERSION
    extra: Line = field(default_factory=dict)  # keys this version does not know: kept as they were

    def to_dict(self) -> Line:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out["throughput"] = self.throughput.to_dict() if self.throughput is not None else None
        # absent rather than empty, as lines without them were written
        for optional in ("user_model", "runtimes", "throughput", "mode"):
            if not out[optional]:
                del out[optional]
        return {**self.extra, **out}

    @classmethod
    def from_dict(cls, line: Line) -> ResultRecord:
        """A stored line, of this version or an older one (``schema`` for ``version``)."""
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in line.items() if k in known}
        if "version" not in line:
            values["version"] = int(line.get("schema") or 1)
        values.setdefault("key", result_key(str(line.get("model")), str(line.get("dataset")), line.get("seed")))
        for name in ("model", "dataset", "seed"):
            values.setdefault(name, None)
        values["latency"] = {k: v for k, v in (line.get("latency") or {}).items() if isinstance(v, dict)}
        values["runtimes"] = {hw: {rt: c for rt, c in cells.items() if isinstance(c, dict)}
                              for hw, cells in (line.get("runtimes") or {}).items() if isinstance(cells, dict)}
        values["failures"] = list(line.get("failures") or [])
        values["worker"] = dict(line.get("worker") or {})
        values["throughput"] = Throughput.from_dict(line.get("throughput"))
        return cls(**values, extra={k: v for k, v in line.items() if k not in known and k != "schema"})
FINISHED = ("ok", "diverged")  # line statuses that a re-run skips (a divergence is deterministic)


@runtime_checkable
class ToDict(Protocol):
    """A result object that says how it is stored (TrainResult, Recipe, LatencyResult, a preset)."""

    def to_dict(self) -> dict: ...


def as_dict(obj: Any) -> Any:
    """A JSON-ready dict of a result object (to_dict(), a dataclass, or already a dict)."""
    if obj is None or isinstance(obj, dict | list | str | int | float | bool):
        return obj
    if isinstance(obj, ToDict):
        return obj.to_dict()
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    return dict(vars(obj))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def result_key(model: str, dataset: str, seed: int | None) -> str:
    return f"{model}|{dataset}|{seed}"


def new_attempt() -> str:
    """The id of one attempt at a key: its result.json and its line carry it, so a line is never doubled."""
    return uuid.uuid4().hex[:16]


def failure(stage: str, exc: BaseException | str) -> dict:
    reason = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return {"stage": stage, "reason": " ".join(str(reason).split())[:500]}


def join_reasons(failures: list[dict]) -> str | None:
    return "; ".join(f"{f['stage']}: {f['reason']}" for f in failures) or None


def train_summary(train: dict | None) -> dict:
    """Best / final test error (%) and epochs of the training engine's record (``TrainResult.to_dict()``)."""
    train = train or {}
    return {
        "best_error_pct": train.get("error_best_pct"),
        "final_error_pct": train.get("error_final_pct"),
        "best_epoch": train.get("error_best_epoch"),
        "epochs": train.get("epochs"),
        "epochs_planned": train.get("epochs_planned"),
        "train_status": train.get("status"),
    }
