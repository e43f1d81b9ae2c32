"""A training job's progress file: what `suite status` reads while the job trains (and after a kill).

``work/<model>/seed<k>/progress.json`` is written atomically by whoever runs the job (the driver never reads
it): the attempt, when it started and where, the epochs planned, what its throughput is set against (FLOPs per
image, the device's peak), and per finished epoch its seconds, images/s and test error. A resumed job keeps the
epochs its checkpoint holds and goes on from there.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from .records import now
from .store import read_json, write_json_atomic

PROGRESS_JSON = "progress.json"


def read_progress(job_dir: str | os.PathLike) -> dict | None:
    return read_json(Path(job_dir) / PROGRESS_JSON)


class ProgressFile:
    """Kept by the job while it trains; every write replaces the file whole (readers never see half of it)."""

    def __init__(self, job_dir: str | os.PathLike, *, attempt: str, model: str, seed: int,
                 epochs: int | None, basis: dict | None = None):
        self.path = Path(job_dir) / PROGRESS_JSON
        previous = read_json(self.path) or {}
        self.state: dict[str, Any] = {
            "attempt": attempt, "model": model, "seed": seed, "epochs": epochs, "started": now(), "updated": now(),
            "host": socket.gethostname(), "pid": os.getpid(),
            "history": [e for e in previous.get("history", []) if isinstance(e, dict)]}
        if basis is not None:  # FLOPs per image and the device's peak (suite.run.throughput.basis)
            self.state["throughput_basis"] = basis

    def start(self) -> None:
        self._write()

    def epoch(self, entry: dict) -> None:
        epoch = int(entry.get("epoch") or 0)
        images, seconds = entry.get("train_images"), entry.get("train_seconds")
        point = {"epoch": epoch, "seconds": entry.get("seconds"), "test_error_pct": entry.get("test_error_pct"),
                 "images_per_s": images / seconds if images and seconds else None, "at": now()}
        # a resumed job re-trains the epochs after its checkpoint: those entries are replaced, not doubled
        self.state["history"] = [e for e in self.state["history"] if int(e.get("epoch") or 0) < epoch] + [point]
        self.state["updated"] = now()
        self._write()

    def _write(self) -> None:
        try:
            write_json_atomic(self.path, self.state)
        except OSError:
            pass  # only for watching: a full disk must not fail the training
