"""Runtime watchdog: find the code that stalls a running asyncio (or uvloop) event loop.

Standard library only, and cheap to import: ``offload watch`` loads part of it
into every Python process it starts. Public names are imported on first use.
"""
from __future__ import annotations

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
