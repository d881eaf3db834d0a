"""Strict-mode records: one per call site that made a blocking call on a loop thread.

A record is keyed by its site (the innermost user frame, else the innermost
library frame) and its fix site (the innermost coroutine frame); ``count`` is
how many audited events that site raised, ``events`` the count per event name
(``shutil.rmtree`` also raises ``os.scandir``, ``os.remove``... at one site).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from .events import Frame, frame_or_none


@dataclass
class StrictCall:
    event: str  # the first event the site raised
    family: str
    task: Optional[str]  # name of the task running when first seen (None for a plain callback)
    loop_thread: str
    loop: str
    pid: int
    user_frame: Optional[Frame]  # the line to fix (innermost user frame, else library frame)
    coroutine_frame: Optional[Frame]  # where `await asyncio.to_thread(...)` goes
    stack: List[Frame] = field(default_factory=list)  # the callback's frames, outermost first
    count: int = 1
    events: Dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{_position(self.user_frame)}|{_position(self.coroutine_frame)}"

    def to_dict(self) -> Dict[str, Any]:
        return {
            "event": self.event,
            "family": self.family,
            "count": self.count,
            "events": dict(self.events),
            "task": self.task,
            "loop_thread": self.loop_thread,
            "loop": self.loop,
            "pid": self.pid,
            "user_frame": self.user_frame.to_dict() if self.user_frame else None,
            "coroutine_frame": self.coroutine_frame.to_dict() if self.coroutine_frame else None,
            "stack": [frame.to_dict() for frame in self.stack],
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "StrictCall":
        events = data.get("events") or {}
        return cls(
            event=str(data["event"]),
            family=str(data.get("family", "")),
            task=data.get("task"),
            loop_thread=str(data.get("loop_thread", "")),
            loop=str(data.get("loop", "")),
            pid=int(data.get("pid", 0)),
            user_frame=frame_or_none(data.get("user_frame")),
            coroutine_frame=frame_or_none(data.get("coroutine_frame")),
            stack=[Frame.from_dict(item) for item in data.get("stack", [])],
            count=int(data.get("count", 1)),
            events={str(k): int(v) for k, v in events.items()},
        )


def _position(frame: Optional[Frame]) -> str:
    if frame is None:
        return "-"
    return f"{frame.filename}:{frame.row}:{frame.column}"


def merge(calls: Iterable[StrictCall]) -> List[StrictCall]:
    """One record per site across processes: counts and event counts added up."""
    merged: Dict[str, StrictCall] = {}
    for call in calls:
        seen = merged.get(call.key)
        if seen is None:
            merged[call.key] = StrictCall.from_dict(call.to_dict())
            continue
        seen.count += call.count
        for name, count in call.events.items():
            seen.events[name] = seen.events.get(name, 0) + count
    return sorted(merged.values(), key=lambda c: (c.user_frame.filename if c.user_frame else "",
                                                    c.user_frame.row if c.user_frame else 0))


def describe(call: StrictCall, cwd: Optional[str] = None) -> List[str]:
    # Imported here: watched processes load this module to write records, never to print them.
    from detector.display import printable

    from .summary import where

    times = "once" if call.count == 1 else f"{call.count} times"
    others = sorted(name for name in call.events if name != call.event)
    also = f" (also {', '.join(others)})" if others else ""
    parts = [f"{call.event}{also} on the event loop, {times}"]
    if call.task:
        parts.append(f"in task {call.task!r}")
    if call.loop_thread and call.loop_thread != "MainThread":
        parts.append(f"on thread {call.loop_thread!r}")
    site = call.user_frame
    lines = [f"{where(site, cwd)}: strict: {' '.join(parts)}"]
    if site is not None and site.line.strip():
        lines.append(f"    {site.line.strip()}")
    fix = call.coroutine_frame
    if fix is not None and fix != site:
        lines.append(f"    fix site: {fix.function} at {where(fix, cwd)}: {fix.line.strip()}")
    return [printable(line) for line in lines]  # frames of the watched program: escaped


def summarize(calls: Iterable[StrictCall], cwd: Optional[str] = None) -> List[str]:
    calls = list(calls)
    if not calls:
        return ["offload: strict: no blocking call on an event loop"]
    noun = "site" if len(calls) == 1 else "sites"
    lines = [f"offload: strict: blocking calls on the event loop at {len(calls)} {noun}"]
    for call in calls:
        lines.extend(describe(call, cwd))
    return lines


__all__ = ["StrictCall", "merge", "describe", "summarize"]
