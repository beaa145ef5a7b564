"""The package's shape, checked: no import circles, and the layout docs/architecture.md draws.

A circle between modules makes every module on it load (and break) with the others, and hides
which stage depends on which. The graph is read from the source, not by importing it: every
``import`` of the package itself, at module level or inside a function (a deferred import still
ties the two modules together), except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_tracebench"
NAME = PACKAGE.name


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def _targets(node: ast.Import | ast.ImportFrom, here: str, is_package: bool,
             modules: dict[str, Path]) -> set[str]:
    """The package's modules an import statement loads (a module, or the module holding a name)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parent = here.split(".") if is_package else here.split(".")[:-1]
            parent = parent[: len(parent) - node.level + 1]
            base = ".".join(parent + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                 for alias in node.names]
    out = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name.startswith(NAME) and name != NAME:
            out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in _imports(tree):
            edges |= _targets(node, name, path.name == "__init__.py", modules)
        edges.discard(name)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circle() -> None:
    found = circles(import_graph())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_circle_finder_finds_a_circle(tmp_path: Path) -> None:
    """The check itself: a two-module circle and a three-module one are found, a chain is not."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert circles(graph) == [["a", "b"], ["c", "d", "e"]]
    assert circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_reads_relative_absolute_and_deferred_imports() -> None:
    graph = import_graph()
    # cli imports the plugin manager at module level; the recorder's redaction import is absolute
    assert f"{NAME}.manager" in graph[f"{NAME}.cli"]
    assert f"{NAME}.record.redaction" in graph[f"{NAME}.record.recorder"]


ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


@pytest.mark.parametrize("folder", sorted(
    p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()))
def test_every_stage_is_drawn_in_the_architecture_page(folder: str) -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert f"`{folder}/`" in text, f"docs/architecture.md does not describe {folder}/"


def test_every_module_the_architecture_page_names_exists() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = {n for n in re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", text)
             if not n.startswith("tests/")}
    assert named, "the page names no module"
    missing = sorted(n for n in named if not any(
        p.relative_to(PACKAGE).as_posix().endswith(n) for p in PACKAGE.rglob("*.py")))
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


_DOC_IMPORT = re.compile(r"^\s*from (pytest_tracebench(?:\.\w+)*) import ([\w, ]+)$", re.M)


def test_every_import_the_docs_show_works() -> None:
    """A user copies ``from pytest_tracebench... import ...`` lines from the docs: each works."""
    docs = [PACKAGE.parent / "README.md", *sorted((PACKAGE.parent / "docs").glob("*.md"))]
    shown = {(m.group(1), name.strip()) for doc in docs
             for m in _DOC_IMPORT.finditer(doc.read_text(encoding="utf-8"))
             for name in m.group(2).split(",") if name.strip()}
    assert shown
    broken = []
    for module, name in sorted(shown):
        try:
            value = getattr(importlib.import_module(module), name, None)
            if value is None:
                importlib.import_module(f"{module}.{name}")
        except ImportError as exc:
            broken.append(f"from {module} import {name}: {exc}")
    assert not broken, broken


def _deferred_imports(path: Path) -> list[int]:
    """Line numbers of imports of the package inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (
                        node.level or (node.module or "").startswith(NAME)):
                    lines.append(node.lineno)
                elif isinstance(node, ast.Import) and any(
                        a.name.startswith(NAME) for a in node.names):
                    lines.append(node.lineno)
    return sorted(set(lines))


def test_the_package_imports_itself_inside_functions_only_where_it_says_why() -> None:
    """A deferred import hides a dependency; it is kept only for an optional dependency or a
    measured start-up cost, said in a ``# Deferred imports:`` comment of its module."""
    unexplained = [f"{path.relative_to(PACKAGE.parent)}:{line}"
                   for path in sorted(PACKAGE.rglob("*.py")) if (lines := _deferred_imports(path))
                   and "# Deferred imports:" not in path.read_text(encoding="utf-8")
                   for line in lines]
    assert not unexplained, unexplained


def test_the_deferred_import_check_sees_one(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(f"def f():\n    from {NAME}.models import Trace\n    return Trace\n")
    assert _deferred_imports(sample) == [2]
