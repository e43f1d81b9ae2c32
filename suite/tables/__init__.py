"""The table registry: every published table the suite reproduces, declared once per paper module.

>>> from suite.tables import get_table
>>> get_table("3").id                      # a table's short alias
'threshnet-3'

Each paper module (``threshnet``, ``thresholdnet``, ``triplenet``, ``dpnet``) exports ``TABLES``; the runner,
the report, the claims and `suite tables` read them from here.
"""

from __future__ import annotations

from suite.core.errors import unknown
from suite.tables import dpnet, threshnet, thresholdnet, triplenet
from suite.tables.metrics import METRICS, Metric, metric
from suite.tables.papers import PAPERS
from suite.tables.spec import COMPLEXITY, TIMED, TRAINED, Claim, Latency, Misprint, RowSpec, Supplement, TableSpec
from zoo.published import published_row

TABLES: dict[str, TableSpec] = {}
ALIASES: dict[str, str] = {}


def register_table(spec: TableSpec) -> TableSpec:
    """Add a table to the registry (each paper module's ``TABLES`` is added at import); checked first."""
    if spec.id in TABLES or any(a in ALIASES for a in spec.aliases):
        raise ValueError(f"table {spec.id!r} (or one of its aliases) is declared twice")
    unknown_columns = [c for c in spec.columns if c not in METRICS]
    if unknown_columns:
        raise ValueError(f"table {spec.id!r}: unknown column(s) {unknown_columns}; add them to "
                         "suite.tables.metrics")
    if spec.paper not in PAPERS:
        raise ValueError(f"table {spec.id!r}: unknown paper {spec.paper!r}; add it to suite.tables.papers")
    TABLES[spec.id] = spec
    ALIASES.update({alias: spec.id for alias in spec.aliases})
    return spec


def unregister_table(table_id: str) -> None:
    spec = TABLES.pop(table_id, None)
    for alias in spec.aliases if spec else ():
        ALIASES.pop(alias, None)


for _module in (threshnet, thresholdnet, triplenet, dpnet):
    for _spec in _module.TABLES:
        register_table(_spec)


def resolve(name: str) -> str | None:
    key = str(name).strip().lower()
    key = key.removeprefix("table")  # "table3": a report file's name
    return key if key in TABLES else ALIASES.get(key)


def get_table(name: str) -> TableSpec:
    """The table called ``name`` (namespaced id or alias); an unknown name names the closest ids."""
    key = resolve(name)
    if key is None:
        raise unknown("table", str(name), list(TABLES))
    return TABLES[key]


def list_tables(*, kind: str | None = None, paper: str | None = None) -> list[TableSpec]:
    return [t for t in TABLES.values() if (kind is None or t.kind == kind) and (paper is None or t.paper == paper)]


def published_rows(model: str) -> list[dict]:
    """The published rows that report ``model`` (trained for the row, or the model whose complexity it printed),
    each with its published table id, our table id, the head of its complexity figures and the row's note: the
    tables are the one mapping from a model to the papers' rows (a model card shows it through this)."""
    found: dict[tuple[str, str], dict] = {}
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
           "published_rows", "register_table", "resolve", "unregister_table"]
