"""`suite models [PATTERN] [--family F] [--card NAME] [--wide] [--json]`: list the zoo or show one model's card."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

from rich import box
from rich.console import Console
from rich.table import Table

import zoo
from suite import usermodels
from suite.core.errors import unknown

COLUMNS = ("name", "family", "head", "origin", "paper")


def register(sub) -> None:
    p = sub.add_parser("models", help="list zoo models or show a model card")
    usermodels.add_argument(p)
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. '*cifar' or 'threshnet*'")
    p.add_argument("--family", help="only this family")
    p.add_argument("--card", metavar="NAME", help="print one model's card")
    p.add_argument("--wide", action="store_true",
                   help="full paper titles, one line per model however wide (default: author and year)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def short_paper(paper: str) -> str:
    """'Ju et al., ThreshNet: ... (IEEE Access 2022)' -> 'Ju et al. 2022': the citation, not the title."""
    authors = paper.split(", ", 1)[0].replace(" and ", " & ").strip()
    venue = paper[paper.rfind("("):] if "(" in paper else ""
    years = re.findall(r"\b(?:19|20)\d\d\b", venue)
    if years:
        return f"{authors} {years[-1]}"
    arxiv = re.search(r"arXiv:? ?(\d\d)(?:0[1-9]|1[0-2])\.\d{4,5}", paper)  # the id starts with YYMM
    return f"{authors} 20{arxiv.group(1)}" if arxiv else authors


def _source(name: str, declared: str) -> str:
    from zoo.user import loaded_source

    src = loaded_source(name)
    return src.display if src is not None else declared


def models_table(names: list[str], *, wide: bool = False) -> Table:
    """One line per model: no column wraps; only the paper column may be elided (``wide``: never)."""
    cards = [zoo.model_card(n) for n in names]
    # a user's model has no paper: its source (file or package) stands in that column
    rows = [(n, c.family, str(c.num_classes), c.origin,
             _source(n, c.source) if c.origin == "user" else c.paper if wide else short_paper(c.paper))
            for n, c in zip(names, cards, strict=True)]
    # one-space gaps, no side borders: name, family, head and origin keep their full width in 80 columns
    table = Table(title=f"{len(names)} models", box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0))
    for i, col in enumerate(COLUMNS):
        width = max([len(col), *(len(r[i]) for r in rows)])
        table.add_column(col, no_wrap=True, overflow="ellipsis", justify="right" if col == "head" else "left",
                         min_width=None if col == "paper" else width)
    for row in rows:
        table.add_row(*row)
    return table


def run(args) -> int:
    from zoo.user import ENTRY_POINT_ERRORS, load_entry_points  # torch: loaded when the command runs

    console = Console()
    usermodels.load(args.models_from)
    load_entry_points()  # installed packages' models (lightcnn_repro.models), listed with their origin
    for name, why in sorted(ENTRY_POINT_ERRORS.items()):
        console.print(f"[yellow]warning: entry point {name} did not load: {why}[/]")
    if args.card:
        card = zoo.model_card(args.card)
        from suite.tables import published_rows  # the table registry, loaded for a card only

        data = asdict(card) | {"published_numbers": published_rows(card.name)}
        console.print_json(json.dumps(data, default=str)) if not args.json else print(json.dumps(data, default=str))
        return 0
    if args.family is not None:
        families = {zoo.model_card(n).family for n in zoo.list_models()}
        if args.family not in families:
            raise unknown("family", args.family, families)
    names = zoo.list_models(args.pattern, family=args.family)
    if args.json:
        print(json.dumps([asdict(zoo.model_card(n)) for n in names], default=str))
        return 0
    table = models_table(names, wide=args.wide)
    if args.wide:  # as wide as the longest title: a pager (less -S) or a wide terminal shows it whole
        natural = table.__rich_measure__(console, console.options.update(max_width=10_000)).maximum
        console = Console(width=max(console.width, natural))
    console.print(table)
    return 0
