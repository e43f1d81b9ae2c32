"""Atomic writes, the one way the suite replaces a file: readers see the old file or the new one, never half.

(The files shipped to a device, ``suite/timing/ondevice/``, carry their own few lines: they import nothing of
the suite.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from suite.core.errors import DiskFullError, is_disk_full


def write_atomic(path: str | os.PathLike, write: Callable[[IO[Any]], object], *, binary: bool = False) -> None:
    """``write(fh)`` into a temporary file beside ``path``, fsync, then os.replace it over ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb" if binary else "w") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # torch's zip writer reports a full disk as a RuntimeError
        if is_disk_full(exc):
            raise DiskFullError(path) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_atomic(path, lambda fh: fh.write(text))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")
