"""Per-process JSON-lines files that ``offload watch`` merges after the command exits.

Each process writes ``<dir>/<pid>-<random>.jsonl``: a ``process`` record when
its first event loop starts, then one ``stall`` record per stall, flushed at
once so a crash loses nothing already seen. A forked child opens its own file.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from typing import List, Optional, Tuple

from .events import StallEvent


class JsonlSink:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._file = None
        self._pid: Optional[int] = None

    def _open(self):
        if self._file is None or self._pid != os.getpid():
            self._pid = os.getpid()
            name = f"{self._pid}-{uuid.uuid4().hex[:8]}.jsonl"
            self._file = open(os.path.join(self.directory, name), "a", encoding="utf-8")
            self._write({
                "type": "process",
                "pid": self._pid,
                "argv": list(sys.argv),
                "python": sys.executable,
                "started_at": time.time(),
            })
        return self._file

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def open(self) -> None:
        with self._lock:
            self._open()

    def __call__(self, event: StallEvent) -> None:
        with self._lock:
            self._open()
            record = {"type": "stall"}
            record.update(event.to_dict())
            self._write(record)


def read_directory(directory: str) -> Tuple[List[StallEvent], List[dict], List[str]]:
    """(stalls, process records, problems) from every file a watched process wrote."""
    stalls: List[StallEvent] = []
    processes: List[dict] = []
    problems: List[str] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        return stalls, processes, [f"cannot read {directory}: {exc}"]
    for name in names:
        if not name.endswith(".jsonl"):
            continue
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    kind = record.pop("type", None)
                    if kind == "process":
                        processes.append(record)
                    elif kind == "stall":
                        stalls.append(StallEvent.from_dict(record))
                except (ValueError, KeyError, TypeError):
                    # A process killed mid-write leaves a partial last line.
                    problems.append(f"{name}:{number}: unreadable record skipped")
    return stalls, processes, problems
