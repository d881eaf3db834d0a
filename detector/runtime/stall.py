"""Turn one late heartbeat and its samples into a StallEvent."""
from __future__ import annotations

import os
import time
from typing import List, Optional

from . import monitor as _monitor
from .events import StallEvent
from .frames import LOOP, OFFLOAD, USER, FileKinds, is_async_code, make_frame
from .sampling import Sample
from .verdict import decide


def build(mon, due: float, end: float, cpu_used: float, window: float,
          samples: List[Sample], kinds: FileKinds) -> StallEvent:
    cpu: Optional[float] = None
    if _monitor._thread_time is not None and window > 0:
        cpu = max(0.0, min(1.0, cpu_used / window))
    verdict, chosen = decide(samples, cpu)
    stack = []
    user = innermost = coroutine = None
    if chosen is not None:
        for index, (code, lasti) in enumerate(chosen.stack):
            kind = kinds.kind(code.co_filename)
            if kind == OFFLOAD:
                continue
            frame = make_frame(code, lasti, kind)
            stack.append(frame)
            if index >= chosen.inside:
                continue  # outside the callback: the loop and whoever started it
            if innermost is None:
                innermost = frame
            if user is None and kind == USER:
                user = frame
            if coroutine is None and kind != LOOP and is_async_code(code):
                coroutine = frame
        stack.reverse()
    return StallEvent(
        duration=end - due,
        started_at=time.time() - (time.monotonic() - due),
        verdict=verdict,
        task=chosen.task if chosen is not None else None,
        loop_thread=mon.thread_name,
        loop=mon.loop_name,
        pid=os.getpid(),
        samples=len(samples),
        cpu=cpu,
        user_frame=user,
        innermost_frame=innermost,
        coroutine_frame=coroutine,
        stack=stack,
    )
