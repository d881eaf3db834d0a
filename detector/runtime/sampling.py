"""One look at a loop thread's stack, taken from the watchdog thread.

A sample keeps code objects and instruction offsets, never frame objects:
holding a frame would keep its locals alive and could run their finalizers
on the watchdog thread.
"""
from __future__ import annotations

import contextlib
import gc
import sys
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Set, Tuple

from .frames import LOOP, OFFLOAD, USER, FileKinds, is_async_code

if TYPE_CHECKING:
    import asyncio

Location = Tuple[CodeType, int]  # (code, f_lasti): an instruction, without keeping its frame alive
Root = Tuple[Optional[int], CodeType, int]  # (id of the task, code, id of the frame): one callback run

MAX_DEPTH = 200  # frames kept per sample, innermost first
WALK_LIMIT = 10_000  # frames looked at to find the callback's outermost frame

# Code objects that run one loop callback: asyncio's Handle._run, and the
# run_forever wrappers (uvloop runs callbacks from C, right under them).
DISPATCHERS: Set[CodeType] = set()
# The subset that calls the callback itself (asyncio's Handle._run): when it is the
# innermost frame, the loop is inside a callback written in C (e.g. time.sleep).
CALLBACK_RUNNERS: Set[CodeType] = set()


class Sample:
    __slots__ = ("stack", "inside", "root", "task", "gil_wait", "coroutine", "at", "cpu")

    def __init__(self, stack: Tuple[Location, ...], inside: int, root: Optional[Root], task: Optional[str]) -> None:
        self.stack = stack  # (code, f_lasti), innermost first
        self.inside = inside  # how many innermost frames belong to the running callback
        self.root = root  # identity of the callback being run, None between callbacks
        self.task = task
        self.gil_wait = 0.0  # how late the watchdog woke up for this sample
        self.coroutine: Optional[Location] = None  # (code, f_lasti) of the innermost coroutine in the callback
        # When it was taken (monotonic) and the loop thread's CPU time then (None where the
        # platform cannot read another thread's CPU clock): how long each callback of a
        # stall ran, and whether it was working or waiting meanwhile.
        self.at = 0.0
        self.cpu: Optional[float] = None

    @property
    def location(self) -> Optional[Location]:
        """The innermost frame's (code, instruction) inside the callback."""
        return self.stack[0] if self.inside else None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while another thread's frames are read.

    Reading them creates frame objects; a collection started by one of those allocations
    can run finalizers that let the GIL go, and the thread then returns from a frame whose
    object is being made: that object is left pointing at freed memory, and reading it
    crashes the process. Nothing else in a read lets the GIL go, so no other thread can
    change the collector's state in the meantime.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def current_frames() -> Dict[int, FrameType]:
    """``sys._current_frames()``, read with the collector paused."""
    with collector_paused():
        return sys._current_frames()


def take(frame: Optional[FrameType], kinds: FileKinds, task: Optional[asyncio.Task[Any]]) -> Sample:
    """Walk ``frame`` outwards; find the callback the loop is running and its outermost frame.

    The frames are read first and classified afterwards: classifying a file seen for the
    first time touches the file system, which lets other threads take the GIL, and a loop
    thread that runs on meanwhile changes the frames still to be read (a look right after a
    C call that held the GIL would then miss the call's line).
    """
    stack: List[Location] = []
    callback: List[Tuple[CodeType, int, int]] = []  # (code, f_lasti, id of the frame), innermost first
    inside: Optional[int] = None  # depth of the innermost dispatcher
    depth = 0
    f = frame
    with collector_paused():
        while f is not None and depth < WALK_LIMIT:
            code = f.f_code
            if inside is None:
                if code in DISPATCHERS:
                    inside = depth
                else:
                    callback.append((code, f.f_lasti, id(f)))
            elif depth >= MAX_DEPTH:
                break
            if depth < MAX_DEPTH:
                stack.append((code, f.f_lasti))
            depth += 1
            f = f.f_back
        f = None
    name = None
    if task is not None:
        try:
            name = task.get_name()
        except Exception:
            name = None
    if inside is None:  # not (or no longer) running one of our loops
        return Sample(tuple(stack), 0, None, name)
    root: Optional[Tuple[CodeType, int]] = None
    coroutine: Optional[Location] = None
    for code, lasti, ident in callback:
        kind = kinds.kind(code.co_filename)
        if kind in (LOOP, OFFLOAD):
            continue
        # Outermost so far. The frame stays alive while its callback runs, so (code, id) names one call.
        root = (code, ident)
        if coroutine is None and kind == USER and is_async_code(code):
            coroutine = (code, lasti)
    if root is None and inside == 0 and stack[0][0] in CALLBACK_RUNNERS:
        root = (stack[0][0], id(frame))
        inside = 1
    if root is None:
        return Sample(tuple(stack), 0, None, name)
    sample = Sample(tuple(stack), min(inside, len(stack)), (id(task) if task is not None else None,) + root, name)
    sample.coroutine = coroutine
    return sample
