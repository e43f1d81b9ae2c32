"""`--help` of every sub-command prints its usage and exits 0 (argparse formats every help string)."""

from __future__ import annotations

import argparse
import importlib

import pytest

from suite.cli import command_modules, main


def _commands() -> list[str]:
    """The names each command module registers (a module may name its command differently, import-times)."""
    names: list[str] = []
    for module in command_modules():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"suite.commands.{module}").register(sub)
        names += list(sub.choices)
    return names


COMMANDS = _commands()


def test_every_command_module_registers_a_command():
    assert len(COMMANDS) >= len(command_modules())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_help_exits_0_with_usage(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ") and f" {command}" in out.splitlines()[0]
    assert len(out.splitlines()) > 3


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
