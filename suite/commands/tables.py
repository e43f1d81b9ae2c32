"""`suite tables [ID] [--json]`: every table the suite reproduces, what each needs, and whether it can run here."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table


def register(sub) -> None:
    p = sub.add_parser("tables", help="list the paper tables: id, paper, dataset, needs, reproducible here",
                       description=__doc__)
    p.add_argument("table", nargs="?", help="show one table (id or alias, e.g. threshnet-3 or 3)")
    p.add_argument("--data-dir", help="where to look for the data sets (default $SUITE_DATA_DIR, else ./data)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _describe(spec, data_dir, cuda: bool, pi: str | None) -> dict:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.tables import METRICS, PAPERS
    from suite.tables.needs import here, needs

    verdict, reasons = here(spec, data_dir=data_dir, cuda=cuda, pi=pi)
    return {"id": spec.id, "aliases": list(spec.aliases), "paper": PAPERS[spec.paper].short, "title": spec.title,
            "kind": spec.kind, "dataset": spec.dataset, "recipe": spec.recipe,
            "rows": [{"row": r.row, "model": r.model, "published_head": r.published_head,
                      "profiled_model": r.profiled_model} for r in spec.rows],
            "columns": [METRICS[c].label for c in spec.columns], "claims": [c.id for c in spec.claims],
            "needs": needs(spec).describe(), "here": verdict, "why": reasons,
            "command": "python -m suite report" if spec.kind == "complexity"
            else f"python -m suite run --table {spec.id}"}


def run(args) -> int:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    import torch

    from suite.data import resolve_data_dir
    from suite.tables import TABLES, get_table
    from suite.timing.hardware import raspberry_pi4_model

    specs = [get_table(args.table)] if args.table else list(TABLES.values())
    data_dir, cuda = resolve_data_dir(args.data_dir), torch.cuda.is_available()
    pi = "rpi4" if raspberry_pi4_model() else None
    rows = [_describe(s, data_dir, cuda, pi) for s in specs]
    if args.json:
        print(json.dumps(rows[0] if args.table else rows, indent=2))
        return 0
    console = Console()
    table = Table(title=f"{len(rows)} tables (data: {data_dir})", show_lines=False)
    for col in ("id", "paper", "dataset", "rows", "claims", "here"):
        table.add_column(col, no_wrap=col in ("id", "here"))
    for r in rows:
        style = {"yes": "green", "partly": "yellow", "no": "red"}[r["here"]]
        table.add_row(r["id"], r["paper"], r["dataset"] or "—", str(len(r["rows"])), ",".join(r["claims"]) or "—",
                      f"[{style}]{r['here']}[/]")
    console.print(table)
    for r in rows:
        console.print(f"[bold]{r['id']}[/] {r['title']}: needs {r['needs']}; {'; '.join(r['why'])}")
        if args.table:
            console.print("  columns: " + ", ".join(r["columns"]))
            for row in r["rows"]:
                console.print(f"  {row['row']}: {row['model']} (published head {row['published_head']}"
                              + (f", complexity of {row['profiled_model']}" if row["profiled_model"] != row["model"]
                                 else "") + ")")
            console.print(f"  run: {r['command']}")
    return 0
