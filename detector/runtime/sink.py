"""Per-process files that ``offload watch`` merges after the command exits.

Each process writes, in the watch directory:

* ``<pid>-<random>.jsonl``: a ``process`` record when its first event loop
  starts, then one ``stall`` record per stall, flushed at once so a crash loses
  nothing already seen. Past ``FULL_PER_SITE`` stalls at one site, stalls are
  only counted, so the file stays bounded however long the process runs;
* ``<pid>-<random>.counts.json``: those counts per site (rewritten in place, at
  most once a second, and at exit);
* ``<pid>-<random>.ongoing.json``: the stalls still in progress (rewritten in
  place while they last), so a process killed in the middle of a stall still
  reports it.

A forked child opens files of its own. The parent reads all of them into a
bounded Tally; a record it cannot read is skipped with a warning.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, TextIO, Tuple

from .events import Frame, StallEvent
from .tally import MAX_SITES, Tally, site_key

FULL_PER_SITE = 20  # stalls written in full per site and process; later ones are counted
COUNTS_EVERY = 1.0  # seconds between two rewrites of the counts file
LOCK_WAIT = 0.5  # from a signal handler: give up rather than wait on a lock forever


def _write_atomic(path: str, data: object) -> None:
    # Not detector.atomic: in a watched process this package loads on its own (_offload_runtime).
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


StallKey = Tuple[int, str, str, float]  # pid, loop thread, loop, start


def stall_key(event: StallEvent) -> StallKey:
    """One stall, whether described in progress or ended: same process, loop and start."""
    return (event.pid, event.loop_thread, event.loop, round(event.started_at, 6))


class JsonlSink:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._file: Optional[TextIO] = None
        self._base: Optional[str] = None
        self._pid: Optional[int] = None
        self._written: Dict[object, int] = {}  # site -> stalls written in full
        self._counts: Dict[object, List[Any]] = {}  # site -> [frame dict, count, total, longest]
        self._counts_dirty = False
        self._counts_at = 0.0
        self._ongoing: Dict[StallKey, Dict[str, Any]] = {}

    def _open(self) -> TextIO:
        if self._file is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._base = base = os.path.join(self.directory, f"{self._pid}-{uuid.uuid4().hex[:8]}")
            self._file = handle = open(base + ".jsonl", "a", encoding="utf-8")
            self._written, self._counts, self._ongoing = {}, {}, {}
            self._write({
                "type": "process",
                "pid": self._pid,
                "argv": list(sys.argv),
                "python": sys.executable,
                "started_at": time.time(),
            })
            return handle
        return self._file

    def _write(self, record: Dict[str, Any]) -> None:
        assert self._file is not None  # _open() made it
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def open(self) -> None:
        with self._lock:
            self._open()

    def __call__(self, event: StallEvent) -> None:
        """A stall that ended."""
        with self._lock:
            self._open()
            key = site_key(event.site)
            if self._written.get(key, 0) < FULL_PER_SITE:
                self._written[key] = self._written.get(key, 0) + 1
                record: Dict[str, Any] = {"type": "stall"}
                record.update(event.to_dict())
                self._write(record)
            else:
                self._count(key, event)
            if self._ongoing.pop(stall_key(event), None) is not None:
                self._write_ongoing()

    def _count(self, key: object, event: StallEvent) -> None:
        entry = self._counts.get(key)
        if entry is None:
            if len(self._counts) >= MAX_SITES:
                key = None
                entry = self._counts.get(None)
            if entry is None:
                frame = event.site if key is not None else None
                entry = self._counts[key] = [frame.to_dict() if frame else None, 0, 0.0, 0.0]
        entry[1] += 1
        entry[2] += event.duration
        entry[3] = max(entry[3], event.duration)
        self._counts_dirty = True
        if time.monotonic() - self._counts_at >= COUNTS_EVERY:
            self._write_counts()

    def _write_counts(self) -> None:
        self._counts_at = time.monotonic()
        self._counts_dirty = False
        assert self._base is not None  # _open() set it
        _write_atomic(self._base + ".counts.json", {
            "pid": self._pid,
            "sites": [{"frame": frame, "count": count, "total": round(total, 6), "longest": round(longest, 6)}
                      for frame, count, total, longest in self._counts.values()],
        })

    def _write_ongoing(self) -> None:
        assert self._base is not None  # _open() set it
        path = self._base + ".ongoing.json"
        if self._ongoing:
            _write_atomic(path, list(self._ongoing.values()))
        else:
            try:
                os.unlink(path)
            except OSError:
                pass

    def ongoing(self, event: StallEvent) -> None:
        """A stall still in progress: replaces what was written about it before."""
        if not self._lock.acquire(timeout=LOCK_WAIT):
            return
        try:
            self._open()
            self._ongoing[stall_key(event)] = event.to_dict()
            self._write_ongoing()
        finally:
            self._lock.release()

    def close(self) -> None:
        """Write the counts not written yet (at exit)."""
        if not self._lock.acquire(timeout=LOCK_WAIT):
            return
        try:
            if self._counts_dirty and self._pid == os.getpid():
                self._write_counts()
        finally:
            self._lock.release()


MAX_PROBLEMS = 20
MAX_PROCESSES = 1000


@dataclass
class Merged:
    tally: Tally
    processes: int = 0  # processes that ran an event loop under the watchdog
    process_records: List[Dict[str, Any]] = field(default_factory=list)  # the first MAX_PROCESSES
    unwatched: List[Dict[str, Any]] = field(default_factory=list)  # processes the watchdog could not run in
    problems: List[str] = field(default_factory=list)
    more_problems: int = 0

    def problem(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)
        else:
            self.more_problems += 1


def _regular_files(directory: str, merged: Merged) -> List[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        merged.problem(f"cannot read {directory}: {exc.strerror or exc}")
        return []
    out: List[str] = []
    for name in names:
        try:
            mode = os.lstat(os.path.join(directory, name)).st_mode
        except OSError:
            continue
        if not name[:1].isdigit():
            continue  # not a file of ours (strict mode writes strict-*.jsonl)
        if stat.S_ISREG(mode):
            out.append(name)
        elif name.endswith((".jsonl", ".json")):
            merged.problem(f"{name}: not a regular file, skipped")
    return out


def _load_json(path: str, name: str, merged: Merged) -> Any:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        merged.problem(f"{name}: unreadable ({exc.__class__.__name__}), skipped")
        return None


def read_directory(directory: str) -> Merged:
    """Everything the watched processes wrote, merged into one bounded Tally."""
    merged = Merged(Tally())
    names = _regular_files(directory, merged)
    # Stalls in progress first: a stall that ended afterwards replaces its in-progress record.
    ongoing: Dict[StallKey, StallEvent] = {}
    for name in names:
        if name.endswith(".ongoing.json"):
            records = _load_json(os.path.join(directory, name), name, merged)
            for index, record in enumerate(records if isinstance(records, list) else []):
                try:
                    event = StallEvent.from_dict(record)
                except (ValueError, KeyError, TypeError, AttributeError):
                    merged.problem(f"{name}:{index + 1}: unreadable record skipped")
                    continue
                ongoing[stall_key(event)] = event
    for name in names:
        path = os.path.join(directory, name)
        if name.endswith(".jsonl"):
            _read_records(path, name, merged, ongoing)
        elif name.endswith(".counts.json"):
            _read_counts(path, name, merged)
    for event in ongoing.values():
        merged.tally.add(event)
    return merged


def _read_records(path: str, name: str, merged: Merged, ongoing: Dict[StallKey, StallEvent]) -> None:
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        merged.problem(f"{name}: cannot read: {exc.strerror or exc}")
        return
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                kind = record.pop("type", None)
                if kind == "process":
                    merged.processes += 1
                    if len(merged.process_records) < MAX_PROCESSES:
                        merged.process_records.append(record)
                elif kind == "unwatched":
                    if len(merged.unwatched) < MAX_PROCESSES:
                        merged.unwatched.append(record)
                elif kind == "stall":
                    event = StallEvent.from_dict(record)
                    ongoing.pop(stall_key(event), None)
                    merged.tally.add(event)
                else:
                    raise ValueError(kind)
            except (ValueError, KeyError, TypeError, AttributeError):
                # A process killed mid-write leaves a partial last line.
                merged.problem(f"{name}:{number}: unreadable record skipped")


def _read_counts(path: str, name: str, merged: Merged) -> None:
    data = _load_json(path, name, merged)
    if data is None:
        return
    try:
        pid = data.get("pid")
        for entry in data["sites"]:
            frame = Frame.from_dict(entry["frame"]) if entry.get("frame") is not None else None
            count, total, longest = entry["count"], entry["total"], entry["longest"]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (count, total, longest)):
                raise TypeError
            merged.tally.add_counts(frame, int(count), float(total), float(longest),
                                    pid if isinstance(pid, int) else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        merged.problem(f"{name}: unreadable counts skipped")
