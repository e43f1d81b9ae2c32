"""The CLI starts light: building every command's parser and printing help imports no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HELP_OF_EVERY_COMMAND = """
import contextlib, io, sys
from suite.cli import command_modules, main
out = io.StringIO()
for argv in [["--help"], *([name.replace("_", "-"), "--help"] for name in command_modules())]:
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(argv)
print("usage: python -m suite" in out.getvalue(), "torch" in sys.modules)
"""


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_python_m_suite_help_imports_no_torch():
    done = _python("-X", "importtime", "-m", "suite", "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: python -m suite" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "suite.cli" in imported
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}


def test_every_commands_help_imports_no_torch():
    done = _python("-c", HELP_OF_EVERY_COMMAND)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


def test_unknown_model_error_is_caught_without_torch():
    done = _python("-c", "import sys, zoo; from zoo.errors import UnknownModelError; "
                         "print(zoo.UnknownModelError is UnknownModelError, 'torch' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
