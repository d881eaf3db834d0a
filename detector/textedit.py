"""Text edits on a module's decoded source: offsets, rows and columns, and composing the edits
of several fixes into one.

Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only (as the tokenizer splits them); a form feed or
U+2028 is part of a line. Columns count characters, 1-based, as findings' do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

from detector.model import Edit, Location


@dataclass(frozen=True)
class TextEdit:
    """Replace ``text[start:end]`` with ``content``. Insertions at the same offset are applied in
    ``rank`` order (an enclosing call's opening text before the call it encloses)."""

    start: int
    end: int
    content: str
    rank: int = 0

    @property
    def key(self) -> Tuple[int, int, str, int]:
        """Edits with one key are one edit (two fixes adding the same import). The rank is part
        of it: ``open(p).read()`` fixed twice opens ``(await asyncio.to_thread(`` twice at one
        offset, once for each call, told apart by their sizes."""
        return (self.start, self.end, self.content, self.rank)


def line_starts(text: str) -> List[int]:
    starts = [0]
    i, size = 0, len(text)
    while i < size:
        ch = text[i]
        if ch == "\n" or ch == "\r":
            if ch == "\r" and i + 1 < size and text[i + 1] == "\n":
                i += 1
            starts.append(i + 1)
        i += 1
    return starts


def location_of(starts: Sequence[int], offset: int) -> Location:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return Location(lo + 1, offset - starts[lo] + 1)


def to_edit(starts: Sequence[int], edit: TextEdit) -> Edit:
    return Edit(location_of(starts, edit.start), location_of(starts, edit.end), edit.content)


def _order(edit: TextEdit) -> Tuple[int, bool, int, str]:
    return (edit.start, edit.end != edit.start, edit.rank, edit.content)


def _overlap(a: TextEdit, b: TextEdit) -> bool:
    if a.key == b.key:
        return False  # the same edit twice (two fixes adding the same import): applied once
    if a.start == a.end and b.start == b.end:
        return False  # two insertions at one place: both apply, in rank order
    return a.start < b.end and b.start < a.end or (a.start == a.end and b.start < a.start < b.end) \
        or (b.start == b.end and a.start < b.start < a.end)


def compatible(accepted: Sequence[TextEdit], group: Iterable[TextEdit]) -> bool:
    """Whether ``group`` can be applied together with ``accepted`` (no overlapping replacement)."""
    return not any(_overlap(a, b) for b in group for a in accepted)


def apply(text: str, edits: Iterable[TextEdit]) -> str:
    """``text`` with non-overlapping ``edits`` applied (duplicates once)."""
    unique = {edit.key: edit for edit in edits}
    out: List[str] = []
    position = 0
    for edit in sorted(unique.values(), key=_order):
        out.append(text[position:edit.start])
        out.append(edit.content)
        position = max(position, edit.end)
    out.append(text[position:])
    return "".join(out)
