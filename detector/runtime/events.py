"""Stall records and the runtime report format (JSON, versioned).

Columns are 1-based characters and ``end_column`` is exclusive, like the static
findings; rows are 1-based. ``duration`` and ``threshold`` are seconds.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Tuple

REPORT_VERSION = 1

BLOCKING = "blocking"
CPU = "cpu"
STARVED = "starved"
CALLBACKS = "callbacks"
UNKNOWN = "unknown"

VERDICTS = {
    BLOCKING: "blocking call",
    CPU: "CPU-bound",
    STARVED: "loop starved by another thread",
    CALLBACKS: "many small callbacks",
    UNKNOWN: "unknown cause",
}


@dataclass(frozen=True)
class Frame:
    filename: str
    function: str
    row: int
    column: Optional[int]
    end_row: int
    end_column: Optional[int]
    line: str
    kind: str  # user | library | stdlib | loop

    def to_dict(self) -> dict:
        return {
            "filename": self.filename,
            "function": self.function,
            "row": self.row,
            "column": self.column,
            "end_row": self.end_row,
            "end_column": self.end_column,
            "line": self.line,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Frame":
        return cls(
            filename=data["filename"],
            function=data.get("function", ""),
            row=int(data["row"]),
            column=data.get("column"),
            end_row=int(data.get("end_row") or data["row"]),
            end_column=data.get("end_column"),
            line=data.get("line", ""),
            kind=data.get("kind", "user"),
        )


def _frame_or_none(data: Optional[dict]) -> Optional[Frame]:
    return Frame.from_dict(data) if data else None


@dataclass(frozen=True)
class StallEvent:
    duration: float  # seconds the loop could not run its heartbeat (a lower bound)
    started_at: float  # wall-clock (time.time()) when the heartbeat became due
    verdict: str
    task: Optional[str]  # name of the task the loop was running, if any
    loop_thread: str
    loop: str  # class of the event loop, e.g. "uvloop.Loop"
    pid: int
    samples: int  # stack samples taken during the stall
    cpu: Optional[float]  # loop thread CPU time / wall time over the stall
    runnable: Optional[float]  # same, counting time it was ready to run but had no CPU (Linux)
    user_frame: Optional[Frame]
    innermost_frame: Optional[Frame]
    coroutine_frame: Optional[Frame]
    stack: List[Frame] = field(default_factory=list)  # outermost first
    # Every line the samples caught inside the stalled callback(s), most sampled first:
    # a stall that went through several blocking calls shows all of them here.
    seen: List[Tuple[Frame, int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "duration": round(self.duration, 6),
            "started_at": round(self.started_at, 6),
            "verdict": self.verdict,
            "task": self.task,
            "loop_thread": self.loop_thread,
            "loop": self.loop,
            "pid": self.pid,
            "samples": self.samples,
            "cpu": None if self.cpu is None else round(self.cpu, 3),
            "runnable": None if self.runnable is None else round(self.runnable, 3),
            "user_frame": self.user_frame.to_dict() if self.user_frame else None,
            "innermost_frame": self.innermost_frame.to_dict() if self.innermost_frame else None,
            "coroutine_frame": self.coroutine_frame.to_dict() if self.coroutine_frame else None,
            "stack": [frame.to_dict() for frame in self.stack],
            "seen": [dict(frame.to_dict(), samples=count) for frame, count in self.seen],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "StallEvent":
        return cls(
            duration=float(data["duration"]),
            started_at=float(data.get("started_at", 0.0)),
            verdict=data.get("verdict", UNKNOWN),
            task=data.get("task"),
            loop_thread=data.get("loop_thread", ""),
            loop=data.get("loop", ""),
            pid=int(data.get("pid", 0)),
            samples=int(data.get("samples", 0)),
            cpu=data.get("cpu"),
            runnable=data.get("runnable"),
            user_frame=_frame_or_none(data.get("user_frame")),
            innermost_frame=_frame_or_none(data.get("innermost_frame")),
            coroutine_frame=_frame_or_none(data.get("coroutine_frame")),
            stack=[Frame.from_dict(item) for item in data.get("stack", [])],
            seen=[(Frame.from_dict(item), int(item.get("samples", 0))) for item in data.get("seen", [])],
        )

    @property
    def site(self) -> Optional[Frame]:
        """The line to show first: the user's line, else the innermost one."""
        return self.user_frame or self.innermost_frame


def make_report(
    stalls: Iterable[StallEvent],
    *,
    command: List[str],
    threshold: float,
    cwd: Optional[str] = None,
    exit_code: Optional[int] = None,
    processes: Optional[int] = None,
) -> dict:
    ordered = sorted(stalls, key=lambda stall: stall.started_at)
    return {
        "version": REPORT_VERSION,
        "tool": "offload",
        "command": list(command),
        "cwd": cwd if cwd is not None else os.getcwd(),
        "threshold": threshold,
        "exit_code": exit_code,
        "processes": processes,
        "stalls": [stall.to_dict() for stall in ordered],
    }


class ReportError(ValueError):
    """A runtime report that cannot be read."""


def validate_report(data) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("stalls"), list):
        raise ReportError("not an offload runtime report (expected an object with a 'stalls' list)")
    version = data.get("version")
    if version != REPORT_VERSION:
        raise ReportError(f"unsupported runtime report version {version!r} (expected {REPORT_VERSION})")
    for index, stall in enumerate(data["stalls"]):
        if not isinstance(stall, dict) or "duration" not in stall:
            raise ReportError(f"stall #{index} is not a stall record")
    return data


def read_json(path: str, error: type) -> object:
    """The JSON document in ``path``, or ``error`` saying which file and what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    except RecursionError:
        raise error(f"{path} is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and numbers too long to convert
        raise error(f"{path} is not valid JSON: {exc}") from None


def load_report(path: str) -> dict:
    return validate_report(read_json(path, ReportError))


def write_json_atomic(path: str, data) -> None:
    """The report as JSON, written so readers never see half of it (see ``detector.atomic``)."""
    from detector import atomic

    atomic.write_text(path, json.dumps(data, indent=2) + "\n")
