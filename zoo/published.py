"""The papers' published tables, as shipped with the package (copied from the papers, never measured).

Each table is a CSV under ``zoo/data/published``; its stem is the table id used in model cards,
for example ``threshnet_table3_cifar10``.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

_NON_NUMERIC = {"model", "source", "dataset", "operator", "input", "se", "nl", "block_depth",
                "dense_blocks", "harmonic_blocks", "growth_rates", "inputs"}


def _parse(key: str, value: str) -> float | str | None:
    if value == "":
        return None
    if key in _NON_NUMERIC:
        return value
    try:
        return float(value)
    except ValueError:
        return value


@cache
def table_ids() -> tuple[str, ...]:
    folder = resources.files("zoo") / "data" / "published"
    return tuple(sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv")))


@cache
def load_table(table_id: str) -> tuple[dict[str, float | str | None], ...]:
    """Rows of one published table, numbers as floats and empty cells as None."""
    if table_id not in table_ids():
        raise KeyError(f"no published table {table_id!r}; known: {', '.join(table_ids())}")
    path = resources.files("zoo") / "data" / "published" / f"{table_id}.csv"
    # typeshed's Traversable.open lists no newline=; pathlib and zipfile paths both take it (csv needs it)
    with path.open(newline="") as fh:  # type: ignore[call-overload]
        return tuple({k: _parse(k, v) for k, v in row.items()} for row in csv.DictReader(fh))


def published_row(table_id: str, row: str) -> dict[str, float | str | None]:
    """The row whose ``model`` column is ``row``."""
    for entry in load_table(table_id):
        if entry.get("model") == row:
            return dict(entry)
    raise KeyError(f"table {table_id!r} has no row {row!r}")
