"""The suite from Python (a notebook): run a paper table with your own models, get the results DataFrame back.

>>> from suite import api
>>> df = api.run_table("3", models=["mynet", "threshnet79"], models_from=["my_models.py"], preset="smoke",
...                    hardware="cpu,rpi4", data_dir="data", out="results")
>>> df[["model", "error_best_pct", "cpu_per_image_ms", "user_sha256"]]
>>> api.report("results", "reports")        # the Markdown / HTML / JSON reports, your rows below the table's

The work of a command is here, on a typed configuration: ``run(RunConfig)``, ``write_reports(ReportConfig)``;
``python -m suite run`` and ``report`` only parse their command line into these. Bad input raises
``suite.core.errors.SuiteError`` (the CLI's one-line message) before anything is written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.core.errors import SuiteError, closest
from suite.run.plan import RunConfig

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from suite.report import Reports
    from suite.run.runner import Outcome

REPORT_MARKERS = ("index.md", "index.html")  # what a report writes in every out folder


@dataclass(frozen=True)
class ReportConfig:
    results: str | Path = "results"  # the folder holding run directories
    out: str | Path = "reports"
    run_name: str | None = None  # report this run only (its folder name under results)


@dataclass
class RunResult:
    run_dir: Path | None  # None: an estimate only, nothing run
    outcomes: list[Outcome] = field(default_factory=list)
    exit_code: int = 0  # 1 when a job failed (re-running the same configuration retries it)


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True, width=None if sys.stderr.isatty() else 140)  # logs: no 80-column wrap


def run(config: RunConfig, *, estimate_only: bool = False, console: Console | None = None) -> RunResult:
    """Plan, train, profile and time ``config``'s table, resuming what an earlier call finished."""
    import torch

    from suite.data.common import WORKERS_ENV
    from suite.run import prepare, real_backends
    from suite.run.executors import make_executor
    from suite.run.modes import resolve_modes
    from suite.watch import display

    console = console or _console()
    backends = real_backends()
    plan = prepare(config, backends)  # everything validated and the dataset loaded before any write
    config = plan.config
    if config.workers is not None:  # read by suite.data where a streamed dataset is loaded
        os.environ[WORKERS_ENV] = str(config.workers)
    if config.executor == "local":
        from suite.timing.hardware import physical_cores

        # Stated, never torch's implicit default: one per physical core unless --threads, the ray executor's
        # rule too, so that both train to the same weights (the count changes CPU results).
        torch.set_num_threads(config.threads or physical_cores())
    executor = make_executor(plan, backends)  # Ray started or reached: a failure is still one line, no write
    try:
        if any(j.mode is None for j in plan.jobs):
            console.print("--mode auto: timing each model's exact modes where the jobs run (kept per host)...")
        plan = resolve_modes(plan, backends, executor.call)  # before the banner names them and any job trains
        display.banner(console, plan, executor)
        if plan.preset.estimate or estimate_only:
            display.print_estimate(console, plan, backends, executor)
            display.print_decidable(console, plan)
        if estimate_only:
            return RunResult(None)
        outcomes = display.execute(console, plan, backends, executor, len(plan.jobs) * len(config.seeds))
    finally:
        executor.close()
    display.print_summary(console, outcomes)
    console.print(display.disk_line(plan.run_dir, plan.preset.keep_checkpoints), markup=False)
    failed = [o for o in outcomes if o.status == "failed"]
    console.print(f"results: {plan.run_dir / 'results.jsonl'}; tables: python -m suite report --results "
                  f"{config.out}")
    if failed:
        console.print(f"[red]{len(failed)} of {len(outcomes)} failed[/]; see {plan.run_dir / 'logs'}; "
                      "re-run the same command to retry them")
    return RunResult(plan.run_dir, outcomes, 1 if failed else 0)


def run_table(table: str | None = None, *, models: Sequence[str] | None = None,
              models_from: Sequence[str | Path] | None = None, preset: str | None = None,
              hardware: str | Sequence[str] | None = None, data_dir: str | Path | None = None,
              out: str | Path | None = None, seeds: str | Sequence[int] | None = None, executor: str | None = None,
              **options: Any) -> pd.DataFrame:
    """Run ``table`` (the rows in ``models``, default every row, and the models of ``models_from``) and return
    that run's results, one row per (model, seed): ``suite.analysis.results`` columns, ``user_file`` / ``user_sha256``
    for your models. ``options``: any other ``RunConfig`` field, e.g. ``epochs=2`` or ``train_subset=100``.
    An argument left out takes ``RunConfig``'s default."""
    from suite import usermodels
    from suite.analysis import results
    from suite.run import parse_seeds
    from suite.run.store import load_run

    known = {f.name for f in fields(RunConfig)}
    wrong = sorted(set(options) - known)
    if wrong:
        raise SuiteError(f"run_table got no option {wrong[0]!r}; valid: {', '.join(sorted(known))}")
    given: dict[str, Any] = {k: v for k, v in dict(
        table=table, preset=preset, executor=executor, out=None if out is None else str(out),
        data_dir=None if data_dir is None else str(data_dir),
        hardware=hardware if hardware is None or isinstance(hardware, str) else ",".join(hardware),
        seeds=None if seeds is None else parse_seeds(seeds if isinstance(seeds, str) else
                                                     ",".join(str(s) for s in seeds)),
        models=None if models is None else tuple(models)).items() if v is not None}
    config = replace(RunConfig(**given, **options),
                     models_from=usermodels.load([str(s) for s in models_from or ()]))
    outcome = run(config)
    if outcome.run_dir is None:
        raise SuiteError(f"suite run wrote no results under {config.out}")
    df = results.run_frame(load_run(outcome.run_dir))
    df.attrs.update(run_dir=str(outcome.run_dir), exit_code=outcome.exit_code)
    return df


def check_results_folder(results: str | Path) -> None:
    """A missing results folder (a typo) is an error naming the closest folder beside it, before any write."""
    path = Path(results).expanduser()
    if path.is_dir():
        return
    if path.exists():
        raise SuiteError(f"--results {results} is a file, not a folder; give the folder `suite run --out` wrote")
    parent = path.parent if path.parent.is_dir() else None
    siblings = [p.name for p in parent.iterdir() if p.is_dir()] if parent is not None else []
    hint = closest(path.name, siblings, n=1)
    tail = "; give the folder `suite run --out` wrote"
    if hint and parent is not None:
        tail = f"; did you mean {parent / hint[0]}?"
    raise SuiteError(f"--results {results} does not exist{tail}")


def check_replaces_only_with_results(results: str | Path, out: str | Path) -> None:
    """An existing report is replaced only by one that has results: no finished run keeps it as it is."""
    from suite.run.store import find_runs

    folder = Path(out).expanduser()
    if not any((folder / name).is_file() for name in REPORT_MARKERS):
        return
    try:
        find_runs(Path(results))
    except SuiteError:
        raise SuiteError(f"no finished results under {results}, and --out {out} holds a report already: it is "
                         "kept as it is (give --results the folder `suite run --out` wrote, or another --out)"
                         ) from None


def write_reports(config: ReportConfig) -> tuple[Reports, list[Path]]:
    """Every table's report (md, html, json, plots, index) from the runs under ``config.results``."""
    check_results_folder(config.results)
    check_replaces_only_with_results(config.results, config.out)
    from suite.report import build, write

    reports = build(Path(config.results), run_name=config.run_name)
    return reports, write(reports, Path(config.out))


def report(results: str | Path = ReportConfig.results, out: str | Path = ReportConfig.out) -> list[Path]:
    """Write every table's report from the runs under ``results``; the paths written."""
    return write_reports(ReportConfig(results, out))[1]


__all__ = ["ReportConfig", "RunConfig", "RunResult", "report", "run", "run_table", "write_reports"]
