"""Which run stands behind each table: one per table, the fullest preset, then the most finished lines."""

from __future__ import annotations

from suite.core.errors import SuiteError
from suite.run.presets import PRESETS
from suite.run.store import HOW_TO, find_runs, load_run  # runs are read through the store, nothing else
from suite.tables import resolve

__all__ = ["HOW_TO", "PRESET_RANK", "choose_runs", "find_runs", "load_run", "table_of"]

# A fuller run wins over a pipeline check of the same table.
PRESET_RANK = {name: len(PRESETS) - 1 - i for i, name in enumerate(PRESETS)}  # declared most thorough first


def table_of(run) -> str | None:
    """The registered table a run belongs to (a run directory may name it by alias, "3" or "4")."""
    name = run.manifest.get("table") or next((line.get("table") for line in run.lines if line.get("table")), None)
    if name is None:  # a manifest without a table: its data set decides
        return {"cifar10": "threshnet-3", "svhn": "threshnet-4"}.get(run.dataset)
    return resolve(str(name))


def choose_runs(runs: list, run_name: str | None = None) -> dict[str, object]:
    """One run per table id: the fullest preset, then the most finished lines, then the latest."""
    if run_name is not None:
        runs = [r for r in runs if run_name in (r.name, r.path.name)]
        if not runs:
            raise SuiteError(f"no run named {run_name!r} under the results folder")
    by_table: dict[str, list] = {}
    for r in runs:
        table = table_of(r)
        if table is not None:
            by_table.setdefault(table, []).append(r)
    chosen = {}
    for table, group in by_table.items():
        group.sort(key=lambda r: (PRESET_RANK.get(r.preset, -1), r.finished, r.manifest.get("updated", "")),
                   reverse=True)
        best = group[0]
        best.ignored = [f"{r.name} ({r.preset}, {r.finished} finished)" for r in group[1:]]
        chosen[table] = best
    return chosen

