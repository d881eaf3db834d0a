"""Turn one late heartbeat and its samples into a StallEvent."""
from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from .events import Culprit, Frame, StallEvent
from .frames import LOOP, OFFLOAD, USER, FileKinds, is_async_code, make_frame
from .sampling import Location, Sample
from .verdict import decide, pick_representative

if TYPE_CHECKING:
    from .monitor import LoopMonitor, Reading


def _share(before: Optional[float], after: Optional[float], window: float) -> Optional[float]:
    if before is None or after is None or window <= 0:
        return None
    return round(max(0.0, min(1.0, (after - before) / window)), 3)


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


def _culprits(samples: List[Sample], chosen: Optional[Sample], kinds: FileKinds) -> List[Culprit]:
    """Every callback seen in enough samples, the chosen one's first, when there are several."""
    by_root: Dict[object, List[Sample]] = {}
    for sample in samples:
        if sample.root is not None:
            by_root.setdefault(sample.root, []).append(sample)
    kept = [group for group in by_root.values()
            if len(group) >= 2 and len(group) >= MIN_CULPRIT_SHARE * len(samples)]
    if len(kept) < 2:
        return []
    first = chosen.root if chosen is not None else None
    kept.sort(key=lambda group: (group[0].root != first, -len(group)))
    out: List[Culprit] = []
    for group in kept:
        representative = pick_representative(group)
        if representative is None:  # never for a group of two or more
            continue
        _, user, innermost, coroutine = _describe(representative, kinds)
        out.append(Culprit(task=representative.task, frame=user or innermost, coroutine_frame=coroutine,
                           samples=len(group), share=len(group) / len(samples)))
    return out


def build(mon: LoopMonitor, due: float, before: Reading, end: Reading, samples: List[Sample], kinds: FileKinds,
          ongoing: bool = False) -> StallEvent:
    """``before``/``end``: the loop thread's (monotonic, cpu, runnable) at the last
    probe before the stall and when it ended (or now, for a stall ``ongoing``)."""
    window = end[0] - before[0]
    cpu = _share(before[1], end[1], window)
    runnable = _share(before[2], end[2], window)
    verdict, chosen = decide(samples, cpu, runnable, end[0] - due, mon.threshold)
    stack: List[Frame] = []
    user: Optional[Frame] = None
    innermost: Optional[Frame] = None
    coroutine: Optional[Frame] = None
    if chosen is not None:
        stack, user, innermost, coroutine = _describe(chosen, kinds)
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
        culprits=_culprits(samples, chosen, kinds),
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
