"""`suite recipes [NAME] [--json]`: every training recipe, its fields, and what the suite chose where the paper is
silent."""

from __future__ import annotations

import json
from dataclasses import fields

from rich.console import Console
from rich.table import Table

from suite.core.errors import unknown
from suite.train.recipes import RECIPES, Recipe


def register(sub) -> None:
    p = sub.add_parser("recipes", help="list the training recipes, their fields and their stated choices",
                       description=__doc__)
    p.add_argument("name", nargs="?", help=f"one recipe ({', '.join(sorted(RECIPES))}); default: all")
    p.add_argument("--json", action="store_true", help="machine-readable output (the stored recipe dicts)")
    p.set_defaults(func=run)


def _value(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, tuple) and v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        return ", ".join(f"{a}: {_value(b)}" for a, b in v)
    if isinstance(v, tuple):
        return ", ".join(_value(x) for x in v) or "-"
    return str(v)


def _print(console: Console, recipe: Recipe) -> None:
    table = Table(title=f"recipe {recipe.name}", show_header=False, title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for f in fields(Recipe):
        if f.name not in ("name", "notes", "choices"):
            table.add_row(f.name, _value(getattr(recipe, f.name)))
    console.print(table)
    if recipe.notes:
        console.print(f"notes: {recipe.notes}")
    if recipe.choices:
        console.print("choices (the paper states none of these):")
        listing = Table(box=None, show_header=False, padding=(0, 1, 0, 2))
        listing.add_column("#", justify="right", no_wrap=True)
        listing.add_column("choice", overflow="fold")
        for i, choice in enumerate(recipe.choices, 1):
            listing.add_row(f"{i}.", choice)
        console.print(listing)
    console.print()


def run(args) -> int:
    if args.name is not None and args.name not in RECIPES:
        raise unknown("recipe", args.name, RECIPES)
    chosen = [RECIPES[args.name]] if args.name else [RECIPES[n] for n in sorted(RECIPES)]
    if args.json:
        out = [r.to_dict() for r in chosen]
        print(json.dumps(out[0] if args.name else out, indent=2))
        return 0
    console = Console()
    for recipe in chosen:
        _print(console, recipe)
    return 0
