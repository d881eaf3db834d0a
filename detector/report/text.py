"""``path:line:col: CODE message``, one finding a line; transitive chains (``->``) and related
calls (``+``, the reads of a file a ``with`` block opens) indented below."""
from __future__ import annotations

from collections import Counter
from typing import List, NamedTuple, Optional, Sequence

from detector.display import printable
from detector.model import Applicability, Finding


def render(findings: List[Finding], statuses: Optional[Sequence[str]] = None) -> str:
    """``statuses``, one per finding, go between its code and its message (``--runtime``)."""
    lines = []
    for index, f in enumerate(findings):
        # File names and the code quoted in messages come from the checked files: escaped.
        status = statuses[index] if statuses is not None else None
        lines.append(printable(f"{f.filename}:{f.location.row}:{f.location.column}: {f.code} {message(f, status)}"))
        for detail in details(f):
            lines.append(printable(f"    {detail.marker} {detail.where} {detail.what}"))
    return "\n".join(lines) + ("\n" if lines else "")


class Detail(NamedTuple):
    """A line shown under a finding: a hop of its chain (``->``) or a related call (``+``)."""

    marker: str
    where: str  # ``path:row:col:``
    what: str  # ``call() in function``


def details(finding: Finding) -> List[Detail]:
    out = [Detail("->", f"{hop.filename}:{hop.row}:{hop.column}:", f"{hop.shown} in {hop.function}")
           for hop in finding.chain[1:]]
    out.extend(Detail("+", f"{item.filename}:{item.row}:{item.column}:", f"{item.shown} in {finding.function}")
               for item in finding.related)
    return out


def message(finding: Finding, status: Optional[str] = None) -> str:
    """The message, and why no rewrite is offered when a fix was refused; after ``status: `` if given."""
    fix = finding.fix
    text = finding.message
    if fix is not None and fix.applicability is Applicability.SUGGESTION and fix.reason:
        text = f"{text} (no fix: {fix.reason})"
    return f"{status}: {text}" if status else text


def summary(findings: List[Finding], files: int, fixable: bool = True) -> str:
    """The last line of a check; ``fixable``: ``--fix`` can run on what was checked (not stdin)."""
    if not findings:
        return f"All checks passed ({files} file{'s' if files != 1 else ''} checked)."
    safe = sum(1 for f in findings if f.fix and f.fix.applicability is Applicability.SAFE)
    unsafe = sum(1 for f in findings if f.fix and f.fix.applicability is Applicability.UNSAFE)
    line = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} file{'s' if files != 1 else ''} checked."
    if fixable and (safe or unsafe):
        line += f" {safe} fixable with --fix"
        if unsafe:
            line += f" ({unsafe} more with --unsafe-fixes)"
        line += "."
    return line


def statistics(findings: List[Finding]) -> str:
    counts = Counter((f.code, f.name) for f in findings)
    rows = [printable(f"{count:6d}  {code}  {name}") for (code, name), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(rows) + ("\n" if rows else "")
