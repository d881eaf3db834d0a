"""Human-readable lines for stalls: ``path:row:col: message`` plus the source line."""
from __future__ import annotations

from typing import Iterable, List, Optional

from detector.display import display_path, printable

from .events import VERDICTS, Frame, StallEvent


def where(frame: Optional[Frame], cwd: Optional[str] = None) -> str:
    if frame is None:
        return "<no Python frame>"
    column = frame.column if frame.column is not None else 1
    return f"{display_path(frame.filename, cwd)}:{frame.row}:{column}"


def describe(stall: StallEvent, cwd: Optional[str] = None) -> List[str]:
    site = stall.site
    parts = [f"event loop stalled {stall.duration * 1000:.0f} ms ({VERDICTS.get(stall.verdict, stall.verdict)})"]
    if stall.task:
        parts.append(f"in task {stall.task!r}")
    if stall.loop_thread and stall.loop_thread != "MainThread":
        parts.append(f"on thread {stall.loop_thread!r}")
    lines = [f"{where(site, cwd)}: {' '.join(parts)}"]
    if site is not None and site.line.strip():
        lines.append(f"    {site.line.strip()}")
    inner = stall.innermost_frame
    if inner is not None and site is not None and inner != site:
        lines.append(f"    blocked in {inner.function} at {where(inner, cwd)}")
    fix = stall.coroutine_frame
    if fix is not None and fix != site:
        lines.append(f"    fix site: {fix.function} at {where(fix, cwd)}: {fix.line.strip()}")
    return [printable(line) for line in lines]  # frames of the watched program: escaped


def summarize(stalls: Iterable[StallEvent], threshold: float, cwd: Optional[str] = None) -> List[str]:
    stalls = list(stalls)
    limit = f"{threshold * 1000:g} ms"
    if not stalls:
        return [f"offload: no event-loop stall over {limit}"]
    longest = max(stall.duration for stall in stalls) * 1000
    noun = "stall" if len(stalls) == 1 else "stalls"
    lines = [f"offload: {len(stalls)} event-loop {noun} over {limit} (longest {longest:.0f} ms)"]
    for stall in stalls:
        lines.extend(describe(stall, cwd))
    return lines
