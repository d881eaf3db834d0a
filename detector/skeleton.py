"""The part of a module its rewrites need, so libcst's metadata (positions, parents, scopes: several
times the parse) is computed for that part only.

Top-level functions and classes that hold no finding keep their decorators and signature, and
their body becomes ``pass`` padded with blank lines to the same number of lines: every kept node
has its original row and column, and the module-level names they bind are still bound. In a class
that holds a finding, the members that hold none are left out whole (blank lines in their place),
so one finding in a large class does not cost the metadata of all of it. A function with a ``global``
statement is kept whole (it binds module-level names). The text of the bodies left out is
returned too: a name it mentions is still in use (an import stays).
"""
from __future__ import annotations

import ast
from typing import Iterable, List, Optional, Sequence, Tuple

import libcst as cst

from detector.textedit import line_starts

_COMPOUND = 1  # a compound statement is one ast node; a simple line is one per small statement


def _lines(module: cst.Module, node: cst.CSTNode) -> int:
    code = module.code_for_node(node)
    starts = line_starts(code)
    return len(starts) - 1 if starts[-1] == len(code) else len(starts)


def _blank(module: cst.Module) -> cst.EmptyLine:
    return cst.EmptyLine(indent=False, newline=cst.Newline(module.default_newline))


def skeleton(module: cst.Module, source: bytes, rows: Iterable[int]) -> Tuple[cst.Module, str]:
    """``module`` with the bodies not containing any of ``rows`` left out, and their text.
    Returns ``module`` itself (and no text) when the file cannot be outlined safely."""
    wanted = sorted(set(rows))
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return module, ""
    lines = source.splitlines()
    hidden: List[str] = []
    try:
        body = _outline(module, module.body, tree.body, wanted, lines, hidden)
    except _Misaligned:
        return module, ""
    return module.with_changes(body=body), "\n".join(hidden)


def _outline(module: cst.Module, statements: Sequence[cst.BaseStatement], nodes: Sequence[ast.stmt],
             rows: List[int], lines: List[bytes], hidden: List[str]) -> List[cst.BaseStatement]:
    """``statements`` (whose ast twins are ``nodes``) with every body holding none of ``rows``
    stubbed and its text added to ``hidden``."""
    body: List[cst.BaseStatement] = []
    position = 0
    for statement in statements:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else _COMPOUND
        group, position = nodes[position:position + count], position + count
        if len(group) != count:
            raise _Misaligned
        stub = _stub(module, statement, group, rows)
        if stub is None:
            body.append(_inside(module, statement, group, rows, lines, hidden) or statement)
            continue
        body.append(stub)
        first, last = _span(group[0])
        hidden.append(b"\n".join(lines[first - 1:last]).decode("utf-8", "replace"))
    if position != len(nodes):
        raise _Misaligned
    return body


class _Misaligned(Exception):
    """libcst's and ast's statements do not pair up: the file is not outlined."""


def _inside(module: cst.Module, statement: cst.BaseStatement, group: Sequence[ast.stmt], rows: List[int],
            lines: List[bytes], hidden: List[str]) -> Optional[cst.BaseStatement]:
    """A kept class with the members that hold no finding left out (None: nothing to leave out).

    A name bound in a class body is not visible in its methods, so such a member is dropped
    whole, not stubbed: blank lines keep the rows of what follows."""
    if not isinstance(statement, cst.ClassDef) or not isinstance(statement.body, cst.IndentedBlock):
        return None
    node = group[0]
    if not isinstance(node, ast.ClassDef):
        return None
    body: List[cst.BaseStatement] = []
    inner: List[str] = []
    blank, position = 0, 0
    for member in statement.body.body:
        count = len(member.body) if isinstance(member, cst.SimpleStatementLine) else _COMPOUND
        twins, position = node.body[position:position + count], position + count
        if len(twins) != count:
            raise _Misaligned
        first, last = _span(twins[0])[0], _span(twins[-1])[1]
        if any(first <= row <= last for row in rows) or any(isinstance(n, ast.Global) for t in twins for n in ast.walk(t)):
            kept = _inside(module, member, twins, rows, lines, inner) or member
            if blank and isinstance(kept, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                kept = kept.with_changes(leading_lines=[_blank(module)] * blank + list(kept.leading_lines))
            elif blank:  # no other kind of statement exists
                raise _Misaligned
            body.append(kept)
            blank = 0
            continue
        blank += _lines(module, member)
        inner.append(b"\n".join(lines[first - 1:last]).decode("utf-8", "replace"))
    if position != len(node.body):
        raise _Misaligned
    if not inner or not body:
        return None
    hidden.extend(inner)
    block = statement.body
    return statement.with_changes(body=block.with_changes(body=body, footer=[_blank(module)] * blank + list(block.footer)))


def _span(node: ast.stmt) -> Tuple[int, int]:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first, node.end_lineno or node.lineno


def _stub(module: cst.Module, statement: cst.BaseStatement, group: Sequence[ast.stmt], rows: List[int]) -> Optional[cst.BaseStatement]:
    if not isinstance(statement, (cst.FunctionDef, cst.ClassDef)) or not isinstance(statement.body, cst.IndentedBlock):
        return None
    node = group[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    first, last = _span(node)
    if any(first <= row <= last for row in rows) or any(isinstance(n, ast.Global) for n in ast.walk(node)):
        return None
    block = statement.body
    bare = statement.with_changes(leading_lines=[], body=block.with_changes(
        body=[cst.SimpleStatementLine([cst.Pass()])], footer=[]))
    padding = (last - first + 1) - _lines(module, bare)
    if padding < 0:
        return None
    return statement.with_changes(body=block.with_changes(
        body=[cst.SimpleStatementLine([cst.Pass()])],
        footer=[_blank(module)] * padding + list(block.footer)))
