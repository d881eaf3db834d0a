"""Is this thread running an event loop? The cheapest answer, for strict mode's hot paths.

Strict mode's audit hook and wrappers ask it for every listed event and every
wrapped call, on every thread: the default executor's workers, ``to_thread``,
the test runner between loop runs. ``running_loop()`` is rebound, once asyncio
has been imported whole, to asyncio's own ``_get_running_loop`` (a C function:
no Python frame), so the question costs one C call. Callers read it as
``loop_thread.running_loop`` at each call, which sees the rebinding.

It imports only ``sys`` and ``hooks``: it is loaded into watched processes.
"""
from __future__ import annotations

import sys
from types import CodeType, ModuleType
from typing import Any, Callable, Optional, Set

from . import hooks

# Code objects that run one loop callback: the run_forever wrapper (uvloop), and
# asyncio's Handle._run once asyncio is imported. Strict mode's stack walk stops there.
boundaries: Set[CodeType] = {hooks.WRAPPER_CODE}
asyncio_events: Optional[ModuleType] = None  # the asyncio.events module, once imported whole


def _find_running_loop() -> Any:
    """``running_loop()`` until asyncio is imported: looks for it, and binds the C function."""
    global running_loop, asyncio_events
    events = asyncio_events
    if events is None:
        events = sys.modules.get("asyncio.events")
        if events is None:
            return None  # no asyncio: no loop
        handle_run = getattr(getattr(events, "Handle", None), "_run", None)
        if handle_run is None:
            return None  # asyncio is being imported
        boundaries.add(handle_run.__code__)
        asyncio_events = events
    # events.py replaces its Python version with _asyncio's at its very end, and names
    # the C one _c__get_running_loop then; a Python without _asyncio keeps looking it up.
    accelerated = getattr(events, "_c__get_running_loop", None)
    if accelerated is not None:
        running_loop = accelerated
    return events._get_running_loop()


running_loop: Callable[[], Any] = _find_running_loop
