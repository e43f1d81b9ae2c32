"""Which runs stand behind each table: the latest run, merged with every run of the table compatible with it.

Compatible runs (same data set, preset, recipe, budget and precision: the same input and training, so their rows
and seeds belong in one table) are merged, so that a run of your own model made beside an earlier full table shows
both; a (model, data set, seed) found in several of them comes from the latest. Every other run of the table is
left out with the reason; ``--run NAME`` renders that one run alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from suite.core.errors import SuiteError
from suite.run.presets import PRESETS
from suite.run.store import HOW_TO, Run, find_runs, load_run  # runs are read through the store, nothing else
from suite.tables import resolve

__all__ = ["HOW_TO", "PRESET_RANK", "MergedRun", "choose_runs", "compatibility", "find_runs", "load_run",
           "table_of"]

# A fuller run wins over a pipeline check of the same table.
PRESET_RANK = {name: len(PRESETS) - 1 - i for i, name in enumerate(PRESETS)}  # declared most thorough first


@dataclass
class MergedRun(Run):
    """The latest run of a table with the compatible runs merged into it (``lines`` hold all of them)."""

    merged: list[str] = field(default_factory=list)  # "name (n lines, seeds ...)", the latest first


def table_of(run) -> str | None:
    """The registered table a run belongs to (a run directory may name it by alias, "3" or "4")."""
    name = run.manifest.get("table") or next((line.get("table") for line in run.lines if line.get("table")), None)
    if name is None:  # a manifest without a table: its data set decides
        return {"cifar10": "threshnet-3", "svhn": "threshnet-4"}.get(run.dataset)
    return resolve(str(name))


def compatibility(run) -> dict[str, str]:
    """What must be equal for two runs' rows to stand in one table, each aspect as it reads."""
    m = run.manifest
    overrides = json.dumps(m.get("recipe_overrides") or {}, sort_keys=True)
    fingerprint = (m.get("dataset_meta") or {}).get("fingerprint")
    return {
        "data set": f"{run.dataset}" + (f" ({fingerprint})" if fingerprint else ""),
        "preset": str(run.preset),
        "recipe": f"{m.get('recipe_name', '?')}" + (f" {overrides}" if overrides != "{}" else ""),
        "budget": f"{m.get('epochs') or 'recipe'} epoch(s) on {m.get('train_subset') or 'all'} / "
                  f"{m.get('test_subset') or 'all'} images",
        "precision": f"{m.get('precision') or 'fp32'}" + "".join(
            f", {flag}" for flag in ("channels_last", "fast", "compile") if m.get(flag))
            + (", mode auto" if m.get("mode") == "auto" else ""),
    }


def _recency(run) -> tuple:
    return (str(run.manifest.get("updated") or ""), PRESET_RANK.get(run.preset, -1), run.finished)


def _describe(run) -> str:
    seeds = sorted({int(line["seed"]) for line in run.lines if isinstance(line.get("seed"), int)})
    return f"{run.name} ({len(run.lines)} lines, seed{'s' if len(seeds) != 1 else ''} " \
           f"{', '.join(map(str, seeds)) or '?'})"


def merge(group: list) -> MergedRun:
    """``group[0]`` (the latest) with the compatible runs after it merged in; the others named as left out."""
    base, key = group[0], compatibility(group[0])
    lines: dict[tuple, dict] = {}
    merged, left_out = [], []
    for run in group:
        theirs = compatibility(run)
        differs = [f"{aspect} {theirs[aspect]}, not {key[aspect]}" for aspect in key if theirs[aspect] != key[aspect]]
        if differs:
            left_out.append(f"{run.name}: {'; '.join(differs)} (`suite report --run {run.name}` renders it)")
            continue
        merged.append(_describe(run))
        for line in run.lines:
            lines.setdefault((line.get("model"), line.get("dataset"), line.get("seed")),
                             {**line, "run": line.get("run") or run.name})
    manifest = dict(base.manifest)
    if len(merged) > 1:
        manifest["seeds"] = sorted({s for line in lines.values() if isinstance(s := line.get("seed"), int)})
        manifest["hardware"] = list(dict.fromkeys(h for run in group if compatibility(run) == key
                                                  for h in run.manifest.get("hardware") or []))
    return MergedRun(base.path, manifest, list(lines.values()), base.unreadable, left_out, merged)


def choose_runs(runs: list, run_name: str | None = None) -> dict[str, MergedRun]:
    """Per table id: its latest run with the compatible runs merged in, or the run named ``run_name`` alone."""
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
        group.sort(key=_recency, reverse=True)
        chosen[table] = merge(group[:1] if run_name is not None else group)
    return chosen
