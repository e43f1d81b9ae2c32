"""Live training curves: every epoch's numbers as TensorBoard scalars, written as the run trains.

One writer per job, in the job's own folder, so ``tensorboard --logdir <run dir>`` overlays one curve per model
and seed. The global step is the epoch. Points are written after the epoch's checkpoint, so a resumed run
continues its curves: it reopens the writer with ``purge_step`` at the checkpoint's epoch (TensorBoard then
drops anything an interrupted process wrote from that step on) and writes that epoch once more from the
checkpoint's history, which covers a kill between the checkpoint and the write. Steps before it are never
written again.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Protocol

# (tag, history key): what the curves show; images/s is derived from the epoch's images and seconds
SCALARS = (
    ("train/loss", "train_loss"),
    ("train/error_pct", "train_error_pct"),
    ("test/loss", "test_loss"),
    ("test/error_pct", "test_error_pct"),
    ("test/top5_error_pct", "test_top5_error_pct"),
    ("train/lr", "lr"),
    ("time/epoch_s", "seconds"),
)
IMAGES_PER_S = "time/images_per_s"


class EpochEvents(Protocol):
    """What the engine calls: ``resume`` once with the checkpoint's history, ``epoch`` per epoch, ``close``."""

    def resume(self, history: list[dict]) -> None: ...

    def epoch(self, entry: dict) -> None: ...

    def close(self) -> None: ...


def scalars(entry: dict) -> dict[str, float]:
    """The finite scalars of one history entry, by tag (a diverged epoch has no test numbers)."""
    out = {}
    for tag, key in SCALARS:
        value = entry.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            out[tag] = float(value)
    images, seconds = entry.get("train_images"), entry.get("train_seconds")
    if images and seconds:
        out[IMAGES_PER_S] = float(images) / float(seconds)
    return out


class TensorBoardEvents:
    """``EpochEvents`` through ``torch.utils.tensorboard.SummaryWriter`` into ``log_dir``.

    The writer opens at the first call, so a job that had already finished creates no event file.
    """

    def __init__(self, log_dir: str | os.PathLike):
        self.log_dir = Path(log_dir)
        self._writer: Any = None  # a SummaryWriter once opened

    def _open(self, purge_step: int):
        # Imported here: the tensorboard package is only needed once a job actually trains.
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=purge_step)
        return self._writer

    def resume(self, history: list[dict]) -> None:
        last = history[-1] if history else None
        # A fresh start purges from step 1: curves of an attempt whose checkpoint was unusable are dropped.
        self._open(int(last["epoch"]) if last else 1)
        if last is not None:
            self.epoch(last)

    def epoch(self, entry: dict) -> None:
        writer = self._writer or self._open(int(entry["epoch"]))
        step = int(entry["epoch"])
        for tag, value in scalars(entry).items():
            writer.add_scalar(tag, value, global_step=step)
        writer.flush()  # on disk before the next epoch starts: a kill loses at most the epoch in progress

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
