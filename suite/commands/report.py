"""`suite report [--results results/] [--out reports/] [--run NAME]`: every table, its claims, plots, an index."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from suite.errors import SuiteError, closest
from suite.run.store import find_runs

REPORT_MARKERS = ("index.md", "index.html")  # what `suite report` writes in every --out


def register(sub) -> None:
    p = sub.add_parser("report", help="tables, claim verdicts, plots and an index from the results of `suite run`",
                       description=__doc__)
    p.add_argument("--results", default="results", help="folder holding run directories (default results/)")
    p.add_argument("--out", default="reports", help="where to write <table>.md/.html/.json and index.md/.html "
                                                    "(default reports/)")
    p.add_argument("--run", dest="run_name", help="report this run only (its folder name under --results)")
    p.set_defaults(func=run)


def check_results_folder(results: str) -> None:
    """A missing --results (a typo) is an error naming the closest folder beside it, before anything is written."""
    path = Path(results).expanduser()
    if path.is_dir():
        return
    parent = path.parent if path.parent.is_dir() else None
    siblings = [p.name for p in parent.iterdir() if p.is_dir()] if parent is not None else []
    hint = closest(path.name, siblings, n=1)
    tail = "; give the folder `suite run --out` wrote"
    if hint and parent is not None:
        tail = f"; did you mean {parent / hint[0]}?"
    raise SuiteError(f"--results {results} does not exist{tail}")


def check_replaces_only_with_results(results: str, out: str) -> None:
    """An existing report is replaced only by one that has results: no finished run keeps it as it is."""
    folder = Path(out).expanduser()
    if not any((folder / name).is_file() for name in REPORT_MARKERS):
        return
    try:
        find_runs(results)
    except SuiteError:
        raise SuiteError(f"no finished results under {results}, and --out {out} holds a report already: it is "
                         "kept as it is (give --results the folder `suite run --out` wrote, or another --out)"
                         ) from None


def run(args) -> int:
    check_results_folder(args.results)
    check_replaces_only_with_results(args.results, args.out)

    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.report import build, write

    reports = build(args.results, run_name=args.run_name)
    written = write(reports, args.out)
    console = Console(stderr=True)
    for note in reports.notes:
        console.print(f"[yellow]{note}[/]")
    for rep in reports:
        td = rep.table
        if td.run is None:
            console.print(f"{td.title}: complexity only ({len(td.rows)} rows)")
        else:
            measured = sum(1 for r in td.rows if r.measured)
            console.print(f"{td.title}: {measured}/{len(td.rows)} rows measured from run {td.run.name} ({td.kind})")
            for name in td.run.merged[1:]:
                console.print(f"  merged: {name}", markup=False)
            for reason in td.run.ignored:
                console.print(f"  left out: {reason}", markup=False)
        if rep.claims:
            console.print("  claims: " + ", ".join(f"{c.claim.id} {c.measured.verdict}" for c in rep.claims))
    for path in written:
        if path.suffix in (".md", ".html", ".json"):
            print(path)
    return 0
