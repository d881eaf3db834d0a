"""The text format for people: colour, and the offending line with a caret under the reported range.

Without colour and source this is exactly ``text.render``. With ``show_source``::

    app/api.py:14:9: BLK110 blocking call `requests.get()` in async function `fetch`; ...
       |
    14 |     r = requests.get(url)
       |         ^^^^^^^^^^^^^^^^^

Carets follow the characters (a tab above stays a tab below); a finding spanning several
lines is underlined to the end of its first line. Whether colour is used is decided by the
caller (``--color``, ``NO_COLOR``, a terminal); see ``use_color``.
"""
from __future__ import annotations

import io
import os
import re
import tokenize
from typing import IO, Dict, List, Mapping, Optional, Sequence

from detector import files
from detector.display import printable
from detector.model import Finding
from detector.report import text

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
CYAN = "\x1b[36m"
BLUE = "\x1b[34m"

_NEWLINE = re.compile(r"\r\n|\r|\n")


def use_color(choice: str, stream: IO[str], environ: Optional[Mapping[str, str]] = None) -> bool:
    """``always``/``never`` win; ``auto`` means a terminal and no non-empty ``NO_COLOR`` (no-color.org)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class SourceLines:
    """Lines of the reported files, read once each; missing or undecodable files show no source."""

    def __init__(self, sources: Optional[Mapping[str, bytes]] = None) -> None:
        self._given = dict(sources or {})
        self._lines: Dict[str, Optional[List[str]]] = {}

    def line(self, filename: str, row: int) -> Optional[str]:
        if filename not in self._lines:
            data = self._given.get(filename)
            if data is None:
                try:
                    data = files.read_file(filename).data
                except files.UnreadableFile:
                    data = None
            self._lines[filename] = None if data is None else _NEWLINE.split(decode_source(data))
        lines = self._lines[filename]
        if lines is None or not 1 <= row <= len(lines):
            return None
        return lines[row - 1]


def decode_source(data: bytes) -> str:
    """A module's text as Python reads it: BOM or PEP 263 cookie, else UTF-8; bad bytes replaced."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):  # an unknown or inconsistent cookie
        return data.decode("utf-8-sig", errors="replace")


def _paint(value: str, style: str, color: bool) -> str:
    return f"{style}{value}{RESET}" if color and value else value


def caret_line(source: str, column: int, end_column: Optional[int]) -> str:
    """Spaces (tabs where the source has tabs) up to ``column``, then carets to ``end_column`` (exclusive).

    Columns count characters of ``source``; the line is shown through ``printable``, so an
    escaped character takes as many columns here as its escape there.
    """
    start = max(column, 1) - 1
    start = min(start, len(source))
    end = len(source.rstrip()) if end_column is None else min(end_column - 1, len(source))
    end = max(end, start + 1)
    pad = "".join("\t" if ch == "\t" else " " * len(printable(ch)) for ch in source[:start])
    return pad + "^" * max(len(printable(source[start:end], keep_tabs=True)), 1)


def _snippet(finding: Finding, lines: SourceLines, color: bool) -> List[str]:
    row = finding.location.row
    source = lines.line(finding.filename, row)
    if source is None:
        return []
    same_line = finding.end_location.row == row
    carets = caret_line(source, finding.location.column, finding.end_location.column if same_line else None)
    number = str(row)
    gutter = " " * len(number) + " |"
    return [
        _paint(gutter, BLUE, color),
        _paint(f"{number} |", BLUE, color) + " " + printable(source, keep_tabs=True),
        _paint(gutter, BLUE, color) + " " + _paint(carets, RED + BOLD, color),
    ]


def render(
    findings: List[Finding],
    color: bool = False,
    show_source: bool = False,
    sources: Optional[Mapping[str, bytes]] = None,
    statuses: Optional[Sequence[str]] = None,
) -> str:
    """``statuses``: as for ``text.render``."""
    if not color and not show_source:
        return text.render(findings, statuses)
    lines_of = SourceLines(sources) if show_source else None
    out: List[str] = []
    for index, f in enumerate(findings):
        status = statuses[index] if statuses is not None else None
        position = f":{f.location.row}:{f.location.column}:"
        out.append(
            _paint(printable(f.filename), BOLD, color) + _paint(position, CYAN, color) + " "
            + _paint(printable(f.code), RED + BOLD, color) + " " + printable(text.message(f, status))
        )
        for detail in text.details(f):
            out.append(_paint(f"    {detail.marker} ", DIM, color) + _paint(printable(detail.where), CYAN, color)
                       + printable(f" {detail.what}"))
        if lines_of is not None:
            snippet = _snippet(f, lines_of, color)
            if snippet:
                out.extend(snippet)
                out.append("")
    return "\n".join(out) + ("\n" if out else "")
