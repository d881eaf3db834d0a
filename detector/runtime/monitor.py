"""The per-loop half of the watchdog: a heartbeat probe that runs on the loop itself.

The watchdog thread posts a probe with ``call_soon_threadsafe`` every
``interval``; the probe notes when it ran and the loop thread's CPU time. A
probe that runs ``threshold`` or more after it was due means the loop could not
run it for that long: a stall. Probes come from outside rather than from a
``call_later`` chain because a pending timer costs asyncio's ``_run_once`` a
little on every iteration, which adds up on loops that iterate a lot.

The probe only does arithmetic and appends to a deque; everything else happens
on the watchdog thread. It never raises: an exception escaping a loop callback
is logged by asyncio at best and can stop the program.
"""
from __future__ import annotations

import collections
import contextvars
import os
import random
import threading
import time
from typing import TYPE_CHECKING, Callable, Deque, List, NamedTuple, Optional, Tuple

from .sampling import Sample

if TYPE_CHECKING:
    import asyncio

class Reading(NamedTuple):
    """The loop thread's clocks at one moment."""

    at: float  # monotonic
    cpu: Optional[float]  # its CPU time
    runnable: Optional[float]  # its CPU plus run-queue time (schedstat)
    slices: Optional[int] = None  # how many times the OS has run it (schedstat)

_monotonic = time.monotonic
_NEVER = float("inf")


def _cpu_clock() -> Optional[Callable[[], float]]:
    try:
        time.thread_time()
        return time.thread_time
    except (AttributeError, OSError):  # platforms without a per-thread CPU clock
        return None


_thread_time = _cpu_clock()
_SCHEDSTAT = "/proc/thread-self/schedstat"


class Sched(NamedTuple):
    on_cpu: float  # seconds
    queued: float  # seconds ready to run but waiting for a CPU
    slices: int  # how many times the OS put the thread on a CPU


class SchedStat:
    """The scheduler's record of the thread that created it (Linux schedstat; None elsewhere).

    Waiting for the GIL is sleeping, not waiting for a CPU, so the second tells a thread
    that the OS kept waiting (a loaded machine) from one that another thread held up.
    Readable from any thread (the file stays open on its thread); a read lets the GIL go.
    """

    __slots__ = ("fd",)

    def __init__(self) -> None:
        self.fd: Optional[int] = None
        try:
            self.fd = os.open(_SCHEDSTAT, os.O_RDONLY)
            self.read()
        except (OSError, ValueError, AttributeError):
            self.close()

    def read(self) -> Optional[Sched]:
        fd = self.fd
        if fd is None:
            return None
        try:
            on_cpu, queued, slices = os.pread(fd, 128, 0).split()[:3]
            return Sched(int(on_cpu) / 1e9, int(queued) / 1e9, int(slices))
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None


class Clocks:
    """What the loop thread has been doing, read on the loop thread itself.

    ``cpu`` is its CPU time. ``runnable`` (Linux) adds the time it spent ready to
    run but waiting for a CPU (schedstat): unlike CPU time, it does not drop when
    other processes compete for the cores, so "working" and "waiting" stay apart
    on a loaded machine.
    """

    __slots__ = ("sched", "cpu_clock")

    def __init__(self) -> None:
        # The CPU clock of this thread, readable from the watchdog thread while a
        # stall is still in progress (reading it once the thread is gone fails cleanly).
        try:
            self.cpu_clock: Optional[int] = time.pthread_getcpuclockid(threading.get_ident())
        except (AttributeError, OSError):
            self.cpu_clock = None
        self.sched = SchedStat()  # opened here: /proc/thread-self is this thread

    def _reading(self, now: float, cpu: Optional[float]) -> Reading:
        sched = self.sched.read()
        if sched is None:
            return Reading(now, cpu, None)
        return Reading(now, cpu, sched.on_cpu + sched.queued, sched.slices)

    def read(self) -> Reading:
        now = _monotonic()
        return self._reading(now, _thread_time() if _thread_time else None)

    def peek(self) -> Reading:
        """The same as ``read()``, from another thread."""
        now = _monotonic()
        return self._reading(now, self.thread_cpu())

    def thread_cpu(self) -> Optional[float]:
        """The loop thread's CPU time, from another thread (unlike ``peek()``, a clock read
        that never lets the GIL go)."""
        if self.cpu_clock is None:
            return None
        try:
            return time.clock_gettime(self.cpu_clock)
        except OSError:
            return None

    def close(self) -> None:
        self.sched.close()


MAX_SAMPLES = 400


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class LoopMonitor:
    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: float) -> None:
        self.loop: Optional[asyncio.AbstractEventLoop] = loop  # None once stopped
        self.threshold = threshold
        # How often the loop is probed: durations are accurate to about this much.
        self.interval = _clamp(threshold / 4, 0.001, 0.1)
        self.sample_every = _clamp(threshold / 10, 0.002, 0.02)
        current = threading.current_thread()
        self.thread_id = threading.get_ident()
        self.thread_name = current.name
        self.loop_name = f"{type(loop).__module__}.{type(loop).__qualname__}"
        self.lock = threading.Lock()
        self.finished: Deque[Tuple[float, Reading, Reading]] = collections.deque()  # (due, clocks before, clocks at end)
        self.samples: List[Sample] = []
        self.samples_seen = 0
        self.sample_due: Optional[float] = None
        self.errors: List[str] = []
        self.active = True
        self.clocks = Clocks()  # opened here: /proc/thread-self is this thread
        # Wall-clock time of monotonic 0, taken once: every description of one stall
        # (in progress, then ended) gets the same started_at.
        self.wall_offset = time.time() - _monotonic()
        self._ongoing_due: Optional[float] = None
        self._ongoing_next = 0.0
        self.last = self.clocks.read()  # when the last probe ran, and the thread's clocks then
        self.answered = self.last[0]
        # The first probe comes from the loop thread: a stall may start right away.
        self.due = self.answered  # when the outstanding probe was due; _NEVER if none is
        # Probes need no context variables; one empty context per loop (a context
        # cannot be entered by two threads at once) spares copying the poster's.
        self.context = contextvars.Context()
        loop.call_soon(self._probe, context=self.context)

    @property
    def outstanding(self) -> bool:
        return self.due != _NEVER

    def _probe(self) -> None:
        if not self.active:
            return
        try:
            reading = self.clocks.read()
            if reading[0] - self.due >= self.threshold:
                self.finished.append((self.due, self.last, reading))
            self.last = reading
            self.answered = reading[0]
            self.due = _NEVER
        except Exception as exc:  # never let the heartbeat break the loop
            self.active = False
            self.errors.append(repr(exc))

    def post(self, intended: float, sample: Optional[Sample] = None) -> None:
        """Watchdog thread: probe the loop. ``intended`` is when the watchdog meant to,
        which is earlier than now when something (a thread holding the GIL, the loop
        thread itself in a long C call) kept the watchdog from running; ``sample``, the
        loop thread's stack taken just now, then tells where it was."""
        due = min(intended, _monotonic())
        if sample is not None:
            with self.lock:  # filed before the probe can run and end the stall
                self.sample_due = due
                self.samples = [sample]
                self.samples_seen = 1
        self.due = due
        try:
            if self.loop is None:
                raise RuntimeError("the monitor was stopped")
            self.loop.call_soon_threadsafe(self._probe, context=self.context)
        except Exception as exc:  # the loop was closed meanwhile
            self.active = False
            self.due = _NEVER
            self.errors.append(repr(exc))

    def stop(self) -> None:
        """On the loop thread, after run_forever: a stall may have ended the run."""
        self.active = False
        reading = self.clocks.read()
        if reading[0] - self.due >= self.threshold:
            self.finished.append((self.due, self.last, reading))
        self.due = _NEVER
        self.clocks.close()

    def add_sample(self, sample: Sample, due: float) -> None:
        """Watchdog thread: file a sample under the probe that was late when taken."""
        with self.lock:
            if self.due != due:
                return  # the probe ran meanwhile: the sample may show the next callback
            if self.sample_due != due:
                self.sample_due = due
                self.samples = []
                self.samples_seen = 0
            self.samples_seen += 1
            if len(self.samples) < MAX_SAMPLES:
                self.samples.append(sample)
            else:  # reservoir: a long stall keeps a fair picture of all of it
                slot = random.randrange(self.samples_seen)
                if slot < MAX_SAMPLES:
                    self.samples[slot] = sample

    def ongoing_next(self, due: float) -> float:
        """How long the stall of probe ``due`` must last before it is reported again in progress."""
        return self._ongoing_next if self._ongoing_due == due else 0.0

    def schedule_ongoing(self, due: float, at: float) -> None:
        self._ongoing_due, self._ongoing_next = due, at

    def take_finished(self) -> List[Tuple[float, Reading, Reading, List[Sample]]]:
        """Under ``lock``: the stalls that ended, each with the samples taken during it."""
        out: List[Tuple[float, Reading, Reading, List[Sample]]] = []
        while self.finished:
            due, before, end = self.finished.popleft()
            samples: List[Sample] = []
            if self.sample_due == due:
                samples = self.samples
                self.samples = []
                self.sample_due = None
            out.append((due, before, end, samples))
        return out
