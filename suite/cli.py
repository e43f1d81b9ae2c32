"""`python -m suite COMMAND ...`: one sub-command per module under suite.commands."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings

from suite.core.errors import SuiteError
from suite.timing.profiles import board_labels, local_names
from zoo.errors import UnknownModelError

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


def _looks_like_hardware(token: str) -> bool:
    return token.split(",")[0] in local_names() or token.startswith("ssh://") or \
        token.split("@")[0] in board_labels() and "@" in token


def space_in_list(argv: list[str]) -> str | None:
    """`--hardware cpu rpi4`: argparse would print the top-level usage; say what was meant instead."""
    for i, token in enumerate(argv[:-2]):
        if token == "--hardware" and _looks_like_hardware(argv[i + 1]):
            extra = []
            for nxt in argv[i + 2:]:
                if nxt.startswith("-") or not _looks_like_hardware(nxt):
                    break
                extra.append(nxt)
            if extra:
                return f"use a comma: --hardware {','.join([argv[i + 1], *extra])}"
    return None


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    argv = list(sys.argv[1:] if argv is None else argv)
    hint = space_in_list(argv)
    if hint:
        print(f"error: {hint}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SuiteError, UnknownModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
