"""User-facing errors: the CLI prints them as one line and exits with code 2, never a traceback."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable

from zoo.registry import closest_names, unknown_message


class SuiteError(Exception):
    """Bad input or a missing resource, with a message that says what to do about it."""

    exit_code = 2


def one_line(exc: BaseException, limit: int = 500) -> str:
    """An exception as one line of at most ``limit`` characters: its type and its message, whitespace folded."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:limit] if text else type(exc).__name__


def closest(name: str, choices: Iterable[object], n: int = 3) -> list[str]:
    return closest_names(name, choices, n)


def unknown(kind: str, name: str, choices: Iterable[str]) -> SuiteError:
    """An error for an unknown ``kind`` (model, dataset, hardware...) naming the closest valid names."""
    return SuiteError(unknown_message(kind, name, choices))


def parse_size(text: str) -> tuple[int, int, int]:
    """'3x224x224' -> (3, 224, 224)."""
    try:
        parts = tuple(int(p) for p in str(text).lower().split("x"))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise SuiteError(f"bad input size {text!r}; expected CxHxW, for example 3x224x224")
    return parts


DISK_FULL = "no space left on device"
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(SuiteError):
    """A write ran out of space: the run stops (what finished is kept) rather than fill the disk further."""

    def __init__(self, path: str | os.PathLike[str], needed: int | None = None):
        self.path = str(path)
        tail = f" ({needed} bytes needed)" if needed is not None else ""
        super().__init__(f"{DISK_FULL} writing {self.path}{tail}")


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC/EDQUOT, or torch's zip writer failing part-way (it reports a full disk as an enforce failure)."""
    if isinstance(exc, OSError):
        return exc.errno in _DISK_FULL_ERRNOS
    text = str(exc)
    return isinstance(exc, RuntimeError) and "inline_container" in text and (
        "unexpected pos" in text or "file write failed" in text)
