"""Why the loop stalled, from the stack samples and the loop thread's CPU time.

The loop thread's CPU share over the stall (``cpu``, from ``time.thread_time()``
read by the heartbeat probe) separates "waiting" from "working"; the samples say where:

* waiting (cpu < 0.25)
    - the watchdog itself could not run for
      half the stall, or took no sample       -> ``starved``   (another thread held the GIL,
                                                                 or the process got no CPU)
    - inside a callback in most samples       -> ``blocking``  (sleep, socket, file, lock...)
    - no callback running (the loop was in
      select/epoll or waiting for the GIL)    -> ``starved``
* working (cpu >= 0.25)
    - one callback seen in most samples       -> ``cpu``
    - no callback dominates (different tasks
      or callbacks, or loop machinery)        -> ``callbacks`` (many small callbacks)
    - no sample (a C call kept the GIL)       -> ``cpu``

Without a CPU reading (``cpu`` is None) the samples decide alone: a callback
seen throughout is reported ``blocking`` when its innermost frame never left
one instruction, ``cpu`` otherwise.
"""
from __future__ import annotations

from collections import Counter
from typing import List, Optional, Tuple

from .events import BLOCKING, CALLBACKS, CPU, STARVED, UNKNOWN
from .sampling import Sample

WORKING = 0.25  # loop thread CPU share above which it was executing, not waiting
DOMINANT = 0.6  # share of samples one callback needs to be "the" stalled callback


def decide(samples: List[Sample], cpu: Optional[float], duration: float) -> Tuple[str, Optional[Sample]]:
    """Return (verdict, the sample whose stack represents the stall)."""
    in_callback = [s for s in samples if s.root is not None]
    top_root, top_count = (None, 0)
    if in_callback:
        top_root, top_count = Counter(s.root for s in in_callback).most_common(1)[0]
    dominant = bool(samples) and top_count >= DOMINANT * len(samples)
    representative = _representative([s for s in in_callback if s.root == top_root]) if in_callback else None
    if representative is None and samples:
        representative = samples[-1]

    if cpu is None:
        if not samples:
            return UNKNOWN, None
        if not in_callback:
            return STARVED, representative
        if not dominant:
            return CALLBACKS, representative
        locations = {s.location for s in in_callback if s.root == top_root}
        return (BLOCKING if len(locations) == 1 else CPU), representative

    if cpu < WORKING:
        if not samples or sum(s.gil_wait for s in samples) >= duration / 2:
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
    return CALLBACKS, representative


def _representative(samples: List[Sample]) -> Optional[Sample]:
    """The sample at the most frequent innermost instruction; the deepest on ties."""
    if not samples:
        return None
    counts = Counter(s.location for s in samples)
    best = max(counts.values())
    candidates = [s for s in samples if counts[s.location] == best]
    return max(candidates, key=lambda s: s.inside)
