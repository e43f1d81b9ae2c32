"""Small pieces of a results line: keys, timestamps, JSON-ready results, the training summary, failures."""

from __future__ import annotations

import uuid
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

SCHEMA = 1
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


def result_key(model: str, dataset: str, seed: int) -> str:
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
