"""One look at a loop thread's stack, taken from the watchdog thread.

A sample keeps code objects and instruction offsets, never frame objects:
holding a frame would keep its locals alive and could run their finalizers
on the watchdog thread.
"""
from __future__ import annotations

from typing import Optional, Tuple

from .frames import LOOP, OFFLOAD, FileKinds

MAX_DEPTH = 200

# Code objects that run one loop callback: asyncio's Handle._run, and the
# run_forever wrappers (uvloop runs callbacks from C, right under them).
DISPATCHERS: set = set()
# The subset that calls the callback itself (asyncio's Handle._run): when it is the
# innermost frame, the loop is inside a callback written in C (e.g. time.sleep).
CALLBACK_RUNNERS: set = set()


class Sample:
    __slots__ = ("stack", "inside", "root", "task", "gil_wait")

    def __init__(self, stack, inside: int, root, task: Optional[str]) -> None:
        self.stack: Tuple[Tuple[object, int], ...] = stack  # (code, f_lasti), innermost first
        self.inside = inside  # how many innermost frames belong to the running callback
        self.root = root  # identity of the callback being run, None between callbacks
        self.task = task
        self.gil_wait = 0.0  # how late the watchdog woke up for this sample

    @property
    def location(self):
        """The innermost frame's (code, instruction) inside the callback."""
        return self.stack[0] if self.inside else None


def take(frame, kinds: FileKinds, task) -> Sample:
    """Walk ``frame`` outwards; find the callback the loop is running and its outermost frame."""
    stack = []
    ids = []
    inside = None
    f = frame
    while f is not None and len(stack) < MAX_DEPTH:
        code = f.f_code
        if inside is None and code in DISPATCHERS:
            inside = len(stack)
        stack.append((code, f.f_lasti))
        ids.append(id(f))
        f = f.f_back
    if inside is None:
        inside = 0  # not one of our loops' threads any more
    root = None
    for index in range(inside - 1, -1, -1):
        code = stack[index][0]
        if kinds.kind(code.co_filename) not in (LOOP, OFFLOAD):
            # The frame stays alive while its callback runs, so (code, id) names one call.
            root = (id(task) if task is not None else None, code, ids[index])
            break
    if root is None and inside == 0 and stack and stack[0][0] in CALLBACK_RUNNERS:
        root = (id(task) if task is not None else None, stack[0][0], ids[0])
        inside = 1
    name = None
    if task is not None:
        try:
            name = task.get_name()
        except Exception:
            name = None
    return Sample(tuple(stack), inside if root is not None else 0, root, name)
