"""`suite compare RUN_A RUN_B [--fail-on-change] [--json]`: what changed between two runs, beyond the noise.

Per model and metric: both values, B - A, the noise a difference must beat (two combined sigmas: the seed
spread, else the test-set size or the timing IQR; complexity is exact) and whether it changed. Exit code 0;
with --fail-on-change, 1 when anything changed beyond the noise (for CI after a zoo or torch change).
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import textwrap

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from suite.core.errors import SuiteError

PLAIN_WIDTH = 80  # piped or redirected output: plain lines of this width
TABLE_WIDTH = 120  # a terminal narrower than this gets the plain lines too: eight columns do not fit


def register(sub) -> None:
    p = sub.add_parser("compare", help="compare two runs metric by metric, with the noise each must beat",
                       description=__doc__)
    p.add_argument("run_a", help="run directory or run name under --results")
    p.add_argument("run_b", help="run directory or run name under --results")
    p.add_argument("--results", default="results", help="where run names are looked up (default results/)")
    p.add_argument("--fail-on-change", action="store_true", help="exit 1 if anything changed beyond the noise")
    p.add_argument("--all", action="store_true", help="list unchanged metrics too")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args) -> int:
    # loaded when this command runs: building the CLI (every command's parser) stays light
    from suite.analysis import results
    from suite.report.compare import differences, only_in

    a = results.load(results.resolve_run(args.run_a, args.results))
    b = results.load(results.resolve_run(args.run_b, args.results))
    diffs = differences(a, b)
    if not diffs:
        raise SuiteError(f"{args.run_a} and {args.run_b} share no (model, dataset) with a measured value")
    changed = [d for d in diffs if d.changed]
    missing_b, missing_a = only_in(a, b)
    if args.json:
        print(json.dumps({"differences": [d.to_dict() for d in diffs], "changed": len(changed),
                          "only_in_a": missing_b, "only_in_b": missing_a}, indent=1))
    else:
        shown = diffs if args.all else changed
        count = f"{len(changed)} of {len(diffs)} values changed beyond the noise"
        tty = sys.stdout.isatty()
        width = shutil.get_terminal_size((PLAIN_WIDTH, 24)).columns if tty else PLAIN_WIDTH
        if tty and width >= TABLE_WIDTH:
            _table(Console(), f"{args.run_a} -> {args.run_b}: {count}", shown)
        else:  # a narrow terminal, a pipe or a file: one wrapped block per value, never a squeezed table
            _lines([f"A: {args.run_a}", f"B: {args.run_b}", count], shown, width)
        notes = []
        if not args.all and len(shown) < len(diffs):
            notes.append(f"{len(diffs) - len(shown)} values inside the noise (--all lists them)")
        notes += [f"{label}: {', '.join(models)}" for label, models in (("only in A", missing_b),
                                                                       ("only in B", missing_a)) if models]
        for note in notes:
            print(textwrap.fill(note, width=width, subsequent_indent="  "))
    return 1 if changed and args.fail_on_change else 0


def _noise(d) -> str:
    return "no spread" if math.isnan(d.noise) else f"{d.noise:.3g}"


def _table(console: Console, title: str, shown: list) -> None:
    table = Table(title=title)
    for col in ("model", "metric", "A", "B", "B - A", "noise (2σ)", "", "noise from"):
        # model names are never cut: the explanation column folds instead
        table.add_column(col, justify="right" if col in ("A", "B", "B - A", "noise (2σ)") else "left",
                         no_wrap=col != "noise from", overflow="fold")
    for d in shown:
        table.add_row(escape(d.model), d.metric, d.a, d.b, f"{d.delta:+.3g}", _noise(d),
                      "[red]changed[/]" if d.changed else "same", escape(d.why))
    console.print(table)


def _lines(header: list[str], shown: list, width: int) -> None:
    """Plain text: the model and metric, both values, the difference, the noise and its source."""
    for line in header:
        print(textwrap.fill(line, width=width, subsequent_indent="   ", break_long_words=False))
    for d in shown:
        verdict = "changed" if d.changed else "same"
        head = f"{verdict:<8}{d.model}  {d.metric}: {d.a} -> {d.b} ({d.delta:+.3g}; noise {_noise(d)})"
        print(textwrap.fill(head, width=width, subsequent_indent="        ", break_long_words=False))
        print(textwrap.fill(f"noise from {d.why}", width=width, initial_indent="        ",
                            subsequent_indent="        ",
                            break_long_words=False))
