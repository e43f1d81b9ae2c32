"""The table registry: every published table the suite reproduces, declared once per paper module.

>>> from suite.tables import get_table
>>> get_table("3").id                      # a table's short alias
'threshnet-3'

Each paper of ``PAPERS`` declares its tables in the module named after its key (``threshnet``, ``thresholdnet``,
``triplenet``, ``dpnet``), as ``TABLES``; the runner, the report, the claims and `suite tables` read them here.
"""

from __future__ import annotations

import importlib
from typing import Any

from suite.core.errors import unknown
from suite.tables.claim import Claim
from suite.tables.metrics import METRICS, Metric, metric
from suite.tables.papers import PAPERS
from suite.tables.spec import COMPLEXITY, TIMED, TRAINED, Latency, Misprint, RowSpec, Supplement, TableSpec
from zoo.published import published_row
from zoo.registry import KeyedRegistry


def _check(spec: TableSpec) -> TableSpec:
    unknown_columns = [c for c in spec.columns if c not in METRICS]
    if unknown_columns:
        raise ValueError(f"table {spec.id!r}: unknown column(s) {unknown_columns}; add them to "
                         "suite.tables.metrics")
    if spec.paper not in PAPERS:
        raise ValueError(f"table {spec.id!r}: unknown paper {spec.paper!r}; add it to suite.tables.papers")
    return spec


class TableRegistry(KeyedRegistry[TableSpec]):
    """The tables by id, with their aliases; a table's columns and paper are checked as it is added."""

    def add(self, name: str, entry: TableSpec) -> TableSpec:
        return super().add(name, _check(entry))


# in the papers' order; a paper declared at run time (a plug-in, a test) registers its tables itself
TABLES = TableRegistry("table", lambda t: t.id, (s for key in PAPERS
                                                for s in importlib.import_module(f"suite.tables.{key}").TABLES),
                       aliases=lambda t: t.aliases)
register_table = TABLES.register
ALIASES = TABLES.aliases


def resolve(name: str) -> str | None:
    key = str(name).strip().lower()
    key = key.removeprefix("table")  # "table3": a report file's name
    return TABLES.resolve(key)


def get_table(name: str) -> TableSpec:
    """The table called ``name`` (namespaced id or alias); an unknown name names the closest ids."""
    key = resolve(name)
    if key is None:
        raise unknown("table", str(name), list(TABLES))
    return TABLES[key]


def list_tables(*, kind: str | None = None, paper: str | None = None) -> list[TableSpec]:
    return [t for t in TABLES.values() if (kind is None or t.kind == kind) and (paper is None or t.paper == paper)]


def published_rows(model: str) -> list[dict[str, Any]]:
    """The published rows that report ``model`` (trained for the row, or the model whose complexity it printed),
    each with its published table id, our table id, the head of its complexity figures and the row's note: the
    tables are the one mapping from a model to the papers' rows (a model card shows it through this)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for spec in TABLES.values():
        for rs in spec.rows:
            key = (spec.published_table, rs.row)
            if model not in (rs.model, rs.profiled_model) or key in found:
                continue
            row = published_row(spec.published_table, rs.row)
            row.update(table=spec.published_table, suite_table=spec.id, published_num_classes=rs.published_head,
                       role="trained" if rs.model == model else "complexity", note=rs.note)
            found[key] = row
    return list(found.values())


__all__ = ["ALIASES", "COMPLEXITY", "Claim", "Latency", "METRICS", "Metric", "Misprint", "PAPERS", "RowSpec",
           "Supplement", "TABLES", "TIMED", "TRAINED", "TableSpec", "get_table", "list_tables", "metric",
           "published_rows", "register_table", "resolve"]
