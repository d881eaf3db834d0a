"""The per-loop half of the watchdog: a heartbeat that runs on the loop itself.

A ``call_later`` tick notes when it ran and the loop thread's CPU time. When a
tick runs later than ``threshold`` after it was due, the loop could not run it
for that long: a stall. The tick only does arithmetic and appends to a deque;
everything else happens on the watchdog thread. It never raises: an exception
escaping a loop callback is logged by asyncio at best and can stop the program.
"""
from __future__ import annotations

import collections
import random
import threading
import time
from typing import List, Optional

from .sampling import Sample

_monotonic = time.monotonic


def _cpu_clock():
    try:
        time.thread_time()
        return time.thread_time
    except (AttributeError, OSError):  # platforms without a per-thread CPU clock
        return None


_thread_time = _cpu_clock()

MAX_SAMPLES = 400


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class LoopMonitor:
    def __init__(self, loop, threshold: float) -> None:
        self.loop = loop
        self.threshold = threshold
        self.interval = _clamp(threshold / 10, 0.001, 0.05)  # duration accuracy
        self.poll = _clamp(threshold / 4, 0.002, 0.05)  # watchdog check period
        self.sample_every = _clamp(threshold / 10, 0.002, 0.02)
        current = threading.current_thread()
        self.thread_id = threading.get_ident()
        self.thread_name = current.name
        self.loop_name = f"{type(loop).__module__}.{type(loop).__qualname__}"
        self.lock = threading.Lock()
        self.finished: collections.deque = collections.deque()  # (due, end, cpu_used, window)
        self.samples: List[Sample] = []
        self.samples_seen = 0
        self.sample_due: Optional[float] = None
        self.errors: List[str] = []
        self.active = True
        self.beat = _monotonic()
        self.cpu = _thread_time() if _thread_time else 0.0
        self.due = self.beat + self.interval
        self.handle = loop.call_later(self.interval, self._tick)

    def _tick(self) -> None:
        try:
            now = _monotonic()
            cpu = _thread_time() if _thread_time else 0.0
            if now - self.due >= self.threshold:
                self.finished.append((self.due, now, cpu - self.cpu, now - self.beat))
            self.beat = now
            self.cpu = cpu
            self.due = now + self.interval
            if self.active:
                self.handle = self.loop.call_later(self.interval, self._tick)
        except Exception as exc:  # never let the heartbeat break the loop
            self.active = False
            self.errors.append(repr(exc))

    def stop(self) -> None:
        """On the loop thread, after run_forever: a stall may have ended the run."""
        self.active = False
        try:
            self.handle.cancel()
        except Exception as exc:
            self.errors.append(repr(exc))
        self._tick_final()

    def _tick_final(self) -> None:
        now = _monotonic()
        cpu = _thread_time() if _thread_time else 0.0
        if now - self.due >= self.threshold:
            self.finished.append((self.due, now, cpu - self.cpu, now - self.beat))
        self.due = float("inf")

    def add_sample(self, sample: Sample, due: float) -> None:
        """Watchdog thread: file a sample under the heartbeat that was late when taken."""
        with self.lock:
            if self.due != due:
                return  # the heartbeat ran meanwhile: the sample may show the next callback
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

    def take_finished(self):
        """Under ``lock``: the stalls that ended, each with the samples taken during it."""
        out = []
        while self.finished:
            due, end, cpu_used, window = self.finished.popleft()
            samples: List[Sample] = []
            if self.sample_due == due:
                samples = self.samples
                self.samples = []
                self.sample_due = None
            out.append((due, end, cpu_used, window, samples))
        return out
