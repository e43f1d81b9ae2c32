"""Published complexity figures vs the zoo, cell by cell, as data (`suite report` renders it).

Every row of ThreshNet Tables III/IV and ThresholdNet Table VIII is profiled with the torchstat convention
at 3x224x224 with the head the published figures came from (suite.tables), and each printed metric is
compared to the printed precision: the papers print 2 decimals, sometimes truncated and sometimes rounded, so
either counts as reproducing. The as-trained cost at 3x32x32 (what the models actually ran on) is added per
row, unpublished. Rows whose model is not registered yet get the status "model not in zoo".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import zoo
from suite.complexity.profiler import profile
from suite.complexity.report import ComplexityReport
from suite.tables import get_table
from zoo.published import published_row

PAPER_INPUT = (3, 224, 224)
TRAINED_INPUT = (3, 32, 32)
# published CSV column -> how to read it off a report, in the printed unit
METRICS = {
    "flops_g": lambda r: r.flops / 1e9,
    "madd_g": lambda r: r.madd / 1e9,
    "memory_mb": lambda r: r.memory_mb,
    "params_m": lambda r: r.params / 1e6,
    "memrw_mb": lambda r: r.memrw_mb,
}

REPRODUCES, DIFFERS, NOT_IN_ZOO, UNPUBLISHED = "reproduces", "differs", "model not in zoo", "not published"
PROFILE_FAILED = "profile failed"


@dataclass
class Cell:
    table: str
    row: str
    model: str
    head: int
    input: str
    metric: str
    published: float | None
    computed: float | None
    reproduces: bool | None
    status: str
    note: str = ""


def matches_printed(computed: float, published: float, decimals: int = 2) -> bool:
    """True if ``computed`` printed with ``decimals`` digits, rounded or truncated, gives ``published``."""
    scale = 10**decimals
    target = round(published * scale)
    scaled = computed * scale
    return target in (round(scaled), math.floor(scaled + 1e-9))


def _size(input_size: tuple[int, int, int]) -> str:
    return "x".join(str(s) for s in input_size)


class _Profiles:
    """Each (model, head, input) is profiled once: Tables III and IV share most rows."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, tuple[int, int, int]], ComplexityReport] = {}

    def get(self, model: str, head: int, input_size: tuple[int, int, int]) -> ComplexityReport:
        key = (model, head, input_size)
        if key not in self._cache:
            self._cache[key] = profile(zoo.create_structure(model, num_classes=head), input_size)
        return self._cache[key]


def _row_cells(table: str, row, published: dict, profiles: _Profiles, registered: set[str],
               as_trained: bool) -> list[Cell]:
    model, head = row.profiled_model, row.published_head
    metrics = [m for m in METRICS if m in published]

    def cell(size, metric, value, computed, ok, status, note=row.note) -> Cell:
        return Cell(table, row.row, model, head, _size(size), metric, value, computed, ok, status, note)

    if model not in registered:
        return [cell(PAPER_INPUT, m, published[m], None, None, NOT_IN_ZOO) for m in metrics]
    try:
        report = profiles.get(model, head, PAPER_INPUT)
    except Exception as exc:  # one broken builder must not take the whole reconciliation down
        status = f"{PROFILE_FAILED}: {type(exc).__name__}: {exc}"
        return [cell(PAPER_INPUT, m, published[m], None, None, status) for m in metrics]
    cells = []
    for m in metrics:
        value, computed = published[m], METRICS[m](report)
        if value is None:
            cells.append(cell(PAPER_INPUT, m, None, computed, None, UNPUBLISHED))
        else:
            ok = matches_printed(computed, float(value))
            cells.append(cell(PAPER_INPUT, m, float(value), computed, ok, REPRODUCES if ok else DIFFERS))
    if as_trained:
        small = profiles.get(model, head, TRAINED_INPUT)
        note = "as trained (32x32); the paper prints the 224x224 cost"
        cells += [cell(TRAINED_INPUT, m, None, METRICS[m](small), None, UNPUBLISHED, note) for m in metrics]
    return cells


def reconcile(tables: Iterable[str] = ("3", "4", "8"), *, as_trained: bool = True) -> list[dict]:
    """Per-cell records: table, row, model, head, input, metric, published, computed, reproduces, status,
    note. ``reproduces`` is None where nothing is published or the model is not in the zoo."""
    registered = set(zoo.list_models())
    profiles = _Profiles()
    cells: list[Cell] = []
    for table_id in tables:
        spec = get_table(table_id)
        for row in spec.rows:
            published = published_row(spec.published_table, row.row)
            cells += _row_cells(spec.id, row, published, profiles, registered, as_trained)
    return [asdict(c) for c in cells]


def summary(records: list[dict]) -> dict[str, int]:
    """Counts of published cells by status (the 32x32 rows are left out)."""
    out: dict[str, int] = {}
    for r in records:
        if r["published"] is not None:
            out[r["status"]] = out.get(r["status"], 0) + 1
    return out
