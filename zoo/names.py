"""The rule for names that become folder names: model names (cards, user files, entry points) and run names.

A model's name is the folder of its jobs (``work/<model>/seed<k>/``), of its logs and of its bundle entry; a run
name is the folder of the run. So a name is one plain path component: a letter or digit, then at most 63 letters,
digits, ``.``, ``_`` or ``-``, and no ``..`` anywhere (no separator, no parent, no absolute path, no newline or
comma, never longer than any file system allows).

Python 3.9 and the standard library only: this module ships to the Raspberry Pi with the rest of ``zoo/``.
"""

from __future__ import annotations

import re

MAX_LENGTH = 64
RULE = (f"1-{MAX_LENGTH} characters: a letter or digit, then letters, digits, '.', '_' or '-', no '..'")
_SAFE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_LENGTH - 1}}}")


class UnsafeNameError(ValueError):
    """A name that cannot be a folder name; the message is one line stating the rule."""


def is_safe(name: object) -> bool:
    return isinstance(name, str) and _SAFE.fullmatch(name) is not None and ".." not in name


def check_name(name: object, what: str = "model name") -> str:
    """``name`` itself when it follows the rule, else an ``UnsafeNameError`` naming it and the rule."""
    if not isinstance(name, str) or not is_safe(name):
        shown = repr(name) if len(repr(name)) <= 80 else repr(name)[:60] + f"... ({len(str(name))} characters)"
        raise UnsafeNameError(f"{what} {shown} is not allowed: a name becomes a folder name, so it must be {RULE}")
    return name
