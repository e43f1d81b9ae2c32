"""`suite report [--results results/] [--out reports/] [--run NAME]`: every table, its claims, plots, an index."""

from __future__ import annotations

import argparse

from rich.console import Console

from suite.api import ReportConfig


def register(sub) -> None:
    p = sub.add_parser("report", help="tables, claim verdicts, plots and an index from the results of `suite run`",
                       description=__doc__)
    p.add_argument("--results", default=str(ReportConfig.results),
                   help=f"folder holding run directories (default {ReportConfig.results}/)")
    p.add_argument("--out", default=str(ReportConfig.out), help="where to write <table>.md/.html/.json and "
                                                                f"index.md/.html (default {ReportConfig.out}/)")
    p.add_argument("--run", dest="run_name", help="report this run only (its folder name under --results)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from suite.api import write_reports

    reports, written = write_reports(ReportConfig(args.results, args.out, args.run_name))
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
