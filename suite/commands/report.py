"""`suite report [--results results/] [--out reports/] [--run NAME]`: tables, claims, plots of `suite run`."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("report", help="tables, claim verdicts and plots from the results of `suite run`",
                       description=__doc__)
    p.add_argument("--results", default="results", help="folder holding run directories (default results/)")
    p.add_argument("--out", default="reports", help="where to write table<N>.md/.html/.json (default "
                                                    "reports/)")
    p.add_argument("--run", dest="run_name", help="report this run only (its folder name under --results)")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console

    from suite.report import build, write

    reports = build(args.results, run_name=args.run_name)
    written = write(reports, args.out)
    console = Console(stderr=True)
    for rep in reports:
        td = rep.table
        measured = sum(1 for r in td.rows if r.measured)
        console.print(f"{td.title}: {measured}/{len(td.rows)} rows measured from run {td.run.name} "
                      f"({td.kind})")
        if rep.claims:
            console.print("  claims: " + ", ".join(f"{c.claim.id} {c.measured.verdict}" for c in rep.claims))
    for path in written:
        if path.suffix in (".md", ".html", ".json"):
            print(path)
    return 0
