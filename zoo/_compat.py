"""What the zoo needs from Python newer than 3.9: the Raspberry Pi of the papers runs Python 3.9 / torch 1.11,
and the device bundle copies ``zoo/`` there, so the zoo itself stays 3.9-compatible (see zoo/ruff.toml)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def zip_equal(*iterables: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """``zip(..., strict=True)`` (Python 3.10+): zip that raises ValueError unless all lengths are equal."""
    lists = [list(it) for it in iterables]
    if len({len(items) for items in lists}) > 1:
        raise ValueError(f"zip_equal: lengths differ: {[len(items) for items in lists]}")
    return zip(*lists)
