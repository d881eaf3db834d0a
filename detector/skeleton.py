"""The part of a module its rewrites need, cut from the text before libcst parses it: the parse
and libcst's metadata (positions, parents, scopes: several times the parse) cost that part only.

Top-level functions and classes that hold no finding keep their decorators and signature, and
their body becomes ``pass`` followed by blank lines: every kept line keeps its row and column, and
the module-level names they bind are still bound. In a class that holds a finding, the members
that hold none are left out whole (blank lines in their place), so one finding in a large class
does not cost the parse and metadata of all of it. A function with a ``global`` statement is kept
whole (it binds module-level names). The text of what is left out is returned too: a name it
mentions is still in use (an import stays).

CPython's ``ast`` says where statements are; only whole lines are replaced, and a line shared by a
kept and a left-out statement keeps both.
"""
from __future__ import annotations

import ast
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_INDENT = b" \t\x0c"


class Outline(NamedTuple):
    source: bytes  # the file with the parts left out blanked, line for line
    hidden: str  # the text of the parts left out


def skeleton(source: bytes, rows: Iterable[int]) -> Optional[Outline]:
    """``source`` with the bodies not containing any of ``rows`` left out; None when the file
    cannot be outlined (it does not parse for CPython, or is not UTF-8 text)."""
    try:
        source.decode("utf-8")
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = source.splitlines(keepends=True)
    cut = _Cut(lines, sorted(set(rows)))
    for node in tree.body:
        if not isinstance(node, _DEFINITIONS):
            continue
        if cut.holds(node) or cut.kept_whole(node):
            if isinstance(node, ast.ClassDef):
                cut.inside(node)
        else:
            cut.stub(node)
    if not cut.replaced:
        return Outline(source, "")
    text = b"".join(cut.replaced.get(index, line) for index, line in enumerate(lines))
    return Outline(text, "\n".join(cut.hidden))


class _Cut:
    def __init__(self, lines: List[bytes], rows: List[int]) -> None:
        self.lines = lines
        self.rows = rows
        self.replaced: Dict[int, bytes] = {}  # 0-based line -> its replacement
        self.hidden: List[str] = []

    def holds(self, node: ast.stmt) -> bool:
        first, last = _span(node)
        return any(first <= row <= last for row in self.rows)

    def kept_whole(self, node: ast.stmt) -> bool:
        return any(isinstance(inner, ast.Global) for inner in ast.walk(node))

    def stub(self, node: ast.stmt) -> None:
        """A definition's body becomes ``pass`` and blank lines (its signature stays)."""
        body: Sequence[ast.stmt] = getattr(node, "body")
        first, last = _span(body[0])[0], _span(node)[1]
        if not self._own_lines(body[0]):
            return  # ``def f(): return 1``: the body shares the signature's line
        line = self.lines[first - 1]
        indent = line[: len(line) - len(line.lstrip(_INDENT))]
        self._blank(first, last)
        self.replaced[first - 1] = indent + b"pass" + _ending(line)

    def inside(self, node: ast.ClassDef) -> None:
        """A kept class: the members that hold no finding are left out whole."""
        kept: Set[int] = set()
        left_out: List[ast.stmt] = []
        for member in node.body:
            needed = self.holds(member) or self.kept_whole(member)
            if needed or not self._own_lines(member):
                first, last = _span(member)
                kept.update(range(first, last + 1))
                if needed and isinstance(member, ast.ClassDef):
                    self.inside(member)
            else:
                left_out.append(member)
        dropped = [m for m in left_out if not kept.intersection(range(_span(m)[0], _span(m)[1] + 1))]
        if not kept or not dropped:
            return  # a class body cannot be empty
        for member in dropped:
            self._blank(*_span(member))

    def _own_lines(self, node: ast.stmt) -> bool:
        """The statement starts its line (nothing but indentation before it)."""
        first = _span(node)[0]
        if first != node.lineno:  # decorated: the decorator starts the line
            return self.lines[first - 1].lstrip(_INDENT).startswith(b"@")
        line = self.lines[first - 1]
        return len(line) - len(line.lstrip(_INDENT)) == node.col_offset

    def _blank(self, first: int, last: int) -> None:
        self.hidden.append(b"".join(self.lines[first - 1:last]).decode("utf-8", "replace"))
        for index in range(first - 1, last):
            self.replaced[index] = _ending(self.lines[index])


def _span(node: ast.stmt) -> Tuple[int, int]:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first, node.end_lineno or node.lineno


def _ending(line: bytes) -> bytes:
    stripped = line.rstrip(b"\r\n")
    return line[len(stripped):]
