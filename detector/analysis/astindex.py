"""One walk over CPython's tree of a file, for the three things the analysis reads from it: the
depth libcst would nest to (``screen``), the large displays of constants blanked before libcst
parses (``literals``), and the nodes whose positions offload reports (``positions``). Walking
the tree once instead of once for each costs a third of the time.
"""
from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from typing import Deque, List, Tuple, Union

from detector.analysis import literals

Located = Union[ast.expr, ast.stmt]
_LOCATED = frozenset({ast.Call, ast.Attribute, ast.For, ast.Import, ast.ImportFrom})
_DISPLAYS = frozenset(literals.DISPLAYS)


@dataclass
class TreeIndex:
    depth: int  # the deepest nesting of the tree libcst would build for this module
    displays: List[ast.expr]  # displays of ``literals.MIN_CONSTANTS`` constants or more, none inside another
    located: List[Located]  # every Call, Attribute, For, Import, ImportFrom and ``with`` item Name, in ``ast.walk``'s order


def index(tree: ast.AST) -> TreeIndex:
    """The tree's ``TreeIndex``, breadth first as ``ast.walk`` goes (iterative)."""
    deepest = 0
    displays: List[ast.expr] = []
    located: List[Located] = []
    # (node, its depth, whether it is inside a display of constants)
    queue: Deque[Tuple[ast.AST, int, bool]] = deque([(tree, 1, False)])
    while queue:
        node, depth, data = queue.popleft()
        if depth > deepest:
            deepest = depth
        kind = type(node)
        if kind in _LOCATED:
            located.append(node)  # type: ignore[arg-type]  # one of the located kinds
        elif kind is ast.withitem and type(node.context_expr) is ast.Name:  # type: ignore[attr-defined]
            located.append(node.context_expr)  # type: ignore[attr-defined]  # where ``with name:`` enters it
        elif not data and kind in _DISPLAYS:
            constants = literals.constants(node)
            if constants is not None:
                data = True  # the displays inside it are part of it
                if constants >= literals.MIN_CONSTANTS:
                    displays.append(node)  # type: ignore[arg-type]  # a display is an expression
        below = depth + 1
        if kind is ast.BoolOp:
            below += len(node.values) - 2  # type: ignore[attr-defined]  # libcst: one BooleanOperation per operator
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                if value._fields:
                    queue.append((value, below, data))
                elif below > deepest:  # a leaf (``Load``, ``Add``): its depth is all it adds
                    deepest = below
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        if item._fields:
                            queue.append((item, below, data))
                        elif below > deepest:
                            deepest = below
    return TreeIndex(deepest, displays, located)
