"""Strict mode: report every blocking call made on an event-loop thread, however fast.

The watchdog sees a call only when it takes longer than the threshold; an
``open()`` that takes 1 ms in CI and 2 s in production goes unseen. Strict mode
listens to Python's audit events (``sys.addaudithook``), raised inside the C
functions themselves, so ``from os import listdir`` or calls from C extensions
cannot avoid them. A call is reported when all of these hold:

* the event is in ``audit_events.AUDITED`` (or comes from a wrapped call,
  ``strict_wraps``), and its arguments say it can block (not ``open(fd)``,
  not ``connect`` on a non-blocking socket, not ``sleep(0)``);
* the thread is running an event loop (``asyncio._get_running_loop()``): the
  default executor, ``to_thread`` and plain threads cost one dict lookup;
* a loop callback or task step is running (asyncio's ``Handle._run`` or the
  ``run_forever`` wrapper is on the stack), and no import is in progress in it;
* the innermost frame that is not the standard library is the user's or a
  library's, not asyncio's, uvloop's or offload's (the loop's own machinery);
* it is not allowed by ``strict-allow`` (event names, ``module:function``
  anywhere in the callback, or path globs matched against the site's file).

Each site is described once (code objects and offsets are kept, frames never);
later calls at the site only add to its counts. A site is keyed on the source
position of its instructions, not their offsets, which specialisation can move. An audit hook cannot be
removed: once installed it stays, and returns at its first test while no
``StrictLog`` is attached.
"""
from __future__ import annotations

import fnmatch
import os
import sys
import threading
from types import CodeType, FrameType
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple

from . import hooks, loop_thread, strict_wraps
from .audit_events import AUDITED, FAMILIES
from .events import Frame
from .frames import LIBRARY, LOOP, OFFLOAD, STDLIB, USER, FileKinds, instruction_site, is_async_code, make_frame
from .strict_events import StrictCall

MAX_STACK = 50

_logs: Tuple["StrictLog", ...] = ()  # replaced, never mutated: read by the hook without a lock
_NOTHING: FrozenSet[str] = frozenset()
_LISTED: FrozenSet[str] = frozenset(AUDITED)
_listened: FrozenSet[str] = _NOTHING  # the events the hook looks at: _LISTED while a log is attached
_hook_installed = False
_kinds: Optional[FileKinds] = None
_described: Dict[Tuple[object, ...], Tuple[Frame, Optional[Frame], List[Frame]]] = {}  # site key -> (user, coroutine, stack) Frames
_sleep_audited = False  # set by the hook when a time.sleep audit event arrives
_loop_modules = 0  # how many of asyncio / uvloop _kinds knows about
_allow: "Allow"
_lock = threading.Lock()
_reporting = threading.local()  # .active: this thread is in report() (its own file and line lookups raise events)
_SYNC_WAITS = frozenset(name for name, family in FAMILIES.items() if family == "sync")


class Allow:
    """``strict-allow`` entries: event names, ``module:function`` sites, path globs."""

    def __init__(self, entries: Iterable[str] = (), root: Optional[str] = None) -> None:
        self.entries = tuple(entries)
        self.root = root or os.getcwd()
        self.events = set()
        self.functions = set()  # (module, qualified name)
        self.globs: List[str] = []
        for entry in self.entries:
            if entry in FAMILIES:
                self.events.add(entry)
            elif ":" in entry and "/" not in entry and "*" not in entry:
                module, _, function = entry.partition(":")
                self.functions.add((module, function))
            else:
                self.globs.append(entry)

    def function_allowed(self, frame: FrameType) -> bool:
        code = frame.f_code
        function = getattr(code, "co_qualname", code.co_name)
        module = frame.f_globals.get("__name__")
        if module == "__main__":  # a script or `python -m`: its own name, as the user knows it
            spec = frame.f_globals.get("__spec__")
            module = getattr(spec, "name", None) or os.path.splitext(os.path.basename(code.co_filename))[0]
        return (module, function) in self.functions

    def path_allowed(self, filename: str) -> bool:
        if not self.globs:
            return False
        candidates = [filename.replace(os.sep, "/")]
        try:
            relative = os.path.relpath(filename, self.root)
        except ValueError:
            relative = None
        if relative and not relative.startswith(os.pardir):
            candidates.append(relative.replace(os.sep, "/"))
        return any(fnmatch.fnmatchcase(c, glob) for c in candidates for glob in self.globs)


_allow = Allow()


class StrictLog:
    """Collects strict calls while attached; ``on_new(call)`` runs for each new site."""

    def __init__(self, on_new: Optional[Callable[[StrictCall], None]] = None) -> None:
        self.on_new = on_new
        self.calls: Dict[Tuple[object, ...], StrictCall] = {}
        self._lock = threading.Lock()

    def add(self, key: Tuple[object, ...], event: str, make: Callable[[], StrictCall]) -> None:
        with self._lock:
            call = self.calls.get(key)
            if call is not None:
                call.count += 1
                call.events[event] = call.events.get(event, 0) + 1
                return
            call = self.calls[key] = make()
        if self.on_new is not None:
            self.on_new(call)

    def list(self) -> List[StrictCall]:
        with self._lock:
            return list(self.calls.values())

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


# -- turning strict mode on and off -----------------------------------------------------------
def configure(allow: Iterable[str] = (), root: Optional[str] = None) -> None:
    global _allow
    _allow = Allow(allow, root)


def prepare() -> None:
    """Install the audit hook, the wrappers and the run_forever hooks (idempotent).

    Done early (interpreter start-up, pytest configuration) so that modules
    imported later see the wrapped functions."""
    global _hook_installed, _kinds
    if _hook_installed and _kinds is not None and hooks.installed() and strict_wraps.installed():
        return  # every test of a suite attaches a log: nothing to redo
    with _lock:
        if _kinds is None:
            _kinds = FileKinds()
        if not _hook_installed:
            sys.addaudithook(_hook)
            _hook_installed = True
            _probe_sleep()
        hooks.install()
        strict_wraps.install(sleep_audited=_sleep_audited)


def _probe_sleep() -> None:
    """Does this Python's time.sleep raise an audit event? (Newer ones do; the others get a wrapper.)"""
    global _logs, _listened
    import time

    probe = StrictLog()
    saved, _logs = _logs, _logs + (probe,)  # the hook returns at once while no log is attached
    saved_events, _listened = _listened, _LISTED
    try:
        time.sleep(0)  # sleep(0) is never reported, but the hook notes that the event exists
    finally:
        _logs, _listened = saved, saved_events


def attach(log: StrictLog) -> StrictLog:
    """Start reporting into ``log``."""
    global _logs, _listened
    prepare()
    with _lock:
        _logs = _logs + (log,)
        _listened = _LISTED
        strict_wraps.activate(report)
    return log


def detach(log: StrictLog) -> None:
    global _logs, _listened
    with _lock:
        _logs = tuple(entry for entry in _logs if entry is not log)
        if not _logs:
            _listened = _NOTHING  # the hook goes back to one test per event
            strict_wraps.activate(None)  # the wrappers go back to one test per call


def active() -> bool:
    return bool(_logs)


# -- the hook ---------------------------------------------------------------------------------
def _hook(event: str, args: Tuple[Any, ...]) -> None:
    # Called for every audit event of every thread (imports, compile, id(), getattr on
    # frames...), strict mode on or not: one set lookup for all but the listed ones,
    # then one C call for a listed event off the loop (offloaded work, plain threads).
    if event not in _listened:
        return
    if event == "time.sleep":  # before the thread test: the probe runs off any loop
        global _sleep_audited
        _sleep_audited = True
    if loop_thread.running_loop() is None:
        return
    try:
        if _can_block(event, args):
            report(event, sys._getframe(1))
    except Exception:  # an audit hook that raises aborts the audited call
        pass


def _can_block(event: str, args: Tuple[Any, ...]) -> bool:
    if event == "open":
        return bool(args) and not isinstance(args[0], int)  # open(fd) touches no file system
    if event == "socket.connect":
        try:
            timeout: Optional[float] = args[0].gettimeout()
            return timeout != 0.0  # non-blocking: asyncio's sock_connect, uvloop
        except Exception:
            return True
    if event == "time.sleep":
        return bool(args) and not (isinstance(args[0], (int, float)) and args[0] <= 0)
    return True


def _refresh_kinds() -> None:
    """Teach the file classifier where asyncio and uvloop live once they are imported."""
    global _loop_modules
    loaded = ("asyncio" in sys.modules) + ("uvloop" in sys.modules)
    if loaded != _loop_modules:
        _loop_modules = loaded
        assert _kinds is not None  # set by prepare(), before any log is attached
        _kinds.refresh_loop_packages()


def report(event: str, frame: FrameType) -> None:
    """Report ``event`` raised in ``frame`` (the caller of the blocking function) if it counts."""
    if not _logs or loop_thread.running_loop() is None or getattr(_reporting, "active", False):
        return  # off the loop, or raised by this function's own work (classifying a file, reading a line)
    _reporting.active = True
    try:
        _report(event, frame)
    finally:
        _reporting.active = False


def _report(event: str, frame: FrameType) -> None:
    kinds = _kinds
    assert kinds is not None  # set by prepare(), before any log is attached
    if _loop_modules < 2:
        _refresh_kinds()
    if event in _SYNC_WAITS and kinds.kind(frame.f_code.co_filename) == STDLIB:
        return  # a wait inside the standard library's own code (Thread.start waits for the thread)
    allow = _allow
    boundaries = loop_thread.boundaries
    callback: List[Tuple[CodeType, int, str]] = []  # (code, lasti, kind), innermost first, machinery left out
    site = None  # index into callback of the line to report
    first_kind = None
    f: Optional[FrameType] = frame
    while f is not None:
        code = f.f_code
        if code in boundaries:
            break
        filename = code.co_filename
        if filename.startswith("<frozen importlib"):
            return  # an import in progress: module-level code is not the loop's business
        kind = kinds.kind(filename)
        if first_kind is None and kind != STDLIB:
            if kind == LOOP or kind == OFFLOAD:
                return  # the loop's own machinery (or offload) made the call
            first_kind = kind
        if allow.functions and allow.function_allowed(f):
            return
        if kind != LOOP and kind != OFFLOAD:
            if site is None and kind == USER:
                site = len(callback)
            callback.append((code, f.f_lasti, kind))
        f = f.f_back
    else:
        return  # not inside a loop callback (before or between callbacks, or an unwatched loop)
    f = frame = None  # type: ignore[assignment]  # drop the frame references early
    if first_kind is None:
        return  # only the standard library in this callback
    if site is None:
        site = next(i for i, (_, _, kind) in enumerate(callback) if kind == LIBRARY)
    coroutine = next((i for i, (code, _, _) in enumerate(callback) if is_async_code(code)), None)
    if event in allow.events:
        return
    site_code, site_lasti, _ = callback[site]
    if allow.globs and allow.path_allowed(site_code.co_filename):
        return
    key = instruction_site(site_code, site_lasti) + (
        instruction_site(*callback[coroutine][:2]) if coroutine is not None else ())

    def make() -> StrictCall:
        return _describe(key, event, callback, site, coroutine)

    for log in _logs:
        log.add(key, event, make)


def _describe(
    key: Tuple[object, ...], event: str, callback: List[Tuple[CodeType, int, str]], site: int, coroutine: Optional[int]) -> StrictCall:
    described = _described.get(key)
    if described is None:
        frames = [make_frame(code, lasti, kind) for code, lasti, kind in callback[:MAX_STACK]]
        user = frames[site] if site < len(frames) else make_frame(*callback[site])
        fix = None
        if coroutine is not None:
            fix = frames[coroutine] if coroutine < len(frames) else make_frame(*callback[coroutine])
        described = _described[key] = (user, fix, frames[::-1])
    user, fix, stack = described
    loop = loop_thread.running_loop()
    task = None
    try:
        import asyncio

        current = asyncio.current_task(loop) if loop is not None else None
        task = current.get_name() if current is not None else None
    except Exception:
        task = None
    return StrictCall(
        event=event,
        family=FAMILIES.get(event, ""),
        task=task,
        loop_thread=threading.current_thread().name,
        loop=f"{type(loop).__module__}.{type(loop).__qualname__}" if loop is not None else "",
        pid=os.getpid(),
        user_frame=user,
        coroutine_frame=fix,
        stack=list(stack),
        count=1,
        events={event: 1},
    )
