"""`suite report [--results results/] [--out reports/] [--run NAME]`: every table, its claims, plots, an index."""

from __future__ import annotations

from rich.console import Console


def register(sub) -> None:
    p = sub.add_parser("report", help="tables, claim verdicts, plots and an index from the results of `suite run`",
                       description=__doc__)
    p.add_argument("--results", default="results", help="folder holding run directories (default results/)")
    p.add_argument("--out", default="reports", help="where to write <table>.md/.html/.json and index.md/.html "
                                                    "(default reports/)")
    p.add_argument("--run", dest="run_name", help="report this run only (its folder name under --results)")
    p.set_defaults(func=run)


def run(args) -> int:
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
        if rep.claims:
            console.print("  claims: " + ", ".join(f"{c.claim.id} {c.measured.verdict}" for c in rep.claims))
    for path in written:
        if path.suffix in (".md", ".html", ".json"):
            print(path)
    return 0
