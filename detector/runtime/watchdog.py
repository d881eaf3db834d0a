"""The watchdog thread: posts heartbeat probes, samples the stack of a loop that is late.

One daemon thread per process serves every running loop (loops in several
threads included). It starts when a loop starts running under the watchdog and
is told to exit when the last such loop stops. Between stalls it wakes once per
probe interval to post the next probe; ``sys._current_frames()`` is read only
while a probe is overdue.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable, List, Optional

from . import hooks
from . import stall as _stall
from .events import StallEvent
from .frames import FileKinds
from .monitor import LoopMonitor
from .sampling import CALLBACK_RUNNERS, DISPATCHERS, take

_monotonic = time.monotonic


class Subscription:
    def __init__(self, watchdog: "Watchdog", callback: Callable[[StallEvent], None], threshold: float):
        self.watchdog = watchdog
        self.callback = callback
        self.threshold = threshold

    def close(self) -> None:
        self.watchdog.unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Watchdog:
    def __init__(self) -> None:
        import asyncio.events

        DISPATCHERS.add(asyncio.events.Handle._run.__code__)
        CALLBACK_RUNNERS.add(asyncio.events.Handle._run.__code__)
        DISPATCHERS.add(hooks.WRAPPER_CODE)
        self._subscriptions: List[Subscription] = []
        self._reset()
        self.kinds = FileKinds()
        self.errors: List[str] = []
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # Also runs in a forked child: the parent's thread and loops do not exist there;
        # its subscriptions do (the file sink reopens a file of its own).
        self._lock = threading.Lock()
        self._monitors: List[LoopMonitor] = []  # replaced, never mutated: read without the lock
        self._thread: Optional[threading.Thread] = None
        self._stop: Optional[threading.Event] = None

    # -- subscribers ---------------------------------------------------------------
    def subscribe(self, callback: Callable[[StallEvent], None], threshold: float = 0.1) -> Subscription:
        if not threshold > 0:
            raise ValueError("threshold must be a positive number of seconds")
        subscription = Subscription(self, callback, threshold)
        with self._lock:
            self._subscriptions = self._subscriptions + [subscription]
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]

    @property
    def threshold(self) -> Optional[float]:
        subscriptions = self._subscriptions
        return min(s.threshold for s in subscriptions) if subscriptions else None

    # -- loops (called on the loop thread by the run_forever wrapper) ---------------
    def start(self, loop) -> Optional[LoopMonitor]:
        threshold = self.threshold
        if threshold is None or loop.is_running() or loop.is_closed():
            return None
        monitor = LoopMonitor(loop, threshold)
        with self._lock:
            self._monitors = self._monitors + [monitor]
            if self._thread is None:
                stop = threading.Event()
                thread = threading.Thread(target=self._run, args=(stop,), name="offload-watchdog", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # e.g. a loop run while the interpreter shuts down
                    self._monitors = [m for m in self._monitors if m is not monitor]
                    monitor.active = False
                    return None
                self._thread, self._stop = thread, stop
        return monitor

    def stop(self, monitor: LoopMonitor) -> None:
        monitor.stop()
        for message in monitor.errors:
            self._error(f"heartbeat: {message}")
        with self._lock:
            self._monitors = [m for m in self._monitors if m is not monitor]
            if not self._monitors and self._thread is not None:
                self._stop.set()
                self._thread = None
                self._stop = None
        monitor.loop = None
        self._finish(monitor)

    def flush(self) -> None:
        """Report every stall that has ended so far, now, on the calling thread."""
        for monitor in self._monitors:
            if monitor.finished:
                self._finish(monitor)

    @property
    def thread(self) -> Optional[threading.Thread]:
        return self._thread

    # -- the watchdog thread ----------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        self.kinds.refresh_loop_packages()
        gil_wait = 0.0
        target = _monotonic()
        try:
            while not stop.is_set():
                monitors = self._monitors
                if not monitors:
                    stop.wait(0.05)
                    continue
                wake = self._check(monitors, gil_wait, target)
                before = _monotonic()
                delay = max(0.001, wake - before)
                stop.wait(delay)
                target = before + delay
                # Waking up late means something kept the GIL (or the CPU) from us.
                gil_wait = max(0.0, _monotonic() - target)
        except Exception as exc:  # the program must go on even if the watchdog cannot
            self._error(f"watchdog thread stopped: {exc!r}")

    def _check(self, monitors: List[LoopMonitor], gil_wait: float, target: float) -> float:
        """Probe, sample or report each loop as due; return when to look again."""
        now = _monotonic()
        wake = now + 0.1
        frames = None
        for monitor in monitors:
            if monitor.finished:
                self._finish(monitor)
            if not monitor.active:
                continue
            due = monitor.due
            if not monitor.outstanding:
                post_at = monitor.answered + monitor.interval
                if now < post_at:
                    wake = min(wake, post_at)
                    continue
                # Kept from running (GIL held elsewhere)? Then the probe was due when we
                # meant to post it: the loop was no more able to run than we were.
                intended = max(post_at, target) if gil_wait >= monitor.threshold / 2 else now
                monitor.post(intended)
                wake = min(wake, now + monitor.interval)
                continue
            if now - due <= monitor.interval:
                wake = min(wake, due + monitor.interval)
                continue
            wake = min(wake, now + monitor.sample_every)
            if frames is None:
                frames = sys._current_frames()
            frame = frames.get(monitor.thread_id)
            if frame is None:
                continue
            try:
                sample = take(frame, self.kinds, _current_task(monitor.loop))
                sample.gil_wait = gil_wait
                monitor.add_sample(sample, due)
            except Exception as exc:
                self._error(f"sampling failed: {exc!r}")
            frame = None
        frames = None  # frames hold their locals: let go at once
        return wake

    def _finish(self, monitor: LoopMonitor) -> None:
        with monitor.lock:
            for due, before, end, samples in monitor.take_finished():
                try:
                    event = _stall.build(monitor, due, before, end, samples, self.kinds)
                except Exception as exc:
                    self._error(f"could not describe a stall: {exc!r}")
                    continue
                self._emit(event)

    def _emit(self, event: StallEvent) -> None:
        for subscription in self._subscriptions:
            if event.duration >= subscription.threshold:
                try:
                    subscription.callback(event)
                except Exception as exc:
                    self._error(f"stall listener failed: {exc!r}")

    def _error(self, message: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(message)
        if os.environ.get("OFFLOAD_DEBUG"):
            print(f"offload: {message}", file=sys.stderr)


def _current_task(loop):
    if loop is None:
        return None
    try:
        import asyncio

        return asyncio.current_task(loop)
    except Exception:
        return None


_watchdog: Optional[Watchdog] = None
_create_lock = threading.Lock()


def get_watchdog() -> Watchdog:
    global _watchdog
    if _watchdog is None:
        with _create_lock:
            if _watchdog is None:
                _watchdog = Watchdog()
    return _watchdog
