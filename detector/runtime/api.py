"""The library entry points: subscribe to stalls, or collect them around a block."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, List

from . import hooks
from .events import StallEvent
from .watchdog import Subscription, get_watchdog

DEFAULT_THRESHOLD = 0.1


def subscribe(callback: Callable[[StallEvent], None], threshold: float = DEFAULT_THRESHOLD) -> Subscription:
    """Call ``callback(stall)`` (on the watchdog thread) for every stall of at least ``threshold`` s.

    Loops that start running after this call are watched; close the subscription to stop.
    """
    watchdog = get_watchdog()
    subscription = watchdog.subscribe(callback, threshold)
    hooks.set_watchdog(watchdog)
    hooks.install()
    return subscription


@contextlib.contextmanager
def watch(threshold: float = DEFAULT_THRESHOLD) -> Iterator[List[StallEvent]]:
    """``with watch(0.1) as stalls: asyncio.run(main())`` collects the stalls in a list."""
    stalls: List[StallEvent] = []
    subscription = subscribe(stalls.append, threshold)
    try:
        yield stalls
    finally:
        get_watchdog().flush()
        subscription.close()
