"""Run one file's analysis on a thread with room for deep trees.

libcst's native parser recurses on the C stack, and the walks over its trees recurse in
Python: a valid file nested a few thousand levels deep (a 1,000-branch ``elif`` chain, a
long attribute chain) overflows an 8 MB main-thread stack or the default recursion limit of
1,000. ``screen`` bounds the depth of what gets here (``screen.MAX_DEPTH``); this thread's
stack and recursion limit are sized for that bound with a wide margin. The stack is
reserved address space: only the pages a deep file touches become memory.
"""
from __future__ import annotations

import sys
import threading
from typing import Callable, List, TypeVar

T = TypeVar("T")

STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 40_000

_lock = threading.Lock()  # the recursion limit is per interpreter: one deep call at a time
_state = threading.local()


def call(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` on a thread with a big stack and a high recursion limit."""
    if getattr(_state, "deep", False):  # already on such a thread
        return function(*args)
    result: List[T] = []
    error: List[BaseException] = []

    def run() -> None:
        _state.deep = True
        try:
            result.append(function(*args))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    with _lock:
        previous_limit = sys.getrecursionlimit()
        try:
            previous_size = threading.stack_size(STACK_BYTES)
        except (ValueError, RuntimeError):  # a platform without settable thread stacks
            return function(*args)
        try:
            thread = threading.Thread(target=run, name="offload-analysis", daemon=True)
            sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
            try:
                thread.start()
            except RuntimeError:  # cannot start a thread (resource limits): analyse here
                sys.setrecursionlimit(previous_limit)
                threading.stack_size(previous_size)
                return function(*args)
            finally:
                threading.stack_size(previous_size)
            thread.join()
        finally:
            sys.setrecursionlimit(previous_limit)
    if error:
        raise error[0]
    return result[0]
