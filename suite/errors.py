"""User-facing errors: the CLI prints them as one line and exits with code 2, never a traceback."""

from __future__ import annotations

import difflib


class SuiteError(Exception):
    """Bad input or a missing resource, with a message that says what to do about it."""

    exit_code = 2


def one_line(exc: BaseException, limit: int = 500) -> str:
    """An exception as one line of at most ``limit`` characters: its type and its message, whitespace folded."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:limit] if text else type(exc).__name__


def closest(name: str, choices, n: int = 3) -> list[str]:
    return difflib.get_close_matches(str(name).lower(), [str(c) for c in choices], n=n, cutoff=0.5)


def unknown(kind: str, name: str, choices) -> SuiteError:
    """An error for an unknown ``kind`` (model, dataset, hardware...) naming the closest valid names."""
    choices = sorted(choices)
    hint = closest(name, choices)
    tail = f"did you mean {', '.join(hint)}?" if hint else f"valid: {', '.join(choices)}"
    return SuiteError(f"unknown {kind} {name!r}; {tail}")


def parse_size(text: str) -> tuple[int, int, int]:
    """'3x224x224' -> (3, 224, 224)."""
    try:
        parts = tuple(int(p) for p in str(text).lower().split("x"))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise SuiteError(f"bad input size {text!r}; expected CxHxW, for example 3x224x224")
    return parts  # type: ignore[return-value]
