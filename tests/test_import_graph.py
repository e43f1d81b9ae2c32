"""No import cycle between the packages of `suite` and `zoo`, counting imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ("suite", "zoo")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _node(module: str, packages: set[str]) -> str:
    """The graph node of a module: its package below the top level (`suite.run`), or itself when it is a loose
    top-level module (`suite.analysis.stats`); `zoo` is one node."""
    parts = module.split(".")
    if parts[0] == "zoo":
        return "zoo"
    if len(parts) >= 2 and ".".join(parts[:2]) in packages:
        return ".".join(parts[:2])
    return ".".join(parts[:2]) if len(parts) >= 2 else parts[0]


def _imports(path: Path, module: str) -> set[str]:
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for item in ast.walk(tree):  # every level: module, class and function bodies
        if isinstance(item, ast.Import):
            found.update(alias.name for alias in item.names)
        elif isinstance(item, ast.ImportFrom):
            if item.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (item.level - 1)]
                target = ".".join(base + ([item.module] if item.module else []))
            else:
                target = item.module or ""
            found.add(target)
            # `from suite import data` imports the sub-package suite.data
            found.update(f"{target}.{alias.name}" for alias in item.names)
    return {name for name in found if name.split(".")[0] in TOP}


def package_graph() -> dict[str, set[str]]:
    files = [p for top in TOP for p in (ROOT / top).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    packages = {name for name, p in modules.items() if p.name == "__init__.py"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        source = _node(name, packages)
        edges = graph.setdefault(source, set())
        for target in _imports(path, name):
            while target not in modules and "." in target:  # `from suite.x import name` where name is no module
                target = target.rsplit(".", 1)[0]
            if target not in modules:
                continue
            node = _node(target, packages)
            if node != source and node not in ("suite",):
                edges.add(node)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_a_cycle(graph, set(c)) for c in components]


def _a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    start = min(component)
    paths = [[start]]
    while paths:  # breadth first: the shortest way back to the start
        path = paths.pop(0)
        for nxt in sorted(graph[path[-1]] & component):
            if nxt == start:
                return path + [start]
            if nxt not in path:
                paths.append(path + [nxt])
    return sorted(component)


def test_the_graph_sees_function_level_imports():
    graph = package_graph()
    assert "suite.run" in graph["suite.commands"]  # commands import lazily, inside their functions
    assert "suite.core" in graph["suite.tables"]
    assert graph["suite"] == set() and "suite.api" in graph  # a loose module is a node of its own


def test_a_cycle_is_found_and_printed():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_cycle_between_packages():
    cycles = find_cycles(package_graph())
    assert not cycles, "import cycles between packages:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_suite_keeps_few_loose_modules():
    loose = sorted(p.name for p in (ROOT / "suite").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(loose) <= 5, loose
