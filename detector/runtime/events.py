"""Stall records and the runtime report format (JSON, versioned).

Columns are 1-based characters and ``end_column`` is exclusive, like the static
findings; rows are 1-based. ``duration`` and ``threshold`` are seconds.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple, Type, Union, overload

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

    def to_dict(self) -> Dict[str, Any]:
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
    def from_dict(cls, data: Dict[str, Any]) -> "Frame":
        if not isinstance(data, dict):
            raise TypeError("a frame is an object")
        row = _int(data["row"])
        return cls(
            filename=_str(data["filename"]),
            function=_str(data.get("function", "")),
            row=row,
            column=_optional(data.get("column"), int),
            end_row=_int(data.get("end_row") or row),
            end_column=_optional(data.get("end_column"), int),
            line=_str(data.get("line", "")),
            kind=_str(data.get("kind", "user")),
        )


# Records come from files other processes wrote: every field is checked for its type.
def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, not {type(value).__name__}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, not {type(value).__name__}")
    return float(value)


def _list(value: object) -> List[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, not {type(value).__name__}")
    return value


@overload
def _optional(value: object, kind: Type[int]) -> Optional[int]: ...


@overload
def _optional(value: object, kind: Type[float]) -> Optional[float]: ...


@overload
def _optional(value: object, kind: Type[str]) -> Optional[str]: ...


def _optional(value: object, kind: type) -> Union[int, float, str, None]:
    if value is None:
        return None
    if kind is int:
        return _int(value)
    if kind is float:
        return _number(value)
    return _str(value)


def frame_or_none(data: Optional[Dict[str, Any]]) -> Optional[Frame]:
    return Frame.from_dict(data) if data else None


@dataclass(frozen=True)
class Culprit:
    """One callback the samples caught during a stall, with its share of the samples.

    Two slow callbacks that run back to back (two requests made ready in the same
    loop iteration) make one stall; each is listed here, the stall's own one first.
    """

    task: Optional[str]
    frame: Optional[Frame]  # the user's line in that callback, else its innermost line
    coroutine_frame: Optional[Frame]
    samples: int
    share: float  # of all the stall's samples
    # Seconds of the stall its samples stand for (each sample counts from halfway to the
    # previous one to halfway to the next), and why that callback took them (None where
    # the platform cannot read the loop thread's CPU clock).
    duration: Optional[float] = None
    verdict: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return {
            "task": self.task,
            "frame": self.frame.to_dict() if self.frame else None,
            "coroutine_frame": self.coroutine_frame.to_dict() if self.coroutine_frame else None,
            "samples": self.samples,
            "share": round(self.share, 3),
            "duration": None if self.duration is None else round(self.duration, 6),
            "verdict": self.verdict,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Culprit":
        return cls(
            task=_optional(data.get("task"), str),
            frame=frame_or_none(data.get("frame")),
            coroutine_frame=frame_or_none(data.get("coroutine_frame")),
            samples=_int(data.get("samples", 0)),
            share=_number(data.get("share", 0.0)),
            duration=_optional(data.get("duration"), float),
            verdict=_optional(data.get("verdict"), str),
        )


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
    # Every callback the samples caught (when there were several), the stall's own first.
    culprits: List[Culprit] = field(default_factory=list)
    # Still stalled when this was written (at exit, on a signal, or while it lasts):
    # ``duration`` is how long it had lasted by then.
    ongoing: bool = False

    def to_dict(self) -> Dict[str, Any]:
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
            "culprits": [culprit.to_dict() for culprit in self.culprits],
            "ongoing": self.ongoing,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "StallEvent":
        """Raises TypeError, KeyError or ValueError on a record of another shape."""
        if not isinstance(data, dict):
            raise TypeError("a stall is an object")
        ongoing = data.get("ongoing", False)
        if not isinstance(ongoing, bool):
            raise TypeError("ongoing is a boolean")
        return cls(
            duration=_number(data["duration"]),
            started_at=_number(data.get("started_at", 0.0)),
            verdict=_str(data.get("verdict", UNKNOWN)),
            task=_optional(data.get("task"), str),
            loop_thread=_str(data.get("loop_thread", "")),
            loop=_str(data.get("loop", "")),
            pid=_int(data.get("pid", 0)),
            samples=_int(data.get("samples", 0)),
            cpu=_optional(data.get("cpu"), float),
            runnable=_optional(data.get("runnable"), float),
            user_frame=frame_or_none(data.get("user_frame")),
            innermost_frame=frame_or_none(data.get("innermost_frame")),
            coroutine_frame=frame_or_none(data.get("coroutine_frame")),
            stack=[Frame.from_dict(item) for item in _list(data.get("stack", []))],
            seen=[(Frame.from_dict(item), _int(item.get("samples", 0))) for item in _list(data.get("seen", []))],
            culprits=[Culprit.from_dict(item) for item in _list(data.get("culprits", []))],
            ongoing=ongoing,
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
    sites: Optional[List[Dict[str, Any]]] = None,
    stall_count: Optional[int] = None,
) -> Dict[str, Any]:
    """``stalls`` may be examples only: then ``stall_count`` says how many there were and
    ``sites`` counts them per site."""
    ordered = sorted(stalls, key=lambda stall: stall.started_at)
    report = {
        "version": REPORT_VERSION,
        "tool": "offload",
        "command": list(command),
        "cwd": cwd if cwd is not None else os.getcwd(),
        "threshold": threshold,
        "exit_code": exit_code,
        "processes": processes,
        "stall_count": len(ordered) if stall_count is None else stall_count,
        "stalls": [stall.to_dict() for stall in ordered],
    }
    if sites is not None:
        report["sites"] = sites
    return report


class ReportError(ValueError):
    """A runtime report that cannot be read."""


def validate_report(data: object) -> Dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("stalls"), list):
        raise ReportError("not an offload runtime report (expected an object with a 'stalls' list)")
    version = data.get("version")
    if version != REPORT_VERSION:
        raise ReportError(f"unsupported runtime report version {version!r} (expected {REPORT_VERSION})")
    for index, stall in enumerate(data["stalls"]):
        if not isinstance(stall, dict) or "duration" not in stall:
            raise ReportError(f"stall #{index} is not a stall record")
    return data


def read_json(path: str, error: Type[Exception]) -> object:
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


def load_report(path: str) -> Dict[str, Any]:
    return validate_report(read_json(path, ReportError))


def write_json_atomic(path: str, data: object) -> None:
    """The report as JSON, written so readers never see half of it (see ``detector.atomic``)."""
    from detector import atomic

    atomic.write_text(path, json.dumps(data, indent=2) + "\n")
