"""The parent side of ``offload watch -- CMD``: run the command watched, merge what it saw.

The command runs with the bootstrap directory first on PYTHONPATH and
OFFLOAD_WATCH_DIR pointing at a fresh temporary directory; every Python process
it starts writes its stalls there (see sink.py). After the command exits, the
files are merged into one report. The command's exit status is returned as is
(128 + N when a signal N killed it, as shells do).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Sequence

from . import strict_watch
from .activate import ENV_DIR, ENV_THRESHOLD
from .events import make_report
from .sink import read_directory

BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")


@dataclass
class WatchResult:
    exit_code: int
    report: dict
    problems: List[str] = field(default_factory=list)
    strict: list = field(default_factory=list)  # StrictCall records, with --strict


class CommandNotFound(Exception):
    pass


def child_environment(base: Mapping[str, str], directory: str, threshold: float) -> dict:
    env = dict(base)
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = BOOTSTRAP_DIR + (os.pathsep + existing if existing else "")
    env[ENV_DIR] = directory
    env[ENV_THRESHOLD] = repr(threshold)
    return env


def resolve_command(command: List[str]) -> List[str]:
    """``offload watch -- app.py`` runs the script with this interpreter when it is not executable."""
    first = command[0]
    if first.endswith(".py") and os.path.isfile(first) and not os.access(first, os.X_OK):
        return [sys.executable] + list(command)
    return list(command)


def run(command: List[str], threshold: float, env: Optional[Mapping[str, str]] = None,
        strict: Optional[str] = None, strict_allow: Sequence[str] = (),
        strict_root: Optional[str] = None) -> WatchResult:
    """``strict``: None, or "warn" / "fail" to run strict mode too (see strict_watch.py)."""
    directory = tempfile.mkdtemp(prefix="offload-watch-")
    try:
        argv = resolve_command(command)
        child_env = child_environment(os.environ if env is None else env, directory, threshold)
        if strict is not None:
            strict_watch.child_environment(child_env, strict, list(strict_allow), strict_root or os.getcwd())
        try:
            process = subprocess.Popen(argv, env=child_env)
        except FileNotFoundError:
            raise CommandNotFound(command[0]) from None
        except PermissionError:
            raise CommandNotFound(command[0]) from None
        returncode = _wait(process)
        stalls, processes, problems = read_directory(directory)
        strict_calls, strict_problems = strict_watch.read_directory(directory)
        problems += strict_problems
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    exit_code = 128 - returncode if returncode < 0 else returncode
    report = make_report(
        stalls,
        command=list(command),
        threshold=threshold,
        exit_code=exit_code,
        processes=len(processes),
    )
    if strict is not None:
        report["strict"] = [call.to_dict() for call in strict_calls]
    return WatchResult(exit_code=exit_code, report=report, problems=problems, strict=strict_calls)


def _wait(process: subprocess.Popen) -> int:
    """Wait for the command; Ctrl-C reaches it directly, SIGTERM is passed on."""
    if threading.current_thread() is threading.main_thread():
        previous_int = signal.signal(signal.SIGINT, lambda signum, frame: None)
        previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
        try:
            return process.wait()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous_term)
    return process.wait()
