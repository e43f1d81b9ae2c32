"""`python -m suite COMMAND ...`: one sub-command per module under suite.commands."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings

from suite.errors import SuiteError
from zoo import UnknownModelError

# Each module of suite.commands defines `register(subparsers)`, which sets the parser's `func`. These come
# first in the help, in this order; any other command module follows alphabetically.
FIRST = ("run", "report", "tables", "models", "complexity", "latency")


def command_modules() -> list[str]:
    import suite.commands

    found = sorted(m.name for m in pkgutil.iter_modules(suite.commands.__path__) if not m.name.startswith("_"))
    return [n for n in FIRST if n in found] + [n for n in found if n not in FIRST]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m suite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"suite.commands.{name}").register(sub)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    # Users see what is wrong, not the line of suite code that noticed it.
    return f"warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SuiteError, UnknownModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
