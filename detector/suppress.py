"""``# noqa`` comments and ``# offload: skip-file``.

flake8's syntax: ``# noqa`` silences every finding on the line, ``# noqa: BLK130,ASYNC230``
only those codes. A rule also honours its peers' codes (flake8-async / ruff ASYNCxxx), so a
line already silenced for those tools is not reported twice.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterable, Optional

NOQA_RE = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
SKIP_FILE_RE = re.compile(r"^\s*#\s*offload:\s*skip-file\b", re.MULTILINE)
CODE_SPLIT_RE = re.compile(r"[,\s]+")

NoqaMap = Dict[int, Optional[FrozenSet[str]]]


def parse_noqa(text: str) -> NoqaMap:
    """Line number (1-based) -> codes silenced there, ``None`` for a blanket ``# noqa``."""
    found: NoqaMap = {}
    if "noqa" not in text and "NOQA" not in text.upper():
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        codes: Optional[FrozenSet[str]] = frozenset()
        for match in NOQA_RE.finditer(line):
            listed = match.group("codes")
            if not listed:
                codes = None  # a blanket noqa covers everything on the line
                break
            codes |= {c.upper() for c in CODE_SPLIT_RE.split(listed.strip()) if c}
        if codes is None or codes:
            found[number] = codes
    return found


def has_skip_file(text: str) -> bool:
    return "offload" in text and SKIP_FILE_RE.search(text) is not None


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
