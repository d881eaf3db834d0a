"""Source positions for the few libcst nodes offload reports, without libcst's PositionProvider.

PositionProvider regenerates the whole module's code (measured here: ~7x the parse time).
CPython's ``ast`` parses ~10x faster than libcst and carries positions. Call and Attribute
nodes (and the few statements offload reports: ``for``, ``import``) appear in both trees in the same source order, so the k-th one the collector visits is
the k-th one ``ast`` has, sorted by (start, -end). Every pair used is checked (same kind,
same attribute name); on any disagreement, or if ``ast`` cannot parse the file (newer syntax
than the running Python), the exact but slow PositionProvider is used instead.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Sequence, Tuple, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from detector.analysis.astindex import Located
from detector.analysis.names import identifier

Span = Tuple[int, int, int, int]  # start row, start column, end row, end column (1-based)


def _ast_nodes(located: Optional[Sequence[Located]]) -> Optional[List[Located]]:
    if located is None:
        return None
    return sorted(located, key=lambda n: (n.lineno, n.col_offset, -(n.end_lineno or 0), -(n.end_col_offset or 0)))


def _char_column(lines: Sequence[str], row: int, byte_offset: int) -> int:
    """ast columns count UTF-8 bytes; libcst and editors count characters."""
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    if line.isascii():
        return byte_offset + 1
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore")) + 1


def _agrees(node: cst.CSTNode, other: Union[ast.expr, ast.stmt]) -> bool:
    if isinstance(node, cst.Call):
        return isinstance(other, ast.Call)
    if isinstance(node, (cst.For, cst.Import, cst.ImportFrom)):
        return type(other).__name__ == type(node).__name__
    if isinstance(node, cst.Name):  # a ``with`` item
        return isinstance(other, ast.Name) and other.id == node.value
    return isinstance(other, ast.Attribute) and isinstance(node, cst.Attribute) and other.attr == identifier(node.attr)


def spans(
    located: Optional[Sequence[Located]],
    text: str,
    tree: cst.Module,
    ordered: Sequence[cst.CSTNode],
    wanted: Sequence[int],
) -> Dict[int, Span]:
    """Positions of ``ordered[i]`` for each i in ``wanted``; ``ordered`` is every Call and
    Attribute node in visiting order; ``located`` are the same kinds of nodes in CPython's tree
    of the same source (``astindex``), None when CPython cannot parse it."""
    nodes = _ast_nodes(located)
    if nodes is not None and len(nodes) == len(ordered):
        lines = text.splitlines()
        found: Dict[int, Span] = {}
        for index in wanted:
            other = nodes[index]
            end_row, end_col = other.end_lineno, other.end_col_offset  # compile() sets both
            if not _agrees(ordered[index], other) or end_row is None or end_col is None:
                break
            found[index] = (
                other.lineno,
                _char_column(lines, other.lineno, other.col_offset),
                end_row,
                _char_column(lines, end_row, end_col),
            )
        else:
            return found
    positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    result: Dict[int, Span] = {}
    for index in wanted:
        where = positions[ordered[index]]
        result[index] = (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)
    return result
