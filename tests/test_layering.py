"""Imports inside ``detector`` point one way, read statically from the source (function-level
imports included, imports for type checking only left out): no module imports itself back through others, report modules never reach
the fixer, and no module uses another module's private names."""
from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import detector

PACKAGE = Path(detector.__file__).resolve().parent
# The modules that rewrite source: a report formats findings and never runs them.
FIXER = {"detector.fix", "detector.rewrite", "detector.imports", "detector.skeleton"}


def _modules() -> Dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("detector",) + path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


@functools.lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    """The module's syntax tree, parsed once for all the tests (read, never changed)."""
    return ast.parse(path.read_bytes())


def _imports(name: str, path: Path) -> Iterator[Tuple[str, str, str]]:
    """(module, name taken from it or "", the local name bound) for every import in the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = _tree(path)
    # Imports for type annotations only are never run: they do not count.
    typing_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                   for statement in node.body for inner in ast.walk(statement)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "", alias.asname or alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                yield base, alias.name, alias.asname or alias.name


@functools.lru_cache(maxsize=None)
def _graph() -> Dict[str, Set[str]]:
    graph: Dict[str, Set[str]] = {}
    for name, path in MODULES.items():
        edges = set()
        for module, taken, _ in _imports(name, path):
            target = f"{module}.{taken}" if f"{module}.{taken}" in MODULES else module
            if target in MODULES and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
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


def _reachable(graph: Dict[str, Set[str]], start: str) -> Set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_imports():
    assert "detector.analysis.module" in _graph()["detector.workers"]  # imported inside _analyse


def test_no_import_cycle_in_detector():
    assert cycles(_graph()) == []


def test_report_modules_never_reach_the_fixer():
    graph = _graph()
    reports = [name for name in graph if name == "detector.report" or name.startswith("detector.report.")]
    assert "detector.report.sarif" in reports
    for name in reports:
        assert not _reachable(graph, name) & FIXER, name


def test_no_module_uses_another_modules_private_names():
    offences = []
    for name, path in MODULES.items():
        modules = {}  # local name -> the detector module it is bound to
        for module, taken, local in _imports(name, path):
            if not module.startswith("detector"):
                continue
            if taken.startswith("_") and not taken.startswith("__"):
                offences.append(f"{name}: from {module} import {taken}")
            full = f"{module}.{taken}" if taken else module
            if full in MODULES and (taken or local == full):
                modules[local] = full
        for node in ast.walk(_tree(path)):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and modules.get(node.value.id, name) != name):
                offences.append(f"{name}: {node.value.id}.{node.attr}")
    assert offences == []
