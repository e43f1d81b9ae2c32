"""Find the runs of `suite run` under a results folder and choose one per dataset."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from suite.errors import SuiteError
from suite.run import MANIFEST, RESULTS, latest_by_key, read_jsonl

# A fuller run wins over a pipeline check of the same dataset.
PRESET_RANK = {"paper": 2, "quick": 1, "smoke": 0}
HOW_TO = ("produce them with `python -m suite run --preset smoke` (minutes) or `python -m suite run` "
          "(the full recipe), then run `python -m suite report` again")


@dataclass
class Run:
    path: Path
    manifest: dict
    lines: list[dict]  # the latest line of each (model, dataset, seed)
    unreadable: int = 0  # fragments left by an interrupted write
    ignored: list[str] = field(default_factory=list)  # other runs of the same dataset, not merged

    @property
    def name(self) -> str:
        return self.manifest.get("run_name") or self.path.name

    @property
    def dataset(self) -> str:
        return self.manifest.get("dataset") or (self.lines[0]["dataset"] if self.lines else "unknown")

    @property
    def preset(self) -> str:
        preset = self.manifest.get("preset")
        if isinstance(preset, dict):
            return preset.get("name", "unknown")
        return preset or (self.lines[0].get("preset") if self.lines else None) or "unknown"

    @property
    def finished(self) -> int:
        return sum(1 for r in self.lines if r.get("status") in ("ok", "diverged"))


def load_run(path: Path) -> Run:
    manifest: dict = {}
    if (path / MANIFEST).is_file():
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, json.JSONDecodeError):
            manifest = {}
    lines, bad = read_jsonl(path / RESULTS)
    return Run(path, manifest, list(latest_by_key(lines).values()), bad)


def find_runs(results: Path) -> list[Run]:
    """Every run folder (one holding results.jsonl) under ``results``, or ``results`` itself."""
    results = Path(results).expanduser()
    if not results.exists():
        raise SuiteError(f"no results at {results}: {HOW_TO}")
    folders = sorted({p.parent for p in results.rglob(RESULTS)})
    runs = [load_run(f) for f in folders]
    runs = [r for r in runs if r.lines]
    if not runs:
        raise SuiteError(f"no results under {results} (no results.jsonl with a finished line): {HOW_TO}")
    return runs


def choose_runs(runs: list[Run], run_name: str | None = None) -> dict[str, Run]:
    """One run per dataset: the fullest preset, then the most finished lines, then the latest."""
    if run_name is not None:
        runs = [r for r in runs if r.name == run_name or r.path.name == run_name]
        if not runs:
            raise SuiteError(f"no run named {run_name!r} under the results folder")
    by_dataset: dict[str, list[Run]] = {}
    for r in runs:
        by_dataset.setdefault(r.dataset, []).append(r)
    chosen = {}
    for dataset, group in by_dataset.items():
        group.sort(key=lambda r: (PRESET_RANK.get(r.preset, -1), r.finished, r.manifest.get("updated", "")),
                   reverse=True)
        best = group[0]
        best.ignored = [f"{r.name} ({r.preset}, {r.finished} finished)" for r in group[1:]]
        chosen[dataset] = best
    return chosen
