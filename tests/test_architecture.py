"""The shape of the package, checked on every run: imports flow one way and rooms stay small.

- no import cycles between modules of ``microblog/`` (counting imports inside functions too, and
  imports under ``if TYPE_CHECKING:`` except between sibling modules of ``TYPING_SIBLINGS``);
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
              "reports", "mastodon")
MAX_LINES = 400
# Modules still to split (a ratchet: remove a name when its module is split; never add one).
NOT_YET_SPLIT: set[str] = set()
# Packages whose modules may import each other under ``if TYPE_CHECKING:`` without that counting as a
# cycle: models in different modules name each other at both ends of a relationship. Such an import
# never runs; anywhere else (another package, or an import that runs) it still counts.
TYPING_SIBLINGS = {"microblog.models"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _typing_only(tree: ast.AST) -> set[ast.AST]:
    """The import statements inside ``if TYPE_CHECKING:`` blocks (not in their ``else``)."""
    return {node for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
            for statement in block.body for node in ast.walk(statement)
            if isinstance(node, (ast.Import, ast.ImportFrom))}


def _imports(modules: dict[str, Path]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Module -> the package's modules it imports (``from a import b`` names module a.b when it is one),
    as two graphs: imports that run, and imports only under ``if TYPE_CHECKING:``."""
    running: dict[str, set[str]] = {}
    typing_only: dict[str, set[str]] = {}
    for name, path in modules.items():
        running[name], typing_only[name] = set(), set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for_typing = _typing_only(tree)
        for node in ast.walk(tree):
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
                    (typing_only if node in for_typing else running)[name].add(candidate)
    # An import that also runs elsewhere in the module is not typing-only.
    return running, {name: targets - running[name] for name, targets in typing_only.items()}


def _cycle_graph(running: dict[str, set[str]], typing_only: dict[str, set[str]],
                 siblings_allowed: set[str] = TYPING_SIBLINGS) -> dict[str, set[str]]:
    """The imports a cycle is looked for in: all of them but the typing-only ones between two
    modules of one package in ``siblings_allowed``."""
    def package(module: str) -> str:
        return module.rpartition(".")[0]

    graph = {name: set(targets) for name, targets in running.items()}
    for name, targets in typing_only.items():
        for target in targets:
            if not (package(name) == package(target) and package(name) in siblings_allowed):
                graph.setdefault(name, set()).add(target)
    return graph


MODULES = _modules()
RUNNING, TYPING_ONLY = _imports(MODULES)
# Every import, typing-only ones included: the layering tests count them all.
GRAPH = {name: RUNNING[name] | TYPING_ONLY[name] for name in MODULES}


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
    assert "microblog.models.users" in TYPING_ONLY["microblog.models.posts"]
    assert "microblog.models.posts" in RUNNING["microblog.models.users"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_typing_only_imports_are_told_apart(tmp_path):
    (tmp_path / "a.py").write_text(
        "import typing\nfrom typing import TYPE_CHECKING\n\nimport pkg.c\n\n"
        "if TYPE_CHECKING:\n    from pkg.b import B\nelse:\n    import pkg.d\n"
        "if typing.TYPE_CHECKING:\n    import pkg.e\n", encoding="utf-8")
    for other in "bcde":
        (tmp_path / f"{other}.py").write_text("", encoding="utf-8")
    modules = {f"pkg.{name}": tmp_path / f"{name}.py" for name in "abcde"}
    running, typing_only = _imports(modules)
    assert running["pkg.a"] == {"pkg.c", "pkg.d"} and typing_only["pkg.a"] == {"pkg.b", "pkg.e"}


def test_typing_only_imports_close_no_cycle_only_between_allowed_siblings():
    running = {"m.users": {"m.posts"}, "m.posts": set(), "s.x": {"m.users"}, "s.y": {"s.z"}, "s.z": set()}
    typing_only = {"m.posts": {"m.users"}, "m.users": {"s.x"}, "s.z": {"s.y"}}
    graph = _cycle_graph(running, typing_only, siblings_allowed={"m"})
    # Siblings in "m": ignored. From "m" to another package, or siblings in a package not allowed: counted.
    assert sorted(_cycles(graph)) == [["m.users", "s.x"], ["s.y", "s.z"]]
    # The same sibling import, made at run time: a cycle.
    running["m.posts"] = {"m.users"}
    assert _cycles(_cycle_graph(running, {}, siblings_allowed={"m"})) == [["m.posts", "m.users"]]


def test_no_import_cycles():
    assert _cycles(_cycle_graph(RUNNING, TYPING_ONLY)) == []


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
