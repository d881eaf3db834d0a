"""Large data literals are blanked before libcst parses a file.

libcst's native parser costs about 2 KB of memory per token (its token records and memo
tables), so a generated table of 500,000 numbers takes a gigabyte and minutes. A display
made only of constants (``[1, 2, ...]``, ``{"a": (1, 2), ...}``) holds no call, name or
attribute: nothing offload looks at. Its inside is replaced by spaces, newlines kept, so
libcst sees ``X = [       ]`` on the same lines and columns, and the tokens are never made.
CPython's tree (which ``screen`` already built and walked) says where such displays are.
"""
from __future__ import annotations

import ast
import re
from typing import Dict, List, Optional, Sequence, Tuple

# Displays with fewer constants are left alone: blanking them would save nothing.
MIN_CONSTANTS = 64

DISPLAYS = (ast.List, ast.Tuple, ast.Set, ast.Dict)
_BRACKETS: Dict[type, Tuple[str, str]] = {
    ast.List: ("[", "]"), ast.Tuple: ("(", ")"), ast.Set: ("{", "}"), ast.Dict: ("{", "}"),
}
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)


def blank_data(source: bytes, spans: Optional[Sequence[ast.expr]]) -> bytes:
    """``source`` with the inside of every large constant display (``spans``, from CPython's
    tree of it: ``astindex``) replaced by spaces."""
    if not spans or len(source) < MIN_CONSTANTS * 2 or source.startswith(b"\xef\xbb\xbf"):
        return source
    if _COOKIE.search(b"\n".join(source.split(b"\n", 2)[:2])):
        return source  # ast offsets are of the decoded text: only plain UTF-8 is mapped
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return source
    lines = _LINE.findall(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    chars = list(text)
    for node in spans:
        begin = _offset(lines, starts, node.lineno, node.col_offset)
        if node.end_lineno is None or node.end_col_offset is None:  # set on every node compile() makes
            continue
        end = _offset(lines, starts, node.end_lineno, node.end_col_offset)
        if begin is None or end is None or end - begin < 2:
            continue
        opening, closing = _BRACKETS[type(node)]
        if chars[begin] != opening or chars[end - 1] != closing:
            continue  # a tuple without parentheses: its extent is not bracketed
        for index in range(begin + 1, end - 1):
            if chars[index] not in "\r\n":
                chars[index] = " "
    return "".join(chars).encode("utf-8")


def _offset(lines: List[str], starts: List[int], row: int, byte_column: int) -> Optional[int]:
    """Character offset in the text of an ast position (1-based row, UTF-8 byte column)."""
    if not 0 < row <= len(lines):
        return None
    line = lines[row - 1]
    column = byte_column if line.isascii() else len(line.encode("utf-8")[:byte_column].decode("utf-8", "ignore"))
    return starts[row - 1] + column


def constants(display: ast.AST) -> Optional[int]:
    """How many constants the display holds, or None if it holds anything else."""
    count = 0
    stack: List[Tuple[ast.AST, ...]] = [(display,)]
    while stack:
        for node in stack.pop():
            if isinstance(node, ast.Constant):
                count += 1
            elif isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
                count += 1  # -1, +2.5
            elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                stack.append(tuple(node.elts))
            elif isinstance(node, ast.Dict):
                if any(key is None for key in node.keys):
                    return None  # ``{**other}``
                stack.append(tuple(node.keys) + tuple(node.values))  # type: ignore[arg-type]
            else:
                return None
    return count
