"""``offload watch --dump-after S``: print the stack of a loop stuck for S seconds, while it is stuck."""
from __future__ import annotations

import sys
from typing import IO, List, Optional, Set

from .events import VERDICTS, StallEvent
from .sink import StallKey, stall_key


def stack_lines(stall: StallEvent) -> List[str]:
    """The stall's stack in the order of a Python traceback (most recent call last)."""
    lines: List[str] = []
    for frame in stall.stack:
        lines.append(f'  File "{frame.filename}", line {frame.row}, in {frame.function}')
        if frame.line.strip():
            lines.append(f"    {frame.line.strip()}")
    return lines


class StackDumper:
    """An ``ongoing`` listener: dumps each stuck loop once, as soon as it has been stuck long enough."""

    def __init__(self, after: float, stream: Optional[IO[str]] = None) -> None:
        self.after = after
        self.stream = stream
        self._done: Set[StallKey] = set()

    def __call__(self, stall: StallEvent) -> None:
        key = stall_key(stall)
        if stall.duration < self.after or key in self._done:
            return
        if len(self._done) > 10_000:
            self._done.clear()
        self._done.add(key)
        where = f"task {stall.task!r}" if stall.task else "a callback"
        head = (f"offload: event loop stuck for {stall.duration:.1f} s in {where} "
                f"(pid {stall.pid}, thread {stall.loop_thread!r}, "
                f"{VERDICTS.get(stall.verdict, stall.verdict)} so far)")
        body = stack_lines(stall) or ["  <no Python frame sampled>"]
        stream = self.stream or sys.stderr
        stream.write("\n".join([head, "Stack (most recent call last):"] + body) + "\n")
        stream.flush()
