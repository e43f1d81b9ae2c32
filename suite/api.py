"""The suite from Python (a notebook): run a paper table with your own models, get the results DataFrame back.

>>> from suite import api
>>> df = api.run_table("3", models=["mynet", "threshnet79"], models_from=["my_models.py"], preset="smoke",
...                    hardware="cpu,rpi4", data_dir="data", out="results")
>>> df[["model", "error_best_pct", "cpu_per_image_ms", "user_sha256"]]
>>> api.report("results", "reports")        # the Markdown / HTML / JSON reports, your rows below the table's

``run_table`` is exactly ``python -m suite run`` (the same validation, run directory, resume and executors):
bad input raises ``suite.errors.SuiteError`` with the CLI's one-line message, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from suite.errors import SuiteError


def _argv(table: str, *, models, models_from, preset, hardware, data_dir, out, seeds, executor, extra) -> list[str]:
    argv = ["run", "--table", str(table), "--preset", preset, "--out", str(out), "--executor", executor]
    if models:
        argv += ["--models", ",".join(models)]
    for spec in models_from or ():
        argv += ["--models-from", str(spec)]
    if hardware:
        argv += ["--hardware", hardware if isinstance(hardware, str) else ",".join(hardware)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if seeds is not None:
        argv += ["--seeds", seeds if isinstance(seeds, str) else ",".join(str(s) for s in seeds)]
    return argv + list(extra)


def run_table(table: str = "3", *, models: Sequence[str] | None = None, models_from: Sequence[str] | None = None,
              preset: str = "paper", hardware: str | Sequence[str] | None = None, data_dir: str | Path | None = None,
              out: str | Path = "results", seeds: str | Sequence[int] | None = None, executor: str = "local",
              extra: Sequence[str] = ()) -> pd.DataFrame:
    """Run ``table`` (the rows in ``models``, default every row, and the models of ``models_from``) and return
    that run's results, one row per (model, seed): ``suite.results`` columns, ``user_file`` / ``user_sha256``
    for your models. ``extra``: any other `suite run` option, e.g. ``["--epochs", "2"]``."""
    from suite import results
    from suite.cli import build_parser
    from suite.run.store import find_runs

    argv = _argv(table, models=models, models_from=models_from, preset=preset, hardware=hardware,
                 data_dir=data_dir, out=out, seeds=seeds, executor=executor, extra=extra)
    args = build_parser().parse_args(argv)
    code = int(args.func(args) or 0)  # SuiteError propagates: the caller sees the one-line reason
    runs = [r for r in find_runs(Path(out)) if r.manifest.get("invocations")]
    if not runs:
        raise SuiteError(f"suite run wrote no results under {out}")
    latest = max(runs, key=lambda r: str(r.manifest["invocations"][-1].get("started", "")))
    df = results.run_frame(latest)
    df.attrs.update(run_dir=str(latest.path), exit_code=code)
    return df


def report(results: str | Path = "results", out: str | Path = "reports") -> list[Path]:
    """Write every table's report (md, html, json, plots, index) from the runs under ``results``."""
    from suite.report import build_reports

    return build_reports(Path(results), Path(out))


__all__ = ["report", "run_table"]
