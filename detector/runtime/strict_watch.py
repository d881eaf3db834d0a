"""``offload watch --strict``: strict mode in every process, records merged into the report.

The parent passes the mode and the allow-list through the environment (the
runtime reads no configuration file: ``offload watch`` has already read
``[tool.offload] strict-allow``). Each process that sees a strict call writes
``strict-<pid>-<random>.jsonl`` in the watch directory: a record when a site is
first seen, and the site's final counts when the process exits. A process that
dies without running ``atexit`` keeps the counts of first sight.
"""
from __future__ import annotations

import atexit
import json
import os
import threading
import uuid
from typing import Callable, Dict, List, Mapping, Optional, TextIO, Tuple

from .strict_events import StrictCall, merge

ENV_STRICT = "OFFLOAD_STRICT"  # "warn" or "fail": strict mode on
ENV_ALLOW = "OFFLOAD_STRICT_ALLOW"  # JSON list of strict-allow entries
ENV_ROOT = "OFFLOAD_STRICT_ROOT"  # directory path globs are relative to
PREFIX = "strict-"
MODES = ("warn", "fail")


def child_environment(env: Dict[str, str], mode: str, allow: List[str], root: str) -> Dict[str, str]:
    env[ENV_STRICT] = mode
    env[ENV_ALLOW] = json.dumps(list(allow))
    env[ENV_ROOT] = root
    return env


class StrictSink:
    """Writes the strict calls of this process (and of a forked child, to a file of its own)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._file: Optional[TextIO] = None
        self._pid: Optional[int] = None

    def _open(self) -> TextIO:
        if self._file is None or self._pid != os.getpid():
            self._pid = os.getpid()
            name = f"{PREFIX}{self._pid}-{uuid.uuid4().hex[:8]}.jsonl"
            self._file = handle = open(os.path.join(self.directory, name), "a", encoding="utf-8")
            return handle
        return self._file

    def write(self, call: StrictCall) -> None:
        with self._lock:
            handle = self._open()
            handle.write(json.dumps(dict(call.to_dict(), type="strict")) + "\n")
            handle.flush()


def enable_from_env(environ: Mapping[str, str], directory: str) -> bool:
    """Turn strict mode on in this process when ``offload watch --strict`` asked for it."""
    if environ.get(ENV_STRICT) not in MODES:
        return False
    from . import strict

    try:
        allow = json.loads(environ.get(ENV_ALLOW) or "[]")
        if not isinstance(allow, list):
            allow = []
    except ValueError:
        allow = []
    strict.configure([str(entry) for entry in allow], environ.get(ENV_ROOT) or None)
    sink = StrictSink(directory)
    log = strict.StrictLog(on_new=_guarded(sink.write))

    def final_counts() -> None:
        strict.detach(log)
        for call in log.list():
            if call.count > 1:
                _guarded(sink.write)(call)

    atexit.register(final_counts)
    strict.attach(log)
    return True


def _guarded(write: Callable[[StrictCall], None]) -> Callable[[StrictCall], None]:
    def safe(call: StrictCall) -> None:
        try:
            write(call)
        except Exception:  # a full disk must not break the program
            pass

    return safe


def read_directory(directory: str) -> Tuple[List[StrictCall], List[str]]:
    """(merged strict calls, problems): per process the last record of a site wins."""
    calls: List[StrictCall] = []
    problems: List[str] = []
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith(PREFIX) and n.endswith(".jsonl"))
    except OSError as exc:
        return calls, [f"cannot read {directory}: {exc}"]
    for name in names:
        latest = {}
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    call = StrictCall.from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError):
                    problems.append(f"{name}:{number}: unreadable record skipped")
                    continue
                latest[call.key] = call
        calls.extend(latest.values())
    return merge(calls), problems
