"""Turn the watchdog on from the environment that ``offload watch`` sets up.

Imported by the bootstrap ``sitecustomize`` in every Python process started
under ``offload watch``; it does nothing without ``OFFLOAD_WATCH_DIR``. Only
the run_forever hooks are set up at start-up: the watchdog itself (threads,
sampling) is created when the first event loop starts.
"""
from __future__ import annotations

import os

ENV_DIR = "OFFLOAD_WATCH_DIR"
ENV_THRESHOLD = "OFFLOAD_WATCH_THRESHOLD"


def activate_from_env(environ=None) -> bool:
    environ = os.environ if environ is None else environ
    directory = environ.get(ENV_DIR)
    if not directory:
        return False
    try:
        threshold = float(environ.get(ENV_THRESHOLD) or 0.1)
    except ValueError:
        threshold = 0.1
    from . import hooks

    def create():
        from .sink import JsonlSink
        from .watchdog import get_watchdog

        sink = JsonlSink(directory)
        sink.open()
        watchdog = get_watchdog()
        watchdog.subscribe(sink, threshold)
        return watchdog

    hooks.set_watchdog_factory(create)
    hooks.install()
    from .strict_watch import enable_from_env

    enable_from_env(environ, directory)  # offload watch --strict
    return True
