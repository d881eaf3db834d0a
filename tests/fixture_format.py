"""Reading the annotations of fixture files: ``time.sleep(1)  # BLK100`` expects BLK100 on that line."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Set, Tuple

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

ANNOTATION_RE = re.compile(r"#\s*(BLK\d{3}(?:\s*,\s*BLK\d{3})*)\s*$")


def expected(text: str) -> Set[Tuple[int, str]]:
    found = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = ANNOTATION_RE.search(line)
        if match:
            found.update((number, code.strip()) for code in match.group(1).split(","))
    return found


def as_noqa(text: str) -> str:
    """Every annotation turned into a ``# noqa`` for its codes: the file must then check clean."""
    return "\n".join(ANNOTATION_RE.sub(lambda m: f"# noqa: {m.group(1)}", line) for line in text.split("\n"))


def without_annotations(text: str) -> str:
    """The text with annotation comments removed (goldens annotate only what is left)."""
    return "\n".join(ANNOTATION_RE.sub("", line).rstrip() for line in text.split("\n"))
