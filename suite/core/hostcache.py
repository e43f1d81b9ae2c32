"""Measurements kept per host between commands: one folder, one JSON file per kind, keyed by what they depend on.

The folder is ``$SUITE_CACHE_DIR``, else ``~/.cache/lightcnn-repro``. A cached value is only a shortcut: an
unreadable, stale or unwritable cache costs the measurement again, never an error.
"""

from __future__ import annotations

import json
import os
import platform
import socket
from pathlib import Path
from typing import Any

from suite.core.errors import DiskFullError
from suite.core.fileio import write_text_atomic


def cache_root() -> Path:
    return Path(os.environ.get("SUITE_CACHE_DIR") or Path.home() / ".cache" / "lightcnn-repro")


def host_key(*parts: object) -> str:
    """This host and what a measurement on it depends on (CPU model, cores this process may use, versions)."""
    from suite.core.provenance import cpu_model

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    fields = [socket.gethostname(), cpu_model(), f"cores={cores}", platform.python_version(), *map(str, parts)]
    return "|".join(fields)


def read(kind: str, key: str) -> Any | None:
    """The value stored under ``key`` in ``<cache>/<kind>.json``, or None."""
    try:
        entries = json.loads((cache_root() / f"{kind}.json").read_text())
        return entries[key] if isinstance(entries, dict) and key in entries else None
    except (OSError, ValueError):
        return None


def write(kind: str, key: str, value: Any) -> None:
    """Store ``value`` (JSON) under ``key``, keeping the file's other entries; a failed write is only a miss."""
    path = cache_root() / f"{kind}.json"
    try:
        entries = json.loads(path.read_text())
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError):
        entries = {}
    entries[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(entries, indent=1, sort_keys=True))
    except (OSError, DiskFullError):
        pass
