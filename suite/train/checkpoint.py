"""Per-run checkpoints: one file per run identity, replaced atomically after every epoch."""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import torch

from suite.core import fileio
from suite.core.fileio import write_atomic

FORMAT = 1


def normalise(identity: dict) -> dict:
    """The identity as it reads back from a checkpoint (tuples become lists)."""
    return json.loads(json.dumps(identity, sort_keys=True, default=str))


def run_key(identity: dict) -> str:
    """A short stable hash of everything that determines a run's numbers."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:12]


def checkpoint_path(work_dir: str | os.PathLike, identity: dict) -> Path:
    name = f"{identity['model']}_{identity['dataset']}_seed{identity['seed']}"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    return Path(work_dir) / f"{stem}_{run_key(identity)}.pt"


_CHECKPOINT_NAME = re.compile(r"^[A-Za-z0-9_.-]+_[0-9a-f]{12}\.pt$")  # what checkpoint_path names


def remove_checkpoints(work_dir: str | os.PathLike) -> int:
    """Delete the checkpoints ``checkpoint_path`` names in a finished job's folder; returns the bytes freed.

    Only files of that exact name pattern (and no link) are touched: nothing the suite did not write.
    """
    freed = 0
    folder = Path(work_dir)
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if _CHECKPOINT_NAME.match(path.name) and path.is_file() and not path.is_symlink():
            freed += path.stat().st_size
            path.unlink(missing_ok=True)
            remove_stale_temps(path)
    return freed


def save_atomic(state: dict, path: Path) -> None:
    """Write to a temporary file in the same directory, fsync, then os.replace: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda fh: torch.save(state, fh), binary=True)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete ``.<name>.<pid>.tmp`` files of ``path`` left by a save that was killed; returns those removed.

    Only the exact names ``save_atomic`` writes for this checkpoint are touched, and never one whose process is
    still alive (a save in progress).
    """
    return fileio.remove_stale_temps(path.parent, lambda name: name == path.name)


def load(path: Path, identity: dict) -> dict | None:
    """The stored state for ``identity``, or None if there is none (or it is unreadable or another run's)."""
    remove_stale_temps(path)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - an unreadable checkpoint only costs the retraining
        warnings.warn(f"ignoring unreadable checkpoint {path} ({type(exc).__name__}: {exc}); training from "
                      "the start", RuntimeWarning, stacklevel=2)
        return None
    if state.get("format") != FORMAT or state.get("identity") != normalise(identity):
        warnings.warn(f"ignoring checkpoint {path}: written for a different run or format", RuntimeWarning,
                      stacklevel=2)
        return None
    return state
