"""The shape of the package, checked on every run: imports flow one way and rooms stay small.

- no import cycles between modules of ``microblog/`` (counting imports inside functions too);
- no blueprint package imports another blueprint package (they share the floor: forms.py, web.py,
  exceptions.py, services);
- services, models and the search adapter never import a blueprint;
- a module past 400 lines says why at its top (a line "Size: ..." in its docstring).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "microblog"
BLUEPRINTS = ("admin", "api", "auth", "errors", "exports", "main", "messages", "notifications", "people",
              "reports")
MAX_LINES = 400
# Modules still to split (a ratchet: remove a name when its module is split; never add one).
NOT_YET_SPLIT = {"microblog.models"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (``from a import b`` names module a.b when it is one)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                candidates = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                              else node.module for alias in node.names]
            else:
                continue
            for candidate in candidates:
                while candidate and candidate not in modules:
                    candidate = candidate.rpartition(".")[0]
                if candidate and candidate != name and candidate != "microblog":
                    targets.add(candidate)
        graph[name] = targets
    return graph


MODULES = _modules()
GRAPH = _imports(MODULES)


def _blueprint(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in BLUEPRINTS else None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_checker_sees_the_package():
    assert "microblog.models" in MODULES and "microblog.services.posts" in GRAPH["microblog.main.routes"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_no_blueprint_imports_another():
    crossings = sorted(f"{source} -> {target}" for source, targets in GRAPH.items() for target in targets
                       if _blueprint(source) and _blueprint(target) not in (None, _blueprint(source)))
    assert crossings == []


@pytest.mark.parametrize("layer", ["microblog.services", "microblog.models", "microblog.search",
                                   "microblog.paging", "microblog.mail", "microblog.jobs"])
def test_lower_layers_never_import_a_blueprint(layer):
    upward = sorted(f"{source} -> {target}" for source, targets in GRAPH.items()
                    if source == layer or source.startswith(layer + ".")
                    for target in targets if _blueprint(target))
    assert upward == []


def test_large_modules_say_why():
    unexplained = []
    for name, path in sorted(MODULES.items()):
        text = path.read_text(encoding="utf-8")
        if name in NOT_YET_SPLIT:
            continue
        if text.count("\n") > MAX_LINES and "Size:" not in (ast.get_docstring(ast.parse(text)) or ""):
            unexplained.append(f"{name} ({text.count(chr(10))} lines)")
    assert unexplained == []
