"""``# noqa`` comments and ``# offload: skip-file``.

flake8's syntax: ``# noqa`` silences every finding on the line, ``# noqa: BLK130,ASYNC230``
only those codes. A rule also honours its peers' codes (flake8-async / ruff ASYNCxxx), so a
line already silenced for those tools is not reported twice.

Only real comments count (tokenize's COMMENT tokens), never text inside a string or a
docstring, and their line numbers are Python's: lines end at ``\n``, ``\r\n`` or ``\r`` only
(a form feed, NEL or U+2028 is not a line break, whatever ``str.splitlines`` thinks).
"""
from __future__ import annotations

import functools
import io
import re
import tokenize
from typing import Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Tuple

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


def parse_noqa(text: str) -> NoqaMap:
    """Line number (1-based) -> codes silenced there, ``None`` for a blanket ``# noqa``."""
    found: NoqaMap = {}
    if "noqa" not in text.lower():
        return found
    for row, comment in comments(text):
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


def has_skip_file(text: str) -> bool:
    if "offload" not in text:
        return False
    return any(SKIP_FILE_RE.match(comment) for _, comment in comments(text))


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
