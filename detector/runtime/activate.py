"""Turn the watchdog on from the environment that ``offload watch`` sets up.

Imported by the bootstrap ``sitecustomize`` in every Python process started
under ``offload watch``; it does nothing without ``OFFLOAD_WATCH_DIR``. Only
the run_forever hooks are set up at start-up: the watchdog itself (thread,
sampling, report file) is created when the first event loop starts.

A stall still in progress when the process ends is reported too: the watchdog
rewrites it while it lasts, and once more at exit and on SIGTERM or SIGHUP
(when the program left those at their default action: the handler reports,
then lets the signal end the process as it would have).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing only: this module is imported as every watched process starts
    from types import FrameType
    from typing import Mapping, Optional, TypeVar, Union

    from .sink import JsonlSink
    from .watchdog import Watchdog

    T = TypeVar("T")

ENV_DIR = "OFFLOAD_WATCH_DIR"
ENV_THRESHOLD = "OFFLOAD_WATCH_THRESHOLD"
ENV_DUMP_AFTER = "OFFLOAD_WATCH_DUMP_AFTER"


def _seconds(value: Optional[str], default: T) -> Union[float, T]:
    if value is None:
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def activate_from_env(environ: Optional[Mapping[str, str]] = None) -> bool:
    environ = os.environ if environ is None else environ
    directory = environ.get(ENV_DIR)
    if not directory:
        return False
    threshold = _seconds(environ.get(ENV_THRESHOLD), 0.1)
    dump_after = _seconds(environ.get(ENV_DUMP_AFTER), None)
    from . import hooks

    def create() -> Watchdog:
        from .sink import JsonlSink
        from .watchdog import get_watchdog

        sink = JsonlSink(directory)
        sink.open()
        watchdog = get_watchdog()
        watchdog.subscribe(sink, threshold, ongoing=sink.ongoing)
        if dump_after is not None:
            from .dump import StackDumper

            watchdog.subscribe(lambda stall: None, dump_after, ongoing=StackDumper(dump_after))
        _report_at_exit(watchdog, sink)
        return watchdog

    hooks.set_watchdog_factory(create)
    hooks.install()
    from .strict_watch import enable_from_env

    enable_from_env(environ, directory)  # offload watch --strict
    return True


def _report_at_exit(watchdog: Watchdog, sink: JsonlSink) -> None:
    import atexit
    import signal
    import threading

    def at_exit() -> None:
        watchdog.report_ongoing()
        sink.close()

    atexit.register(at_exit)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        at_exit()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        try:
            if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, on_signal)
        except (OSError, ValueError):
            pass
