"""`suite models [PATTERN] [--family F] [--card NAME]`: list the zoo or show one model's card."""

from __future__ import annotations

import json
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

import zoo


def register(sub) -> None:
    p = sub.add_parser("models", help="list zoo models or show a model card")
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. '*cifar' or 'threshnet*'")
    p.add_argument("--family", help="only this family")
    p.add_argument("--card", metavar="NAME", help="print one model's card")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args) -> int:
    console = Console()
    if args.card:
        card = zoo.model_card(args.card)
        data = asdict(card) | {"published_numbers": card.published_numbers()}
        console.print_json(json.dumps(data, default=str)) if not args.json else print(json.dumps(data, default=str))
        return 0
    names = zoo.list_models(args.pattern, family=args.family)
    if args.json:
        print(json.dumps([asdict(zoo.model_card(n)) for n in names], default=str))
        return 0
    table = Table(title=f"{len(names)} models")
    for col in ("name", "family", "head", "origin", "paper"):
        table.add_column(col)
    for n in names:
        c = zoo.model_card(n)
        table.add_row(n, c.family, str(c.num_classes), c.origin, c.paper)
    console.print(table)
    return 0
