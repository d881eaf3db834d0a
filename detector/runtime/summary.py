"""Human-readable lines for stalls: ``path:row:col: message`` plus the source line.

``offload watch`` prints one entry per site (the line a stall points at), with
how many times, how long in total and at most, the longest stall's details,
and the pids when several processes stalled there; the sites with the most
stall time first, at most MAX_SITES_SHOWN of them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Union

from detector.display import display_path, printable

from .events import VERDICTS, Culprit, Frame, StallEvent
from .tally import Site, Tally

if TYPE_CHECKING:
    from .sink import Merged

MAX_SITES_SHOWN = 20


def where(frame: Optional[Frame], cwd: Optional[str] = None) -> str:
    if frame is None:
        return "<no Python frame>"
    column = frame.column if frame.column is not None else 1
    return f"{display_path(frame.filename, cwd)}:{frame.row}:{column}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _context(stall: StallEvent) -> List[str]:
    parts = []
    if stall.task:
        parts.append(f"in task {stall.task!r}")
    if stall.loop_thread and stall.loop_thread != "MainThread":
        parts.append(f"on thread {stall.loop_thread!r}")
    return parts


def _details(stall: StallEvent, cwd: Optional[str]) -> List[str]:
    """The lines under the head: source, where it blocked, fix site, other culprits."""
    site = stall.site
    lines = []
    if site is not None and site.line.strip():
        lines.append(f"    {site.line.strip()}")
    inner = stall.innermost_frame
    if inner is not None and site is not None and inner != site:
        lines.append(f"    blocked in {inner.function} at {where(inner, cwd)}")
    fix = stall.coroutine_frame
    if fix is not None and fix != site:
        lines.append(f"    fix site: {fix.function} at {where(fix, cwd)}: {fix.line.strip()}")
    if stall.culprits:
        lines.append(f"    {len(stall.culprits)} callbacks ran back to back:")
    for culprit in stall.culprits:
        lines.extend(_culprit(culprit, cwd))
    return lines


def _culprit(culprit: Culprit, cwd: Optional[str]) -> List[str]:
    """One callback of a stall that several made: its line, part of the time, verdict, task."""
    if culprit.duration is not None:
        parts = [f"about {_ms(culprit.duration)} ({culprit.share:.0%} of the samples)"]
    else:
        parts = [f"{culprit.share:.0%} of the samples"]
    if culprit.verdict:
        parts.append(f"({VERDICTS.get(culprit.verdict, culprit.verdict)})")
    if culprit.task:
        parts.append(f"in task {culprit.task!r}")
    lines = [f"    - {where(culprit.frame, cwd)}: {' '.join(parts)}"]
    if culprit.frame is not None and culprit.frame.line.strip():
        lines.append(f"        {culprit.frame.line.strip()}")
    fix = culprit.coroutine_frame
    if fix is not None and fix != culprit.frame:
        lines.append(f"        fix site: {fix.function} at {where(fix, cwd)}: {fix.line.strip()}")
    return lines


def describe(stall: StallEvent, cwd: Optional[str] = None) -> List[str]:
    verdict = VERDICTS.get(stall.verdict, stall.verdict)
    if stall.ongoing:
        head = f"event loop stalled {_ms(stall.duration)} so far ({verdict}), still stalled at exit"
    else:
        head = f"event loop stalled {_ms(stall.duration)} ({verdict})"
    lines = [f"{where(stall.site, cwd)}: {' '.join([head] + _context(stall))}"] + _details(stall, cwd)
    return [printable(line) for line in lines]  # frames of the watched program: escaped


def describe_site(site: Site, cwd: Optional[str] = None) -> List[str]:
    examples = site.examples
    if site.count == 1 and examples:
        lines = describe(examples[0], cwd)
        if len(site.pids) > 1:
            lines[0] += f" (pid {examples[0].pid})"
        return lines
    longest = examples[0] if examples else None
    head = f"event loop stalled {site.count} times, {_ms(site.total)} in total, longest {_ms(site.longest)}"
    parts = [head]
    if longest is not None:
        parts[0] += f" ({VERDICTS.get(longest.verdict, longest.verdict)})"
        parts += _context(longest)
    if site.ongoing:
        parts.append(f"({site.ongoing} still stalled at exit)")
    if len(site.pids) > 1:
        parts.append(f"in pids {', '.join(map(str, site.pids))}{', ...' if site.more_pids else ''}")
    lines = [f"{where(site.frame, cwd)}: {' '.join(parts)}"]
    lines += _details(longest, cwd) if longest is not None else []
    return [printable(line) for line in lines]  # frames of the watched program: escaped


def summarize(stalls: Union[Tally, Iterable[StallEvent]], threshold: float, cwd: Optional[str] = None) -> List[str]:
    """Lines for a Tally (or any iterable of stalls), grouped by site."""
    tally = stalls if isinstance(stalls, Tally) else Tally.of(stalls)
    limit = f"{threshold * 1000:g} ms"
    count = tally.count
    if not count:
        return [f"offload: no event-loop stall over {limit}"]
    sites = tally.sites()
    noun = "stall" if count == 1 else "stalls"
    at = f" at {len(sites)} sites" if len(sites) > 1 else ""
    lines = [f"offload: {count} event-loop {noun} over {limit}{at} (longest {_ms(tally.longest)})"]
    for site in sites[:MAX_SITES_SHOWN]:
        lines.extend(describe_site(site, cwd))
    hidden = len(sites) - MAX_SITES_SHOWN
    if hidden > 0:
        lines.append(f"... and {hidden} more site{'s' if hidden != 1 else ''} (see the report)")
    if tally.other.count:
        lines.append(f"... and {tally.other.count} stalls at further sites, counted but not described")
    return lines


def make_watch_report(merged: Merged, *, command: List[str], threshold: float, exit_code: int) -> Dict[str, Any]:
    from .events import make_report

    tally = merged.tally
    sites = [site.to_dict() for site in tally.sites()]
    if tally.other.count:
        sites.append(dict(tally.other.to_dict(), frame=None, other=True))
    return make_report(
        tally.examples(),
        command=command,
        threshold=threshold,
        exit_code=exit_code,
        processes=merged.processes,
        sites=sites,
        stall_count=tally.count,
    )
