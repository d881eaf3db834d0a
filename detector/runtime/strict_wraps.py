"""Wrappers for the blocking calls that raise no audit event (strict mode only).

``os.stat`` / ``os.lstat`` (and the ``os.path`` and ``pathlib`` calls built on
them), ``select.select``, waits on threading and queue objects, and
``time.sleep`` on Pythons whose ``time.sleep`` raises no audit event. Each
wrapper reports only when the call can wait (an unset event, an empty queue, a
future not done, a timeout other than 0) and otherwise costs one check.

Unlike audit events, a wrapper is only seen by code that looks the function up
after it is installed: ``from os import stat`` done before strict mode starts
keeps the original. ``offload watch --strict`` installs them at interpreter
start-up, before the program's imports; the pytest plugin at configuration.
"""
from __future__ import annotations

import sys
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple, Union

from . import loop_thread

if TYPE_CHECKING:
    import concurrent.futures
    import queue
    import threading

_installed: List[Tuple[object, str, object]] = []  # (owner, attribute, original)
_report: Optional[Callable[[str, FrameType], object]] = None


def _wrap(
    original: Callable[..., Any], event: str, can_block: Optional[Callable[..., bool]] = None
) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # The thread first, with one C call: most calls (executor threads, the test runner
        # between loop runs) stop there, before the argument checks and the frame lookup
        # (which raises an audit event of its own).
        report = _report
        if report is not None and loop_thread.running_loop() is not None:
            try:
                if can_block is None or can_block(*args, **kwargs):
                    report(event, sys._getframe(1))
            except Exception:
                pass
        return original(*args, **kwargs)

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]  # a function attribute, as functools.wraps sets
    wrapper.__name__ = getattr(original, "__name__", event)
    wrapper.__qualname__ = getattr(original, "__qualname__", event)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__offload_strict__ = True  # type: ignore[attr-defined]  # marks our wrappers for install()
    return wrapper


def _path_arg(path: object, *args: object, **kwargs: object) -> bool:
    return not isinstance(path, int)  # os.stat(fd) is fstat: no path lookup


def _select_timeout(rlist: object, wlist: object, xlist: object, timeout: Optional[float] = None) -> bool:
    return timeout is None or timeout > 0


def _sleep(secs: object = 0, *args: object) -> bool:
    return isinstance(secs, (int, float)) and secs > 0


# The state first: on the loop these mostly meet a set event, a done future (asyncio
# copying an executor's result), a finished thread.
def _event_wait(self: threading.Event, timeout: Optional[float] = None) -> bool:
    return not self.is_set() and (timeout is None or timeout > 0)


def _thread_join(self: threading.Thread, timeout: Optional[float] = None) -> bool:
    return self.is_alive() and (timeout is None or timeout > 0)


def _queue_get(self: queue.Queue[Any], block: bool = True, timeout: Optional[float] = None) -> bool:
    return bool(block) and (timeout is None or timeout > 0) and self.empty()


def _future_result(self: concurrent.futures.Future[Any], timeout: Optional[float] = None) -> bool:
    # Its state read without its lock (done() takes it: three times the cost of the rest):
    # a future that is done stays done, and one finishing meanwhile might have made us wait.
    state = getattr(self, "_state", None)
    pending = state in _PENDING if isinstance(state, str) else not self.done()
    return pending and (timeout is None or timeout > 0)


_PENDING = frozenset(("PENDING", "RUNNING"))  # concurrent.futures' states of a future not done


def _targets(sleep_audited: bool) -> List[Tuple[Union[ModuleType, type], str, str, Callable[..., bool], bool]]:
    """(owner, attribute, event, can_block, static) for every call to wrap on this Python."""
    import concurrent.futures
    import os
    import queue
    import select
    import threading
    import time

    targets: List[Tuple[Union[ModuleType, type], str, str, Callable[..., bool], bool]] = [
        (os, "stat", "os.stat", _path_arg, False),
        (os, "lstat", "os.lstat", _path_arg, False),
        (select, "select", "select.select", _select_timeout, False),
        (threading.Event, "wait", "threading.Event.wait", _event_wait, False),
        (threading.Thread, "join", "threading.Thread.join", _thread_join, False),
        (queue.Queue, "get", "queue.Queue.get", _queue_get, False),
        (concurrent.futures.Future, "result", "concurrent.futures.Future.result", _future_result, False),
    ]
    if not sleep_audited:
        targets.append((time, "sleep", "time.sleep", _sleep, False))
    # Python < 3.11: pathlib calls os.stat through an accessor that copied it at import.
    pathlib = sys.modules.get("pathlib")
    accessor = getattr(pathlib, "_NormalAccessor", None) if pathlib is not None else None
    if accessor is not None:
        for name, event in (("stat", "os.stat"), ("lstat", "os.lstat")):
            if name in vars(accessor):
                targets.append((accessor, name, event, _path_arg, True))
    return targets


def activate(report: Optional[Callable[[str, FrameType], object]]) -> None:
    """``report(event, frame)`` is called from the wrappers from now on, for calls made on a
    thread that runs an event loop; None: not at all."""
    global _report
    _report = report


def install(sleep_audited: bool) -> None:
    """Wrap the calls (idempotent); they report once ``activate`` names a reporter.

    ``sleep_audited``: this Python's ``time.sleep`` raises an audit event (no wrapper then)."""
    if _installed:
        return
    import pathlib  # imported now so that its accessor (Python < 3.11) is wrapped too

    del pathlib
    for owner, attribute, event, can_block, static in _targets(sleep_audited):
        original = owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
        if getattr(original, "__offload_strict__", False):
            continue
        function = original.__func__ if isinstance(original, staticmethod) else original
        wrapper = _wrap(function, event, can_block)
        try:
            setattr(owner, attribute, staticmethod(wrapper) if static else wrapper)
        except (TypeError, AttributeError):
            continue
        _installed.append((owner, attribute, original))


def installed() -> bool:
    return bool(_installed)


def uninstall() -> None:
    """Put the originals back."""
    while _installed:
        owner, attribute, original = _installed.pop()
        try:
            setattr(owner, attribute, original)
        except (TypeError, AttributeError):
            pass
