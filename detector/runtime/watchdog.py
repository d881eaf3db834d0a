"""The watchdog thread: posts heartbeat probes, samples the stack of a loop that is late.

One thread per process serves every running loop (loops in several threads
included), for the life of the process. It starts when the first loop starts
running under the watchdog and parks (blocked on an event, no wake-ups) while
no loop runs. Starting and joining a thread for every ``run_forever`` would cost
more than a short ``asyncio.run`` itself (it runs the loop three times), and a
thread that lingers after the loop stops looks like a leak to the per-test
checks that compare ``threading.enumerate()`` before and after a test. So the
thread is a low-level ``_thread`` thread, outside threading's registry: it never
shows in ``threading.enumerate()`` (``Watchdog.thread_id`` names it). Between
stalls it wakes once per probe interval to post the next probe;
``sys._current_frames()`` is read only while a probe is overdue, or right after
the watchdog itself was kept from running (a C call holding the GIL), before
anything else.
"""
from __future__ import annotations

import _thread
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from . import hooks
from . import stall as _stall
from .events import StallEvent
from .frames import FileKinds
from .monitor import LoopMonitor
from .sampling import CALLBACK_RUNNERS, DISPATCHERS, Sample, current_frames, take

if TYPE_CHECKING:
    import asyncio
    from types import FrameType

_monotonic = time.monotonic
ONGOING_EVERY = 0.5  # longest gap between two updates of a stall still in progress
LOCK_WAIT = 0.5  # from a signal handler: give up rather than wait on a lock forever


class Subscription:
    def __init__(self, watchdog: "Watchdog", callback: Callable[[StallEvent], None], threshold: float,
                 ongoing: Optional[Callable[[StallEvent], None]] = None):
        self.watchdog = watchdog
        self.callback = callback
        self.threshold = threshold
        # Called with a StallEvent marked ``ongoing`` while a stall lasts (first when it
        # reaches the threshold, then at least every ONGOING_EVERY s): a process killed
        # mid-stall has reported it already.
        self.ongoing = ongoing

    def close(self) -> None:
        self.watchdog.unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
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
        self._thread_id: Optional[int] = None
        # Released to wake the thread up: a bare lock, so that the thread runs no Python
        # code between waking up and looking at the loop threads.
        self._wake = _thread.allocate_lock()
        self._wake.acquire()
        # Held by the watchdog thread from waking up until its round is done. A loop that
        # stops meanwhile waits for it: a late look (a C call that held the GIL just ended)
        # classifies files, which lets the GIL go, before it posts the probe that measures
        # the stall; a loop stopping in that gap would take the stall with it.
        self._round = _thread.allocate_lock()

    # -- subscribers ---------------------------------------------------------------
    def subscribe(self, callback: Callable[[StallEvent], None], threshold: float = 0.1,
                  ongoing: Optional[Callable[[StallEvent], None]] = None) -> Subscription:
        if not threshold > 0:
            raise ValueError("threshold must be a positive number of seconds")
        subscription = Subscription(self, callback, threshold, ongoing)
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
    def start(self, loop: asyncio.AbstractEventLoop) -> Optional[LoopMonitor]:
        threshold = self.threshold
        if threshold is None or loop.is_running() or loop.is_closed():
            return None
        monitor = LoopMonitor(loop, threshold)
        with self._lock:
            if self._thread_id is None:
                try:
                    # Not waited for: the probe posted by the monitor covers the start-up.
                    self._thread_id = _thread.start_new_thread(self._run, ())
                except RuntimeError:  # e.g. a loop run while the interpreter shuts down
                    monitor.active = False
                    monitor.clocks.close()
                    return None
            self._monitors = self._monitors + [monitor]
        self._wake_up()
        return monitor

    def _wake_up(self) -> None:
        try:
            self._wake.release()
        except RuntimeError:  # already released: the thread will wake up anyway
            pass

    @property
    def _least_threshold(self) -> float:
        monitors = self._monitors
        return min((m.threshold for m in monitors), default=0.1)

    def stop(self, monitor: LoopMonitor) -> None:
        if self._round.acquire(True, LOCK_WAIT):
            self._round.release()
        monitor.stop()
        for message in monitor.errors:
            self._error(f"heartbeat: {message}")
        with self._lock:
            self._monitors = [m for m in self._monitors if m is not monitor]
        monitor.loop = None
        self._finish(monitor)

    def flush(self) -> None:
        """Report every stall that has ended so far, now, on the calling thread."""
        for monitor in self._monitors:
            # Always through the lock: the watchdog thread may be describing a stall it
            # took from ``finished`` a moment ago; this returns once it is emitted.
            self._finish(monitor)

    def report_ongoing(self) -> None:
        """Report the stalls in progress now (at exit, on a terminating signal), on the calling thread."""
        self.flush()
        now = _monotonic()
        for monitor in self._monitors:
            due = monitor.due
            if monitor.active and monitor.outstanding and now - due >= monitor.threshold:
                self._ongoing(monitor, due)

    @property
    def thread_id(self) -> Optional[int]:
        """The watchdog thread's ident (it is not in ``threading.enumerate()``), None before the first loop."""
        return self._thread_id

    # -- the watchdog thread ----------------------------------------------------------
    def _run(self) -> None:
        self.kinds.refresh_loop_packages()
        gil_wait = 0.0
        target = _monotonic()
        wake = self._wake
        round_ = self._round  # held except while waiting to be woken up
        round_.acquire()
        looks: Optional[Dict[LoopMonitor, Sample]] = None
        while True:
            try:
                monitors = self._monitors
                if not monitors:
                    looks = None
                    round_.release()
                    wake.acquire()  # parked until a loop starts
                    round_.acquire()
                    gil_wait, target = 0.0, _monotonic()
                    self.kinds.refresh_loop_packages()
                    continue
                next_look = self._check(monitors, gil_wait, target, looks)
                looks = None
                before = _monotonic()
                half = self._least_threshold / 2
                delay = max(0.001, next_look - before)
                round_.release()
                woken = wake.acquire(True, delay)
                round_.acquire()
                # Waking up late means something kept the GIL (or the CPU) from us. If a C
                # call on a loop thread held the GIL, that thread is just past the call now,
                # waiting for the GIL we hold: look at once, before anything lets it go.
                gil_wait = 0.0 if woken else max(0.0, _monotonic() - before - delay)
                target = before + delay
                if gil_wait >= half:
                    looks = self._look(monitors, gil_wait)
            except Exception as exc:  # the program must go on even if the watchdog cannot
                looks = None
                self._error(f"watchdog: {exc!r}")
                time.sleep(0.1)

    def _look(self, monitors: List[LoopMonitor], gil_wait: float) -> Dict[LoopMonitor, Sample]:
        """A sample of every loop thread, now (nothing in it lets the GIL go)."""
        frames = current_frames()
        looks: Dict[LoopMonitor, Sample] = {}
        for monitor in monitors:
            sample = self._sample(monitor, frames, gil_wait)
            if sample is not None:
                looks[monitor] = sample
        return looks

    def _check(self, monitors: List[LoopMonitor], gil_wait: float, target: float,
               looks: Optional[Dict[LoopMonitor, Sample]] = None) -> float:
        """Probe, sample or report each loop as due; return when to look again.

        ``looks``: samples taken the moment the watchdog ran again after being kept from it
        for ``gil_wait`` seconds (``target``: when it meant to run), before anything that
        lets the GIL go (describing and reporting stalls reads source files and writes
        reports), so that no loop thread ran on in the middle.
        """
        # Ended stalls first: posting the next probe (or sampling under it) replaces the
        # samples of the one that ended.
        for monitor in monitors:
            if monitor.finished:
                self._finish(monitor)
        now = _monotonic()
        wake = now + 0.1
        frames: Optional[Dict[int, FrameType]] = None
        in_progress: List[Tuple[LoopMonitor, float]] = []
        for monitor in monitors:
            if not monitor.active:
                continue
            due = monitor.due
            late = gil_wait >= monitor.threshold / 2
            look = looks.get(monitor) if looks is not None and late else None
            if not monitor.outstanding:
                post_at = monitor.answered + monitor.interval
                if now < post_at:
                    wake = min(wake, post_at)
                    continue
                # Kept from running (GIL held elsewhere)? Then the probe was due when we
                # meant to post it: the loop was no more able to run than we were. The look
                # taken then says where a C call that held the GIL on the loop thread was made.
                intended = max(post_at, target) if late else now
                monitor.post(intended, look)
                wake = min(wake, now + monitor.interval)
                continue
            if now - due <= monitor.interval:
                wake = min(wake, due + monitor.interval)
                continue
            wake = min(wake, now + monitor.sample_every)
            sample = look
            if sample is None:
                if frames is None:
                    frames = current_frames()
                sample = self._sample(monitor, frames, gil_wait)
            if sample is not None:
                monitor.add_sample(sample, due)
            if now - due >= monitor.threshold and now - due >= monitor.ongoing_next(due):
                in_progress.append((monitor, due))
        frames = None  # frames hold their locals: let go at once
        for monitor, due in in_progress:
            self._ongoing(monitor, due)
        return wake

    def _sample(self, monitor: LoopMonitor, frames: Dict[int, FrameType], gil_wait: float) -> Optional[Sample]:
        frame = frames.get(monitor.thread_id)
        if frame is None:
            return None
        try:
            sample = take(frame, self.kinds, _current_task(monitor.loop))
            sample.gil_wait = gil_wait
            sample.at = _monotonic()
            sample.cpu = monitor.clocks.thread_cpu()
            return sample
        except Exception as exc:
            self._error(f"sampling failed: {exc!r}")
            return None

    def _ongoing(self, monitor: LoopMonitor, due: float) -> None:
        subscriptions = [s for s in self._subscriptions if s.ongoing is not None]
        overdue = _monotonic() - due
        monitor.schedule_ongoing(due, overdue + min(ONGOING_EVERY, max(monitor.interval, overdue / 2)))
        if not subscriptions or not monitor.lock.acquire(timeout=LOCK_WAIT):
            return
        try:
            samples = list(monitor.samples) if monitor.sample_due == due else []
            event = _stall.build(monitor, due, monitor.last, monitor.clocks.peek(), samples, self.kinds,
                                 ongoing=True)
        except Exception as exc:
            self._error(f"could not describe a stall in progress: {exc!r}")
            return
        finally:
            monitor.lock.release()
        for subscription in subscriptions:
            ongoing = subscription.ongoing
            if ongoing is not None and event.duration >= subscription.threshold:
                try:
                    ongoing(event)
                except Exception as exc:
                    self._error(f"stall listener failed: {exc!r}")

    def _finish(self, monitor: LoopMonitor) -> None:
        # Built and emitted under the lock: once flush() returns, every stall that had
        # ended is with the subscribers, whichever thread took it.
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


def _current_task(loop: Optional[asyncio.AbstractEventLoop]) -> Optional[asyncio.Task[Any]]:
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
