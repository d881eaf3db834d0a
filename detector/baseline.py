"""Baselines: record today's findings, report only new ones tomorrow.

``offload check --write-baseline FILE`` writes the current findings; ``--baseline FILE`` hides
the findings recorded there. A finding is matched by content, not by line number, so edits
elsewhere in a file do not resurface it:

    (rule code, file path, enclosing function, call as written) + occurrence

where ``occurrence`` numbers identical keys in file order (two ``time.sleep`` calls in the same
function are occurrences 0 and 1). Adding a third one reports one new finding; moving the
function, adding lines above it or reformatting the call's arguments reports nothing.

Diagnostics (BLK9xx: a file that does not parse or cannot be read) are never recorded and
never hidden: a file offload could not analyse may hold any number of findings.

Paths are stored relative to the directory of the baseline file, with forward slashes, so the
baseline works from any working directory and on any OS.

File format (JSON)::

    {"version": 1, "tool": "offload 0.1.0",
     "findings": [{"code": "BLK100", "path": "app/api.py", "function": "main",
                   "call": "time.sleep", "occurrence": 0}, ...]}
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from detector import __version__, files
from detector.model import Finding

VERSION = 1
Key = Tuple[str, str, str, str, int]  # code, path, function, call, occurrence
ENTRY_FIELDS = ("code", "path", "function", "call", "occurrence")


class BaselineError(ValueError):
    """A baseline file that is missing or not one offload wrote: exit 2."""


def _relative(filename: str, base: Optional[Path]) -> str:
    path = Path(filename)
    if base is None:
        return PurePath(os.path.normpath(filename)).as_posix()
    absolute = os.path.normpath(str(path if path.is_absolute() else Path.cwd() / path))
    try:
        return PurePath(os.path.relpath(absolute, str(base.resolve()))).as_posix()
    except ValueError:  # another drive on Windows
        return PurePath(absolute).as_posix()


def keys(findings: Sequence[Finding], base: Optional[Path] = None) -> List[Key]:
    """The content key of each finding, in the order given (occurrences count in file order).

    The calls a finding covers (``Finding.related``: the reads of a ``with open(...)`` block)
    count as occurrences of their own rule, as they did when each was a finding: the other
    findings keep their keys."""
    entries: List[Tuple[Tuple[str, int, int, str], Tuple[str, str, str, str], Optional[int]]] = []
    for i, f in enumerate(findings):
        path = _relative(f.filename, base)
        entries.append((f.sort_key(), (f.code, path, f.function, f.call), i))
        entries.extend(((item.filename, item.row, item.column, item.code), (item.code, path, f.function, item.call), None)
                       for item in f.related)
    seen: Counter[Tuple[str, str, str, str]] = Counter()
    result: Dict[int, Key] = {}
    for _, stem, index in sorted(entries, key=lambda entry: entry[0]):
        if index is not None:
            result[index] = stem + (seen[stem],)
        seen[stem] += 1
    return [result[i] for i in range(len(findings))]


@dataclass
class Baseline:
    path: Path
    entries: Set[Key] = field(default_factory=set)

    @property
    def base(self) -> Path:
        return self.path.resolve().parent

    def split(self, findings: Sequence[Finding]) -> Tuple[List[Finding], List[Finding], int]:
        """(new findings, baselined findings, number of baseline entries that matched nothing)."""
        new, known, matched = [], [], set()
        for finding, key in zip(findings, keys(findings, self.base)):
            if key in self.entries and not finding.is_diagnostic:
                known.append(finding)
                matched.add(key)
            else:
                new.append(finding)
        return new, known, len(self.entries - matched)


def _invalid(path: Path, why: str) -> BaselineError:
    return BaselineError(f"{path}: not a valid baseline ({why})")


def load(path: Path) -> Baseline:
    if not os.path.lexists(path):
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline {path})")
    try:  # the project's reader: a baseline committed as a FIFO or a device is refused, never waited on
        text = files.read_file(path).data.decode("utf-8")
    except files.UnreadableFile as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.reason}") from None
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise _invalid(path, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and numbers too long to convert
        raise _invalid(path, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise _invalid(path, "expected an object with a 'version' field")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise _invalid(path, "'version' must be an integer")
    if version != VERSION:
        raise BaselineError(f"{path}: unsupported baseline version {version} (this offload reads version {VERSION})")
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise _invalid(path, "'findings' must be a list")
    baseline = Baseline(Path(path))
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(ENTRY_FIELDS) - set(entry):
            raise _invalid(path, f"findings[{i}]: expected the keys {', '.join(ENTRY_FIELDS)}")
        if not all(isinstance(entry[k], str) for k in ENTRY_FIELDS[:4]) or not isinstance(entry["occurrence"], int) \
                or isinstance(entry["occurrence"], bool) or entry["occurrence"] < 0:
            raise _invalid(path, f"findings[{i}]: expected strings and a non-negative integer occurrence")
        if entry["code"].startswith("BLK9"):
            continue  # written by an older offload: diagnostics are never baselined
        baseline.entries.add((entry["code"], entry["path"], entry["function"], entry["call"], entry["occurrence"]))
    return baseline


def dumps(findings: Iterable[Finding], path: Path) -> str:
    findings = [f for f in findings if not f.is_diagnostic]
    base = Path(path).resolve().parent
    entries = sorted(set(keys(findings, base)))
    data = {
        "version": VERSION,
        "tool": f"offload {__version__}",
        "findings": [dict(zip(ENTRY_FIELDS, key)) for key in entries],
    }
    return json.dumps(data, indent=2) + "\n"


def write(findings: Iterable[Finding], path: Path) -> int:
    """Write the baseline (see ``detector.atomic``); return how many findings it records."""
    from detector import atomic

    text = dumps(findings, path)
    try:
        atomic.write_text(path, text)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None
    return len(json.loads(text)["findings"])
