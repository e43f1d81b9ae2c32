"""Atomic writes, the one way the suite replaces a file: readers see the old file or the new one, never half.

(The files shipped to a device, ``suite/timing/ondevice/``, carry their own few lines: they import nothing of
the suite.)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from suite.core.errors import DiskFullError, is_disk_full

TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp$")  # ``.<name>.<pid>.tmp``, the temporary file of a write


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomic(path: str | os.PathLike, write: Callable[[IO[Any]], object], *, binary: bool = False) -> None:
    """``write(fh)`` into a temporary file beside ``path``, fsync, then os.replace it over ``path``."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with tmp.open("wb" if binary else "w") as fh:  # the temporary file itself: the one plain write
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number no pid can be: leave its file alone
    return True


def remove_stale_temps(folder: str | os.PathLike, ours: Callable[[str], bool]) -> list[Path]:
    """Delete the ``.<name>.<pid>.tmp`` files in ``folder`` that a killed write left; returns those removed.

    Only temporary files whose ``<name>`` the caller writes (``ours(name)``) are touched, never one of a process
    still alive (a write in progress), never a link or a folder.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for candidate in folder.iterdir():
        match = TEMP.match(candidate.name)
        if not match or not ours(match["name"]) or candidate.is_symlink() or not candidate.is_file():
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        candidate.unlink(missing_ok=True)
        removed.append(candidate)
    return removed
