"""Turn one late heartbeat and its samples into a StallEvent."""
from __future__ import annotations

import math
import os
from collections import Counter
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from .events import BLOCKING, CALLBACKS, CPU, Culprit, Frame, StallEvent
from .frames import LOOP, OFFLOAD, USER, FileKinds, is_async_code, make_frame
from .sampling import Location, Sample
from .verdict import culprit_verdict, decide, pick_representative

if TYPE_CHECKING:
    from .monitor import LoopMonitor, Reading


def _share(before: Optional[float], after: Optional[float], window: float) -> Optional[float]:
    if before is None or after is None or window <= 0:
        return None
    return round(max(0.0, min(1.0, (after - before) / window)), 3)


def _run_length(before: Reading, after: Reading) -> Optional[float]:
    """The thread's average time on a CPU each time the OS put it there, between two readings."""
    if before.cpu is None or after.cpu is None or before.slices is None or after.slices is None:
        return None
    slices = after.slices - before.slices
    return max(0.0, after.cpu - before.cpu) / slices if slices > 0 else None


def _describe(sample: Sample, kinds: FileKinds) -> Tuple[List[Frame], Optional[Frame], Optional[Frame], Optional[Frame]]:
    """(stack outermost first, user frame, innermost frame, fix site) of one sample."""
    stack: List[Frame] = []
    user: Optional[Frame] = None
    innermost: Optional[Frame] = None
    coroutine: Optional[Frame] = None
    for index, (code, lasti) in enumerate(sample.stack):
        kind = kinds.kind(code.co_filename)
        if kind == OFFLOAD:
            continue
        frame = make_frame(code, lasti, kind)
        stack.append(frame)
        if index >= sample.inside:
            continue  # outside the callback: the loop and whoever started it
        if innermost is None:
            innermost = frame
        if user is None and kind == USER:
            user = frame
        # The fix site is where the user can offload the call: a coroutine of their own,
        # not one of a library's that calls something blocking.
        if coroutine is None and kind == USER and is_async_code(code):
            coroutine = frame
    stack.reverse()
    if coroutine is None and sample.coroutine is not None:  # beyond the frames kept
        code, lasti = sample.coroutine
        coroutine = make_frame(code, lasti, kinds.kind(code.co_filename))
    return stack, user, innermost, coroutine


MIN_CULPRIT_SHARE = 0.1  # of the samples: less is a glimpse of a callback, not a culprit
# Of the samples, by all the culprits together: else many small callbacks, a few of which a
# busy machine preempted long enough to be seen in several samples.
MIN_CULPRITS_COVER = 0.8


def _time_slices(samples: List[Sample], start: float, end: float) -> List[float]:
    """Seconds of the stall each sample stands for (``samples`` in the order taken): from
    halfway to the sample before it to halfway to the one after; the first from the start
    of the stall, the last to its end."""
    times = [min(end, max(start, sample.at)) for sample in samples]
    bounds = [start] + [(a + b) / 2 for a, b in zip(times, times[1:])] + [end]
    return [max(0.0, high - low) for low, high in zip(bounds, bounds[1:])]


def _microseconds_down(seconds: float) -> float:
    """Rounded down, not to the nearest: the culprits' parts, each rounded to the
    nearest microsecond, could add up to more than the stall's own rounded duration."""
    return math.floor(seconds * 1e6) / 1e6


def _cpu_share(ordered: List[Sample], indexes: List[int]) -> Optional[float]:
    """The loop thread's CPU-time share between consecutive samples of one callback
    (``indexes`` into ``ordered``, all the stall's samples in the order taken)."""
    wall = cpu = 0.0
    for first, second in zip(indexes, indexes[1:]):
        if second != first + 1:
            continue  # another callback ran in between
        before, after = ordered[first], ordered[second]
        if before.cpu is None or after.cpu is None:
            return None
        wall += after.at - before.at
        cpu += max(0.0, after.cpu - before.cpu)
    return min(1.0, cpu / wall) if wall > 0 else None


def _culprits(samples: List[Sample], chosen: Optional[Sample], kinds: FileKinds, start: float,
              end: float, threshold: float) -> List[Culprit]:
    """Every callback seen in enough samples, the chosen one's first, when a few of them
    make up the stall: each with the part of the stall its samples stand for and a verdict
    of its own (a ``time.sleep`` followed by a CPU loop in the next task is a blocking call
    and a CPU-bound one, not one stall of either kind)."""
    ordered = sorted(samples, key=lambda sample: sample.at)
    slices = _time_slices(ordered, start, end)
    by_root: Dict[object, List[int]] = {}
    for index, sample in enumerate(ordered):
        if sample.root is not None:
            by_root.setdefault(sample.root, []).append(index)
    seconds = {id(indexes): sum(slices[i] for i in indexes) for indexes in by_root.values()}
    # A callback counts by its share of the samples or by its own time: on a loaded machine
    # a CPU-bound callback's wall time grows, a sleeping one's does not.
    kept = [indexes for indexes in by_root.values()
            if len(indexes) >= 2 and (len(indexes) >= MIN_CULPRIT_SHARE * len(samples)
                                      or seconds[id(indexes)] >= threshold / 2)]
    if len(kept) < 2 or sum(map(len, kept)) < MIN_CULPRITS_COVER * len(samples):
        return []
    first = chosen.root if chosen is not None else None
    kept.sort(key=lambda indexes: (ordered[indexes[0]].root != first, -seconds[id(indexes)]))
    out: List[Culprit] = []
    for indexes in kept:
        group = [ordered[i] for i in indexes]
        representative = pick_representative(group)
        if representative is None:  # never for a group of two or more
            continue
        _, user, innermost, coroutine = _describe(representative, kinds)
        out.append(Culprit(task=representative.task, frame=user or innermost, coroutine_frame=coroutine,
                           samples=len(group), share=len(group) / len(samples),
                           duration=_microseconds_down(seconds[id(indexes)]),
                           verdict=culprit_verdict(_cpu_share(ordered, indexes))))
    return out


def build(mon: LoopMonitor, due: float, before: Reading, end: Reading, samples: List[Sample], kinds: FileKinds,
          ongoing: bool = False) -> StallEvent:
    """``before``/``end``: the loop thread's (monotonic, cpu, runnable) at the last
    probe before the stall and when it ended (or now, for a stall ``ongoing``)."""
    window = end[0] - before[0]
    cpu = _share(before[1], end[1], window)
    runnable = _share(before[2], end[2], window)
    verdict, chosen = decide(samples, cpu, runnable, end[0] - due, mon.threshold, _run_length(before, end))
    stack: List[Frame] = []
    user: Optional[Frame] = None
    innermost: Optional[Frame] = None
    coroutine: Optional[Frame] = None
    if chosen is not None:
        stack, user, innermost, coroutine = _describe(chosen, kinds)
    culprits = _culprits(samples, chosen, kinds, due, end[0], mon.threshold)
    if culprits and culprits[0].verdict is not None and verdict in (BLOCKING, CPU, CALLBACKS):
        # Several callbacks made the stall: the clocks over all of it mix their causes; the
        # stall is named after its own (first) callback, and so is its verdict.
        verdict = culprits[0].verdict
    return StallEvent(
        duration=round(end[0] - due, 6),
        started_at=round(mon.wall_offset + due, 6),
        verdict=verdict,
        task=chosen.task if chosen is not None else None,
        loop_thread=mon.thread_name,
        loop=mon.loop_name,
        pid=os.getpid(),
        samples=len(samples),
        cpu=cpu,
        runnable=runnable,
        user_frame=user,
        innermost_frame=innermost,
        coroutine_frame=coroutine,
        stack=stack,
        seen=_seen(samples, kinds),
        culprits=culprits,
        ongoing=ongoing,
    )


MAX_SEEN = 50
MAX_INSTRUCTIONS = 2000


def _seen(samples: List[Sample], kinds: FileKinds) -> List[Tuple[Frame, int]]:
    """Distinct lines inside the running callback across all samples, with sample counts."""
    frames: Dict[Location, Optional[Frame]] = {}  # None for machinery
    per_line: Counter[Tuple[str, int, Optional[int]]] = Counter()
    by_key: Dict[Tuple[str, int, Optional[int]], Frame] = {}
    for sample in samples:
        lines = set()
        for code, lasti in sample.stack[: sample.inside]:
            if (code, lasti) not in frames:
                kind = kinds.kind(code.co_filename)
                if kind in (OFFLOAD, LOOP) or len(frames) >= MAX_INSTRUCTIONS:
                    frames[(code, lasti)] = None
                else:
                    frames[(code, lasti)] = make_frame(code, lasti, kind)
            frame = frames[(code, lasti)]
            if frame is not None:
                key = (frame.filename, frame.row, frame.column)
                by_key.setdefault(key, frame)
                lines.add(key)
        per_line.update(lines)
    return [(by_key[key], count) for key, count in per_line.most_common(MAX_SEEN)]
