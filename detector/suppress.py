"""``# noqa`` comments and ``# offload: skip-file``.

flake8's syntax: ``# noqa`` silences every finding on the line, ``# noqa: BLK130,ASYNC230``
only those codes. A rule also honours its peers' codes (flake8-async / ruff ASYNCxxx), so a
line already silenced for those tools is not reported twice.

Only real comments count (tokenize's COMMENT tokens), never text inside a string or a
docstring, and their line numbers are Python's: lines end at ``\n``, ``\r\n`` or ``\r`` only
(a form feed, NEL or U+2028 is not a line break, whatever ``str.splitlines`` thinks).
Tokenizing a whole module costs a quarter of its libcst parse: given CPython's tree of the
module, only the lines that mention the directive are read, their strings located in the tree.
"""
from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from typing import Dict, FrozenSet, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

NOQA_RE = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
SKIP_FILE_RE = re.compile(r"^#\s*offload:\s*skip-file\b")
CODE_SPLIT_RE = re.compile(r"[,\s]+")

NoqaMap = Dict[int, Optional[FrozenSet[str]]]


class Comment(NamedTuple):
    row: int  # 1-based, counted as Python counts lines
    text: str  # from the ``#`` to the end of the line


def comments(text: str) -> List[Comment]:
    """Every comment of a module's source, in order."""
    return list(_comments(text))


@functools.lru_cache(maxsize=4)  # parse_noqa and has_skip_file read the same text in turn
def _comments(text: str) -> Tuple[Comment, ...]:
    readline = io.StringIO(text, newline=None).readline  # universal newlines: Python's line breaks
    found = []
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT:
                found.append(Comment(token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError):
        # Source the tokenizer rejects although the parser accepted it: fall back to whatever
        # follows the first ``#`` of a line (rows still counted as Python counts them).
        found = [Comment(number, line[line.index("#"):].rstrip("\n"))
                 for number, line in enumerate(io.StringIO(text, newline=None), start=1) if "#" in line]
    return tuple(found)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _comments_mentioning(text: str, word: str, tree: Optional[ast.Module]) -> Sequence[Comment]:
    """The comments of ``text`` that may hold ``word`` (lower case): every comment, or with
    CPython's tree of the text, only those on lines that mention it (the same ones)."""
    if tree is None:
        return comments(text)
    lines = _LINE_BREAK.split(text)
    rows = [number for number, line in enumerate(lines, start=1) if word in line.lower()]
    found = _comments_on(lines, rows, tree)
    return comments(text) if found is None else found


def _comments_on(lines: List[str], rows: List[int], tree: ast.Module) -> Optional[List[Comment]]:
    """The comment on each of ``rows``: from the first ``#`` outside the strings on the line
    (strings located in ``tree``); None when a string spans several lines there."""
    found = []
    for row in rows:
        spans = []
        for node in _strings_touching(tree.body, row):
            if node.lineno != node.end_lineno:
                return None  # a docstring's line, or a comment between two parts of a string
            spans.append((node.col_offset, node.end_col_offset or 0))
        line = lines[row - 1].encode("utf-8")
        start = line.find(b"#")
        while start >= 0:
            inside = next((end for begin, end in spans if begin <= start < end), None)
            if inside is None:
                found.append(Comment(row, line[start:].decode("utf-8")))
                break
            start = line.find(b"#", inside)
    return found


def _strings_touching(statements: Sequence[ast.AST], row: int) -> Iterator[ast.expr]:
    """The string literals (outermost: an f-string whole) of the statements that cover ``row``."""
    for statement in statements:
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())]) \
            if hasattr(statement, "lineno") else None
        if first is not None and not first <= row <= (getattr(statement, "end_lineno", None) or first):
            continue
        for name in statement._fields:
            value = getattr(statement, name, None)
            if isinstance(value, list) and value and isinstance(value[0], (ast.stmt, ast.excepthandler)) \
                    or isinstance(value, list) and value and type(value[0]).__name__ == "match_case":
                yield from _strings_touching(value, row)
            elif isinstance(value, ast.AST):
                yield from _strings_in(value, row)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        yield from _strings_in(item, row)


def _strings_in(node: ast.AST, row: int) -> Iterator[ast.expr]:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            if node.lineno <= row <= (node.end_lineno or node.lineno):
                yield node
            continue
        stack.extend(ast.iter_child_nodes(node))


def parse_noqa(text: str, tree: Optional[ast.Module] = None) -> NoqaMap:
    """Line number (1-based) -> codes silenced there, ``None`` for a blanket ``# noqa``.
    ``tree``: CPython's tree of ``text``, when the caller has it (faster, same result)."""
    found: NoqaMap = {}
    if "noqa" not in text.lower():
        return found
    for row, comment in _comments_mentioning(text, "noqa", tree):
        codes: Optional[FrozenSet[str]] = frozenset()
        for match in NOQA_RE.finditer(comment):
            listed = match.group("codes")
            if not listed or codes is None:
                codes = None  # a blanket noqa covers everything on the line
                break
            codes |= {c.upper() for c in CODE_SPLIT_RE.split(listed.strip()) if c}
        if codes is None or codes:
            previous = found.get(row, frozenset())
            found[row] = None if codes is None or previous is None else previous | codes
    return found


def has_skip_file(text: str, tree: Optional[ast.Module] = None) -> bool:
    if "offload" not in text:
        return False
    return any(SKIP_FILE_RE.match(comment) for _, comment in _comments_mentioning(text, "offload", tree))


def is_suppressed(noqa: NoqaMap, rows: Iterable[int], codes: Iterable[str]) -> bool:
    """True when a noqa comment on any of ``rows`` covers one of ``codes``."""
    wanted = None
    for row in rows:
        if row not in noqa:
            continue
        listed = noqa[row]
        if listed is None:
            return True
        if wanted is None:
            wanted = frozenset(codes)
        if listed & wanted:
            return True
    return False
