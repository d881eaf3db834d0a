"""Runtime watchdog: find the code that stalls a running asyncio (or uvloop) event loop.

Standard library only, and cheap to import: ``offload watch`` loads part of it
into every Python process it starts. Public names are imported on first use.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types of the names __getattr__ imports on first use
    from .api import DEFAULT_THRESHOLD as DEFAULT_THRESHOLD, subscribe as subscribe, watch as watch
    from .events import Frame as Frame, StallEvent as StallEvent, load_report as load_report
    from .events import make_report as make_report
    from .hooks import install as install, uninstall as uninstall
    from .watchdog import get_watchdog as get_watchdog

_EXPORTS = {
    "watch": "api",
    "subscribe": "api",
    "DEFAULT_THRESHOLD": "api",
    "StallEvent": "events",
    "Frame": "events",
    "make_report": "events",
    "load_report": "events",
    "get_watchdog": "watchdog",
    "install": "hooks",
    "uninstall": "hooks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
