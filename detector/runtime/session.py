"""The parent side of ``offload watch -- CMD``: run the command watched, merge what it saw.

The command runs with the bootstrap directory first on PYTHONPATH and
OFFLOAD_WATCH_DIR pointing at a fresh temporary directory; every Python process
it starts writes its stalls there (see sink.py). After the command exits, the
files are merged into one report and the directory is removed.

Every terminating signal sent to ``offload`` (INT, TERM, HUP, QUIT, USR1, USR2,
ALRM) is passed on to the command, which decides when to end; ``offload`` then
merges, cleans up and ends as the command did. A SIGINT or SIGQUIT typed at the
terminal already reached the command (it is in the same foreground process
group), so those are not sent twice.
"""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import AbstractSet, Dict, List, Mapping, Optional, Sequence

from . import strict_watch
from .activate import ENV_DIR, ENV_DUMP_AFTER, ENV_THRESHOLD
from .sink import Merged, read_directory
from .strict_events import StrictCall

BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")

FORWARDED = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
)
_SI_KERNEL = 0x80  # si_code of a signal the kernel sent: the terminal's Ctrl-C / Ctrl-\


@dataclass
class WatchResult:
    returncode: int  # the command's: negative -N when signal N ended it
    merged: Merged
    strict: List[StrictCall] = field(default_factory=list)  # with --strict
    strict_problems: List[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """As a shell shows it: 128 + N when signal N ended the command."""
        return 128 - self.returncode if self.returncode < 0 else self.returncode


class CannotStart(Exception):
    """The command could not be started; ``exit_code`` is what a shell would return."""

    def __init__(self, command: str, reason: str, exit_code: int) -> None:
        super().__init__(f"{command}: {reason}")
        self.command = command
        self.reason = reason
        self.exit_code = exit_code


def child_environment(base: Mapping[str, str], directory: str, threshold: float,
                      dump_after: Optional[float] = None) -> Dict[str, str]:
    env = dict(base)
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = BOOTSTRAP_DIR + (os.pathsep + existing if existing else "")
    env[ENV_DIR] = directory
    env[ENV_THRESHOLD] = repr(threshold)
    if dump_after is not None:
        env[ENV_DUMP_AFTER] = repr(dump_after)
    else:
        env.pop(ENV_DUMP_AFTER, None)
    return env


def resolve_command(command: List[str]) -> List[str]:
    """``offload watch -- app.py`` runs the script with this interpreter when it is not executable."""
    first = command[0]
    if first.endswith(".py") and os.path.isfile(first) and not os.access(first, os.X_OK):
        return [sys.executable] + list(command)
    return list(command)


def _start(argv: List[str], env: Dict[str, str], sigmask: Optional[AbstractSet[int]]) -> subprocess.Popen[bytes]:
    def restore_mask() -> None:  # the command starts with offload's own signal mask, not the blocked one
        signal.pthread_sigmask(signal.SIG_SETMASK, sigmask or ())  # only set when there is a mask

    try:
        return subprocess.Popen(argv, env=env, preexec_fn=restore_mask if sigmask is not None else None)
    except OSError as exc:
        # As a shell: 127 when there is no such command, 126 when it cannot be run.
        code = 127 if exc.errno == errno.ENOENT else 126
        reason = "command not found" if code == 127 else (exc.strerror or str(exc))
        raise CannotStart(argv[0], reason, code) from None


def run(command: List[str], threshold: float, env: Optional[Mapping[str, str]] = None,
        dump_after: Optional[float] = None, strict: Optional[str] = None, strict_allow: Sequence[str] = (),
        strict_root: Optional[str] = None) -> WatchResult:
    """``strict``: None, or "warn" / "fail" to run strict mode too (see strict_watch.py)."""
    directory = tempfile.mkdtemp(prefix="offload-watch-")
    forwarding = threading.current_thread() is threading.main_thread() and hasattr(signal, "sigtimedwait")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED + (signal.SIGCHLD,)) if forwarding else None
    try:
        argv = resolve_command(command)
        child_env = child_environment(os.environ if env is None else env, directory, threshold, dump_after)
        if strict is not None:
            strict_watch.child_environment(child_env, strict, list(strict_allow), strict_root or os.getcwd())
        process = _start(argv, child_env, previous)
        returncode = _wait_forwarding(process) if forwarding else process.wait()
        merged = read_directory(directory)
        strict_calls, strict_problems = strict_watch.read_directory(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if previous is not None:
            _drop_pending()
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return WatchResult(returncode=returncode, merged=merged, strict=strict_calls, strict_problems=strict_problems)


def _wait_forwarding(process: subprocess.Popen[bytes]) -> int:
    """Wait for the command, passing on the signals ``offload`` receives (they are blocked here)."""
    waited = set(FORWARDED) | {signal.SIGCHLD}
    while True:
        returncode = process.poll()
        if returncode is not None:
            return returncode
        info = signal.sigtimedwait(waited, 0.5)
        if info is None or info.si_signo == signal.SIGCHLD:
            continue
        if info.si_code == _SI_KERNEL and info.si_signo in (signal.SIGINT, signal.SIGQUIT):
            continue  # typed at the terminal: the command's process group got it too
        try:
            process.send_signal(info.si_signo)
        except OSError:
            pass


def _drop_pending() -> None:
    """Signals that came after the command ended: it is gone, and offload is about to end too."""
    waited = set(FORWARDED) | {signal.SIGCHLD}
    while signal.sigtimedwait(waited, 0) is not None:
        pass


def end_like(returncode: int) -> None:
    """End this process as the command ended: by the same signal, or with the same status."""
    if returncode >= 0:
        sys.exit(returncode)
    signum = -returncode
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ImportError, ValueError, OSError):
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
    except (OSError, ValueError):
        pass
    sys.exit(128 + signum)  # a signal that does not end a process by default
