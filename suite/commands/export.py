"""`suite export RUN [--format csv|json|markdown] [--out FILE]`: a run's results as one flat table.

RUN is a run directory, a run name under --results, or a results folder (every run in it). The table is
``suite.analysis.results.load``: one row per (run, model, dataset, seed), the columns the report is built from.
"""

from __future__ import annotations

import sys

from suite.core.errors import SuiteError, unknown

FORMATS = ("csv", "json", "markdown")


def register(sub) -> None:
    p = sub.add_parser("export", help="write a run's results as CSV, JSON or Markdown (one row per model and seed)",
                       description=__doc__)
    p.add_argument("run", help="run directory, run name under --results, or a results folder")
    p.add_argument("--results", default="results", help="where run names are looked up (default results/)")
    p.add_argument("--format", default="csv", help=f"one of {', '.join(FORMATS)} (default csv)")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(func=run)


def render(df, fmt: str) -> str:
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        return df.to_json(orient="records", indent=1) + "\n"
    return df.to_markdown(index=False) + "\n" if _has_tabulate() else _markdown(df)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def _markdown(df) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join("" if v is None or v != v else str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.analysis import results

    fmt = args.format.strip().lower()
    if fmt not in FORMATS:
        raise unknown("format", fmt, FORMATS)
    df = results.load(results.resolve_run(args.run, args.results))
    text = render(df, fmt)
    if args.out:
        from suite.core.fileio import write_text_atomic

        try:
            write_text_atomic(args.out, text)  # a failed write leaves an existing export as it was
        except OSError as exc:
            raise SuiteError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        print(f"{args.out}: {len(df)} rows x {len(df.columns)} columns", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
