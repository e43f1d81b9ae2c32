"""The index report: every registered table, its status here, its claims' verdicts and a link to its report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from suite.claims import NOT_REPRODUCED, REPRODUCED, ClaimResult
from suite.report.tables import TableData
from suite.tables import COMPLEXITY, PAPERS, TABLES
from suite.tables.needs import needs


@dataclass
class IndexEntry:
    id: str
    title: str
    paper: str
    kind: str
    needs: str
    status: str  # "measured here", "partly", "complexity only", "not run yet"
    detail: str
    command: str  # what would (re)run it
    report: str | None  # file name of its report, None when not written
    claims: list[dict] = field(default_factory=list)  # id, measured, own_table

    def to_dict(self) -> dict:
        return asdict(self)


def _status(spec, td: TableData | None) -> tuple[str, str]:
    if spec.kind == COMPLEXITY:
        return "complexity only", f"{len(spec.rows)} rows computed by `suite report`"
    if td is None or td.run is None:
        return "not run yet", ""
    done = sum(1 for r in td.rows if r.in_table and r.measured and all(s == "ok" for s in r.statuses))
    total = len(spec.rows)
    what = f"{done}/{total} rows finished, run {td.run.name} ({td.kind})"
    return ("measured here" if done == total else "partly"), what


def _unmeasured(verdict: str) -> str:
    """A claim verdict of a table without a run: only complexity can have decided it, so it says so."""
    if verdict in (REPRODUCED, NOT_REPRODUCED):
        return f"{verdict}, from parameter counts only"
    return "not measured"


def index_entries(tables: dict[str, TableData], claims: dict[str, list[ClaimResult]]) -> list[IndexEntry]:
    entries = []
    for spec in TABLES.values():
        td = tables.get(spec.id)
        status, detail = _status(spec, td)
        command = "python -m suite report" if spec.kind == COMPLEXITY else (
            f"python -m suite run --table {spec.id} --preset smoke")
        unmeasured = spec.kind != COMPLEXITY and (td is None or td.run is None)
        verdicts = [{"id": c.claim.id, "measured": _unmeasured(c.measured.verdict) if unmeasured else
                     c.measured.verdict, "own_table": c.own_table.verdict, "text": c.claim.text}
                    for c in claims.get(spec.id, [])]
        if unmeasured and verdicts:
            detail = (f"{detail}; " if detail else "") + (
                "its claims' verdicts come from parameter counts only; run the table for the rest")
        entries.append(IndexEntry(spec.id, spec.title, PAPERS[spec.paper].short, spec.kind, needs(spec).describe(),
                                  status, detail, command, f"{spec.id}.html" if td is not None else None, verdicts))
    return entries
