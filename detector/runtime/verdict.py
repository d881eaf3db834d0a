"""Why the loop stalled, from the stack samples and the loop thread's clocks.

Whether the loop thread was *working* or *waiting* comes from its share of the
stall spent runnable (on a CPU or queued for one: Linux schedstat), else from
its CPU time share; the samples say where:

* waiting (runnable < 0.5, or cpu < 0.05 in runs under 0.5 ms each; without
  schedstat, cpu < 0.25)
    - the watchdog itself was kept from running
      (GIL held) for half the stall, or took
      no sample                               -> ``starved``   (another thread held the GIL,
                                                                 or the process got no CPU)
    - inside a callback in most samples       -> ``blocking``  (sleep, socket, file, lock...)
    - no callback running (the loop was in
      select/epoll or waiting for the GIL)    -> ``starved``
* working
    - one callback seen in most samples       -> ``cpu``
    - no callback dominates (different tasks
      or callbacks, or loop machinery)        -> ``callbacks`` (many small callbacks)
    - no sample (a C call kept the GIL)       -> ``cpu``

Without either clock the samples decide alone: a callback seen throughout is
reported ``blocking`` when its innermost frame never left one instruction,
``cpu`` otherwise.
"""
from __future__ import annotations

from collections import Counter
from typing import List, Optional, Tuple

from .events import BLOCKING, CALLBACKS, CPU, STARVED, UNKNOWN
from .sampling import Sample

RUNNABLE = 0.5  # share of the stall the loop thread was runnable, above which it was working
WORKING = 0.25  # the same from CPU time alone (lower: competing processes take their share)
ON_CPU = 0.05  # CPU share above which a runnable thread was working
# Else, on a machine loaded enough that a working thread gets less than that: the least
# average time it ran each time the OS put it on a CPU. A thread that only wakes up to
# ask for the GIL runs microseconds each time; one that works runs until preempted or
# asked for the GIL (milliseconds).
LONG_RUN = 0.0005
DOMINANT = 0.6  # share of samples one callback needs to be "the" stalled callback


def decide(samples: List[Sample], cpu: Optional[float], runnable: Optional[float],
           duration: float, threshold: float, run_length: Optional[float] = None) -> Tuple[str, Optional[Sample]]:
    """Return (verdict, the sample whose stack represents the stall). ``run_length``: the
    loop thread's average time on a CPU each time the OS put it there during the stall."""
    in_callback = [s for s in samples if s.root is not None]
    top_root, top_count = (None, 0)
    if in_callback:
        top_root, top_count = Counter(s.root for s in in_callback).most_common(1)[0]
    dominant = bool(samples) and top_count >= DOMINANT * len(samples)
    representative = pick_representative([s for s in in_callback if s.root == top_root]) if in_callback else None
    if representative is None and samples:
        representative = samples[-1]

    if runnable is not None:
        # Runnable but (almost) never on a CPU: a thread waking up every 5 ms to
        # ask for the GIL, queued behind other processes each time.
        working = runnable >= RUNNABLE and (cpu is None or cpu >= ON_CPU
                                            or (run_length is not None and run_length >= LONG_RUN))
    elif cpu is not None:
        working = cpu >= WORKING
    else:
        if not samples:
            return UNKNOWN, None
        if not in_callback:
            return STARVED, representative
        if not dominant:
            return CALLBACKS, representative
        locations = {s.location for s in in_callback if s.root == top_root}
        return (BLOCKING if len(locations) == 1 else CPU), representative

    if not working:
        # Long waits only: a busy machine delays every wake-up a little, a thread
        # holding the GIL delays one by about the whole stall.
        blind = sum(s.gil_wait for s in samples if s.gil_wait >= threshold / 2)
        if not samples or blind >= duration / 2:
            # Neither the loop thread nor the watchdog ran: what the samples show is
            # whatever the loop did once it got the GIL back, not the stall.
            return STARVED, None
        if in_callback and len(in_callback) * 2 >= len(samples):
            return BLOCKING, representative
        return STARVED, representative
    if not samples:
        return CPU, None
    if dominant:
        return CPU, representative
    return CALLBACKS, _typical(in_callback) or representative


def culprit_verdict(cpu: Optional[float]) -> Optional[str]:
    """The verdict of one callback among several in a stall, from the loop thread's CPU-time
    share between that callback's samples: a callback that sleeps or waits uses (almost)
    none, one that computes uses some however loaded the machine (schedstat cannot be read
    per sample without letting the GIL go)."""
    if cpu is None:
        return None
    return CPU if cpu >= ON_CPU else BLOCKING


def _typical(samples: List[Sample]) -> Optional[Sample]:
    """Many different callbacks: a sample of the code most of them were running.

    Callbacks written in C (asyncio's C task step, before it enters the coroutine)
    all look like one callback at ``Handle._run`` (the frame's memory is reused), so
    the most frequent callback would name the dispatcher rather than the user's code.
    """
    if not samples:
        return None
    codes = Counter(s.stack[0][0] for s in samples if s.inside)
    if not codes:
        return None
    code = codes.most_common(1)[0][0]
    return pick_representative([s for s in samples if s.inside and s.stack[0][0] is code])


def pick_representative(samples: List[Sample]) -> Optional[Sample]:
    """The sample at the most frequent innermost instruction; the deepest on ties."""
    if not samples:
        return None
    counts = Counter(s.location for s in samples)
    best = max(counts.values())
    candidates = [s for s in samples if counts[s.location] == best]
    return max(candidates, key=lambda s: s.inside)
