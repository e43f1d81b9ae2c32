"""How many collected tests exercise each `suite` sub-command (a static reading of tests/, for reviews).

A test exercises a command when its body, a fixture it requests (transitively), a module-level helper it calls
or a module-level constant it names holds a CLI argument list for that command: the command's name as the first
string among a call's positional arguments, the first element of a list or tuple literal, or the element after
``"suite"`` (``[python, "-m", "suite", "run", ...]``). Counts are per collected test item (each parametrized
case counts).

    python scripts/count_command_tests.py [TESTS_DIR]
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

COMMANDS = ("run", "report", "tables", "models", "complexity", "latency", "recipes", "export", "compare", "bundle",
            "import-times", "calibration")


def _const(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_mktemp(call: ast.Call) -> bool:
    # tmp_path_factory.mktemp("tables") names a folder, not a command
    return isinstance(call.func, ast.Attribute) and call.func.attr == "mktemp"


def _direct(node: ast.AST) -> tuple[set[str], set[str]]:
    """(commands named directly, names referenced) inside ``node``."""
    found, names = set(), set()
    for sub in ast.walk(node):
        heads: list[str | None] = []  # the string that would be the command, per argument list
        seqs: list[list[str | None]] = []
        if isinstance(sub, ast.Call) and sub.args and not _is_mktemp(sub):
            values = [_const(e) for e in sub.args]
            heads.append(next((v for v in values if v is not None), None))  # main(["x"]) or cli(capsys, "x")
            seqs.append(values)
        if isinstance(sub, (ast.List, ast.Tuple)) and sub.elts:
            values = [_const(e) for e in sub.elts]
            heads.append(values[0])
            seqs.append(values)
        found.update(h for h in heads if h in COMMANDS)
        for values in seqs:  # [python, "-m", "suite", "run", ...]
            found.update(b for a, b in zip(values, values[1:], strict=False) if a == "suite" and b in COMMANDS)
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        if isinstance(sub, ast.arg):
            names.add(sub.arg)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "getfixturevalue":
            names.update(v for v in map(_const, sub.args) if v)
    return found, names


def read(tests: Path) -> tuple[dict[str, tuple[set, set]], dict[tuple[str, str], tuple[set, set]]]:
    """Per file, each top-level function or constant: (commands, names); shared names go to the global table."""
    shared: dict[str, tuple[set, set]] = {}
    local: dict[tuple[str, str], tuple[set, set]] = {}
    for path in sorted(tests.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            nodes = node.body if isinstance(node, ast.ClassDef) else [node]
            for n in nodes:
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    keys = [n.name]
                elif isinstance(n, (ast.Assign, ast.AnnAssign)):
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                    keys = [t.id for t in targets if isinstance(t, ast.Name)]
                else:
                    continue
                for key in keys:
                    entry = _direct(n)
                    local[(path.stem, key)] = entry
                    if path.stem in ("conftest", "run_fakes"):
                        shared.setdefault(key, entry)
    return shared, local


def commands_of(module: str, name: str, shared, local, seen=None) -> set[str]:
    seen = set() if seen is None else seen
    if (module, name) in seen:
        return set()
    seen.add((module, name))
    entry = local.get((module, name)) or shared.get(name)
    if entry is None:
        return set()
    found, names = entry
    out = set(found)
    for ref in names - {name}:
        if (module, ref) in local:
            out |= commands_of(module, ref, shared, local, seen)
        elif ref in shared:
            out |= commands_of("conftest", ref, shared, local, seen)
    return out


def main(argv: list[str]) -> int:
    tests = Path(argv[0] if argv else "tests").resolve()
    shared, local = read(tests)
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           str(tests)], capture_output=True, text=True, cwd=tests.parent)
    items = [line for line in proc.stdout.splitlines() if "::" in line]
    counts: Counter[str] = Counter()
    for item in items:
        path, func = item.split("::")[0], item.split("::")[-1].split("[")[0]
        for command in commands_of(Path(path).stem, func, shared, local):
            counts[command] += 1
    print(f"{len(items)} tests collected from {tests}")
    for command in COMMANDS:
        print(f"{command:13} {counts[command]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
