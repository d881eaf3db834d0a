"""Join static findings with runtime stalls: confirmed, no stall observed, runtime-only.

A static finding is *confirmed* when some stall passes through its line: a frame
of the stall's stack, or a line its samples caught (``seen``), in the same file
whose instruction span covers the finding's row (for a transitive finding, any
hop of its chain counts; for a ``with open(...)`` block, any of its related calls). A strict-mode record (the report's ``strict`` list,
``offload watch --strict``) confirms a finding the same way through its
``stack``, however fast the call was. Findings no stall touched are
*no stall observed* (the line may well have run, fast: only coverage data could
say it never ran); stalls that no finding explains are *runtime-only*.

Standard library only (no libcst, no click): ``offload check --runtime`` calls
:func:`join` with the records it would print as JSON.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from detector.runtime.events import VERDICTS, ReportError, read_json, validate_report

CONFIRMED = "confirmed"
NO_STALL = "no-stall-observed"


class ConfirmInputError(ValueError):
    """A static or runtime input that cannot be used."""


@dataclass
class FindingResult:
    finding: Dict[str, Any]
    status: str
    durations: List[float] = field(default_factory=list)  # of the stalls that went through it
    stalls: List[int] = field(default_factory=list)  # indexes into the report's stalls
    strict: List[int] = field(default_factory=list)  # indexes into the report's strict records

    def to_dict(self) -> Dict[str, Any]:
        record = dict(self.finding)
        record["runtime"] = {
            "status": self.status,
            "durations": [round(d, 6) for d in self.durations],
            "stalls": list(self.stalls),
            "strict": list(self.strict),
        }
        return record


@dataclass
class ConfirmResult:
    findings: List[FindingResult]
    runtime_only: List[Dict[str, Any]]  # stall records from the report
    report: Dict[str, Any]

    @property
    def confirmed(self) -> List[FindingResult]:
        return [f for f in self.findings if f.status == CONFIRMED]

    @property
    def no_stall(self) -> List[FindingResult]:
        return [f for f in self.findings if f.status == NO_STALL]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "version": 1,
            "findings": [f.to_dict() for f in self.findings],
            "runtime_only": list(self.runtime_only),
            "summary": {
                "confirmed": len(self.confirmed),
                "no_stall_observed": len(self.no_stall),
                "runtime_only": len(self.runtime_only),
            },
        }


def _norm(path: str) -> str:
    return os.path.normcase(os.path.normpath(path))


class _Files:
    """Decides whether a static filename (often relative) and a frame's (absolute) are one file."""

    def __init__(self, bases: Iterable[Optional[str]]) -> None:
        self.bases = [b for b in bases if b]
        self._cache: Dict[Tuple[str, str, str], bool] = {}
        self._resolves: Dict[str, bool] = {}

    def same(self, static_name: str, frame_name: str, frame_kind: str = "user") -> bool:
        key = (static_name, frame_name, frame_kind)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._same(static_name, frame_name, frame_kind)
        return hit

    def _resolved(self, static_name: str) -> bool:
        """Whether a relative name is an existing file under one of the bases."""
        hit = self._resolves.get(static_name)
        if hit is None:
            hit = self._resolves[static_name] = any(
                os.path.isfile(os.path.join(base, static_name)) for base in self.bases
            )
        return hit

    def _same(self, static_name: str, frame_name: str, frame_kind: str) -> bool:
        frame = _norm(frame_name)
        if os.path.isabs(static_name):
            return _norm(static_name) == frame or _real(static_name) == _real(frame_name)
        for base in self.bases:
            candidate = os.path.join(base, static_name)
            if _norm(candidate) == frame or _real(candidate) == _real(frame_name):
                return True
        # Reports written in another directory: fall back to the path's tail, but only
        # for a name that is no file here (a user's client.py is not http/client.py) and
        # never against the standard library or installed packages.
        if frame_kind in ("stdlib", "library", "loop") or self._resolved(static_name):
            return False
        tail = _norm(static_name).lstrip(os.sep)
        if tail.startswith(os.curdir + os.sep):
            tail = tail[2:]
        return frame == tail or frame.endswith(os.sep + tail)


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _sites(finding: Dict[str, Any]) -> List[Tuple[str, int]]:
    sites = [(finding["filename"], int(finding["location"]["row"]))]
    # A stall in a call of the chain, or in a call the finding covers (a ``with`` block's reads).
    for hop in list(finding.get("chain") or ()) + list(finding.get("related") or ()):
        sites.append((hop.get("filename") or finding["filename"], int(hop["row"])))
    return sites


def _frames(stall: Dict[str, Any]) -> List[Dict[str, Any]]:
    frames = list(stall.get("stack") or ()) + list(stall.get("seen") or ())
    for key in ("user_frame", "innermost_frame", "coroutine_frame"):
        if stall.get(key):
            frames.append(stall[key])
    for culprit in stall.get("culprits") or ():  # the other callbacks caught in the same stall
        for key in ("frame", "coroutine_frame"):
            if isinstance(culprit, dict) and culprit.get(key):
                frames.append(culprit[key])
    return frames


def _strict_records(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The report's strict records (``offload watch --strict``); malformed ones are an input error."""
    records = report.get("strict") or []
    if not isinstance(records, list):
        raise ConfirmInputError("the runtime report's 'strict' entry is not a list")
    for index, record in enumerate(records):
        try:
            for frame in _frames(record):
                if not isinstance(frame["filename"], str):
                    raise TypeError
                int(frame["row"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfirmInputError(f"strict record #{index} is not a strict-mode record") from None
    return records


def _covers(frame: Dict[str, Any], row: int) -> bool:
    start = int(frame["row"])
    end = int(frame.get("end_row") or start)
    return start <= row <= end


class _Bad(Exception):
    """A value of the wrong type in an input record: where it is and what was expected."""


def _number(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Bad(f"{where}: expected a number")


def _integer(value: object, where: str, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{where}: expected an integer")


def _string(value: object, where: str, optional: bool = False) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        raise _Bad(f"{where}: expected a string")


def _object(value: object, where: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: expected an object")
    return value


def _list(value: object, where: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"{where}: expected a list")
    return value


def _frame(frame: object, where: str) -> None:
    frame = _object(frame, where)
    _string(frame.get("filename"), f"{where}.filename")
    _integer(frame.get("row"), f"{where}.row")
    _integer(frame.get("end_row"), f"{where}.end_row", optional=True)
    _integer(frame.get("column"), f"{where}.column", optional=True)
    _string(frame.get("line"), f"{where}.line", optional=True)
    _string(frame.get("function"), f"{where}.function", optional=True)


def _check_report(report: Dict[str, Any]) -> None:
    _string(report.get("cwd"), "cwd", optional=True)
    for i, stall in enumerate(report["stalls"]):
        where = f"stalls[{i}]"
        _number(stall.get("duration"), f"{where}.duration")
        _string(stall.get("verdict"), f"{where}.verdict", optional=True)
        for key in ("stack", "seen"):
            for j, frame in enumerate(_list(stall.get(key), f"{where}.{key}")):
                _frame(frame, f"{where}.{key}[{j}]")
        for key in ("user_frame", "innermost_frame", "coroutine_frame"):
            if stall.get(key) is not None:
                _frame(stall[key], f"{where}.{key}")


def _check_finding(record: object, where: str) -> None:
    record = _object(record, where)
    _string(record.get("filename"), f"{where}.filename")
    location = _object(record.get("location"), f"{where}.location")
    _integer(location.get("row"), f"{where}.location.row")
    _integer(location.get("column"), f"{where}.location.column", optional=True)
    for key in ("code", "message"):
        _string(record.get(key), f"{where}.{key}", optional=True)
    for key in ("chain", "related"):
        for j, hop in enumerate(_list(record.get(key), f"{where}.{key}")):
            hop = _object(hop, f"{where}.{key}[{j}]")
            _integer(hop.get("row"), f"{where}.{key}[{j}].row")
            _string(hop.get("filename"), f"{where}.{key}[{j}].filename", optional=True)


def validate_static(records: object) -> List[Dict[str, Any]]:
    if isinstance(records, dict) and isinstance(records.get("findings"), list):
        records = records["findings"]
    if not isinstance(records, list):
        raise ConfirmInputError("not offload static JSON output (expected a list of findings)")
    try:
        for index, record in enumerate(records):
            _check_finding(record, f"findings[{index}]")
    except _Bad as exc:
        raise ConfirmInputError(
            f"not offload static JSON output ({exc}; is this `offload check --output-format json` output?)"
        ) from None
    return records


def validate_runtime(report: object) -> Dict[str, Any]:
    """The shape (``validate_report``) and every value ``join`` and ``format_text`` use."""
    try:
        report = validate_report(report)
        _integer(report.get("version"), "version")
        _check_report(report)
    except ReportError as exc:
        raise ConfirmInputError(str(exc)) from None
    except _Bad as exc:
        raise ConfirmInputError(f"not an offload watch report ({exc})") from None
    return report


def join(static_records: List[Dict[str, Any]], report: Dict[str, Any], cwd: Optional[str] = None) -> ConfirmResult:
    """Mark each static finding confirmed or no stall observed; list stalls no finding explains."""
    static_records = validate_static(static_records)
    report = validate_runtime(report)
    files = _Files([cwd or os.getcwd(), report.get("cwd")])
    stalls = report["stalls"]
    strict_calls = _strict_records(report)
    explained = [False] * len(stalls)
    results = []
    for finding in static_records:
        sites = _sites(finding)
        hits = []
        for index, stall in enumerate(stalls):
            if any(
                files.same(name, frame["filename"], frame.get("kind") or "user") and _covers(frame, row)
                for frame in _frames(stall)
                for name, row in sites
            ):
                hits.append(index)
                explained[index] = True
        strict_hits = [
            index for index, call in enumerate(strict_calls)
            if any(files.same(name, frame["filename"], frame.get("kind") or "user") and _covers(frame, row)
                   for frame in _frames(call) for name, row in sites)
        ]
        status = CONFIRMED if hits or strict_hits else NO_STALL
        durations = [float(stalls[i]["duration"]) for i in hits]
        results.append(FindingResult(finding, status, durations, hits, strict_hits))
    runtime_only = [stall for stall, seen in zip(stalls, explained) if not seen]
    return ConfirmResult(results, runtime_only, report)


def load_static(path: str) -> List[Dict[str, Any]]:
    try:
        return validate_static(read_json(path, ConfirmInputError))
    except ConfirmInputError as exc:
        raise ConfirmInputError(_naming(path, exc)) from None


def load_runtime(path: str) -> Dict[str, Any]:
    try:
        return validate_runtime(read_json(path, ConfirmInputError))
    except ConfirmInputError as exc:
        raise ConfirmInputError(_naming(path, exc)) from None


def _naming(path: str, exc: Exception) -> str:
    """The message, starting with the file it is about (read errors already name it)."""
    message = str(exc)
    return message if path in message else f"{path}: {message}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def status_text(item: FindingResult, report: Dict[str, Any]) -> str:
    """How a finding's runtime status reads after its code: ``confirmed (1 stall, longest 300 ms)``
    or ``no stall observed``."""
    if item.status != CONFIRMED:
        return "no stall observed"
    count = len(item.durations)
    seen = f"{count} stall{'s' if count != 1 else ''}, longest {_ms(max(item.durations))}" if count else ""
    if item.strict:
        calls = [report["strict"][i] for i in item.strict]
        events = sorted({str(call.get("event")) for call in calls})
        times = sum(int(call.get("count", 1)) for call in calls)
        strict = f"strict: {', '.join(events)} on the loop {times} time{'s' if times != 1 else ''}"
        seen = f"{seen}; {strict}" if seen else strict
    return f"confirmed ({seen})"


def format_text(result: ConfirmResult, cwd: Optional[str] = None) -> List[str]:
    """Each finding with its runtime status, then ``format_rest``."""
    from detector.display import display_path, printable

    lines = []
    for item in result.findings:
        finding = item.finding
        location = finding["location"]
        head = f"{display_path(finding['filename'], cwd)}:{location['row']}:{location.get('column', 1)}:"
        lines.append(f"{head} {finding.get('code', '')} {status_text(item, result.report)}: {finding.get('message', '')}")
    # Paths and messages come from the input files: escaped for the terminal.
    return [printable(line) for line in lines] + format_rest(result, cwd)


def format_rest(result: ConfirmResult, cwd: Optional[str] = None) -> List[str]:
    """The stalls no finding explains, and the one-line summary."""
    from detector.display import display_path, printable

    lines = []
    for stall in result.runtime_only:
        site = stall.get("user_frame") or stall.get("innermost_frame")
        verdict = VERDICTS.get(stall.get("verdict") or "", stall.get("verdict"))
        if site:
            head = f"{display_path(site['filename'], cwd)}:{site['row']}:{site.get('column') or 1}:"
        else:
            head = "<no Python frame>:"
        lines.append(f"{head} runtime only: event loop stalled {_ms(float(stall['duration']))} ({verdict})")
        if site and site.get("line", "").strip():
            lines.append(f"    {site['line'].strip()}")
    lines.append(
        f"offload confirm: {len(result.confirmed)} confirmed, {len(result.no_stall)} with no stall observed, "
        f"{len(result.runtime_only)} runtime-only stall{'s' if len(result.runtime_only) != 1 else ''}"
    )
    # Paths and source lines come from the report: escaped for the terminal.
    return [printable(line) for line in lines]
