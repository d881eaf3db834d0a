"""SARIF 2.1.0, for GitHub code scanning (``github/codeql-action/upload-sarif``) and SARIF viewers.

One run; ``tool.driver.rules`` carries every rule of the catalogue with its summary and its
markdown docs, so a viewer can explain a result without offload installed. Locations are
relative to ``%SRCROOT%`` (the working directory, which is the checkout root in CI) with
forward slashes; columns count Unicode code points (``run.columnKind``), as offload's do, and
end columns are exclusive, as SARIF's are.

A transitive finding (BLK200) carries its chain twice: as ``relatedLocations`` (what viewers
list under the result) and as a ``codeFlows`` thread flow (what they step through).

Fixes are real edits: for each finding with a safe or unsafe fix, ``detector.fix`` rewrites
the file for that finding alone, in memory, and the difference becomes ``fixes[0].artifactChanges``
(the call rewrite, plus the ``import asyncio`` line when the module needs one). A fix that cannot be
computed (the file changed since the check, a rewrite offload refuses) leaves only
``properties.fix`` (applicability and description), which every fixable result has.

This module reads the catalogue and, lazily, the fixer; the rest of ``report`` knows only ``model``.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections import Counter
from pathlib import Path, PurePath
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import quote

from detector import __version__, files
from detector.model import Applicability, Finding, Hop

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/offload/"
SRCROOT = "%SRCROOT%"


# -- paths ------------------------------------------------------------------------------------
def artifact_location(filename: str, root: Optional[Path] = None) -> dict:
    """A relative ``uri`` under %SRCROOT% (forward slashes, percent-encoded), or an absolute file URI."""
    root = (root or Path.cwd()).resolve()
    path = Path(filename)
    absolute = path if path.is_absolute() else root / path
    try:
        relative = PurePath(os.path.normpath(str(absolute))).relative_to(root)
    except ValueError:
        return {"uri": Path(os.path.normpath(str(absolute))).as_uri()}
    return {"uri": quote(relative.as_posix(), safe="/"), "uriBaseId": SRCROOT}


def _region(row: int, column: int, end_row: Optional[int] = None, end_column: Optional[int] = None) -> dict:
    region = {"startLine": max(row, 1), "startColumn": max(column, 1)}
    if end_row is not None and end_column is not None:
        end_row, end_column = max(end_row, region["startLine"]), max(end_column, 1)
        if end_row == region["startLine"]:
            end_column = max(end_column, region["startColumn"])
        region.update(endLine=end_row, endColumn=end_column)
    return region


def _physical(filename: str, region: dict, root: Optional[Path]) -> dict:
    return {"physicalLocation": {"artifactLocation": artifact_location(filename, root), "region": region}}


# -- rules ------------------------------------------------------------------------------------
def _rule_descriptor(rule) -> dict:
    from detector.report.ruledocs import describe

    docs = rule.docs.strip() or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": docs, "markdown": docs},
        "help": {"text": describe(rule), "markdown": describe(rule)},
        "defaultConfiguration": {"enabled": True, "level": "error"},
        "properties": {
            "tags": ["asyncio", "performance", rule.family],
            "precision": "high",
            "fix": rule.fix,
            **({"peerCodes": list(rule.peer_codes)} if rule.peer_codes else {}),
        },
    }


# -- fixes --------------------------------------------------------------------------------------
def _decode(data: bytes) -> Optional[str]:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _line_starts(text: str) -> List[int]:
    starts = [0]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1
        if ch in "\r\n":
            starts.append(i + 1)
        i += 1
    return starts


def _position(starts: List[int], offset: int) -> Tuple[int, int]:
    """1-based (line, column) of a character offset."""
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1, offset - starts[lo] + 1


def _word(ch: str) -> bool:
    return len(ch) == 1 and (ch.isalnum() or ch == "_")


def replacements(before: str, after: str) -> List[dict]:
    """SARIF replacements turning ``before`` into ``after``: one per changed stretch, trimmed to what changes."""
    old_lines = before.splitlines(keepends=True)
    new_lines = after.splitlines(keepends=True)
    old_offsets = [0]
    for line in old_lines:
        old_offsets.append(old_offsets[-1] + len(line))
    starts = _line_starts(before)
    result = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old, new = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        prefix = len(os.path.commonprefix([old, new]))
        # Never start or end a replacement inside an identifier (``time`` -> ``await asyncio``, not ``t``...).
        while prefix and _word(old[prefix - 1]) and (_word(old[prefix:prefix + 1]) or _word(new[prefix:prefix + 1])):
            prefix -= 1
        suffix = len(os.path.commonprefix([old[prefix:][::-1], new[prefix:][::-1]]))
        while suffix and _word(old[len(old) - suffix]) and (
                _word(old[len(old) - suffix - 1: len(old) - suffix]) or _word(new[len(new) - suffix - 1: len(new) - suffix])):
            suffix -= 1
        start = old_offsets[i1] + prefix
        end = old_offsets[i2] - suffix
        inserted = new[prefix:len(new) - suffix]
        start_line, start_column = _position(starts, start)
        end_line, end_column = _position(starts, end)
        replacement = {
            "deletedRegion": {
                "startLine": start_line, "startColumn": start_column,
                "endLine": end_line, "endColumn": end_column,
                "charOffset": start, "charLength": end - start,
            },
        }
        if inserted:
            replacement["insertedContent"] = {"text": inserted}
        result.append(replacement)
    return result


def compute_fixes(
    findings: Sequence[Finding],
    sources: Optional[Mapping[str, bytes]] = None,
    target_version: str = "py39",
    remedies: Optional[Mapping[str, str]] = None,
) -> Dict[int, List[dict]]:
    """``{index in findings: replacements}`` for every fixable finding whose rewrite offload can make.

    Each finding is fixed alone (as if it were the only one), so its replacements apply to the
    file as it is; sources are read from disk unless given.
    """
    from detector import fix as fixer

    if remedies is None:
        from detector.catalog import builtin

        remedies = {code: rule.remedy for code, rule in builtin().rules.items()}
    cache: Dict[str, Optional[bytes]] = dict(sources or {})
    edits: Dict[int, List[dict]] = {}
    for index, finding in enumerate(findings):
        if finding.fix is None or finding.fix.applicability is Applicability.SUGGESTION:
            continue
        if finding.filename not in cache:
            try:
                cache[finding.filename] = files.read_file(finding.filename).data
            except files.UnreadableFile:
                cache[finding.filename] = None
        data = cache[finding.filename]
        if data is None:
            continue
        try:
            result = fixer.fix_source(data, [finding], dict(remedies), unsafe=True, target_version=target_version)
        except Exception:  # a file that no longer parses, or a rewrite the fixer refuses
            continue
        if not result.applied or not result.changed:
            continue
        before, after = _decode(result.source), _decode(result.fixed)
        if before is None or after is None:
            continue
        changes = replacements(before, after)
        if changes:
            edits[index] = changes
    return edits


# -- results -------------------------------------------------------------------------------------
def _hop_location(hop: Hop, index: int, root: Optional[Path]) -> dict:
    location = _physical(hop.filename, _region(hop.row, hop.column), root)
    location["message"] = {"text": f"{hop.call}() in {hop.function}"}
    location["id"] = index
    return location


def fingerprints(findings: Sequence[Finding]) -> List[str]:
    """A stable identity per finding (rule, file, function, call, occurrence): the baseline's key, hashed."""
    from detector.baseline import keys

    return [hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()[:32] for key in keys(findings)]


def _result(finding: Finding, rule_index: Optional[int], root: Optional[Path], fingerprint: str,
            changes: Optional[List[dict]]) -> dict:
    region = _region(finding.location.row, finding.location.column, finding.end_location.row, finding.end_location.column)
    result: dict = {"ruleId": finding.code}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result.update({
        "level": "error",
        "message": {"text": finding.message},
        "locations": [_physical(finding.filename, region, root)],
        "partialFingerprints": {"offload/v1": fingerprint},
    })
    hops = finding.chain
    if hops:
        result["relatedLocations"] = [_hop_location(hop, i, root) for i, hop in enumerate(hops)]
        result["codeFlows"] = [{
            "message": {"text": " -> ".join(f"{hop.function}" for hop in hops) + f" -> {hops[-1].call}()"},
            "threadFlows": [{
                "locations": [
                    {
                        "location": {k: v for k, v in _hop_location(hop, i, root).items() if k != "id"},
                        "nestingLevel": i,
                        "executionOrder": i + 1,
                    }
                    for i, hop in enumerate(hops)
                ],
            }],
        }]
    properties: dict = {"name": finding.name}
    if finding.function:
        properties["function"] = finding.function
    if finding.call:
        properties["call"] = finding.call
    if finding.fix is not None:
        properties["fix"] = finding.fix.to_dict()
    result["properties"] = properties
    if changes and finding.fix is not None:
        result["fixes"] = [{
            "description": {"text": f"{finding.fix.message} ({finding.fix.applicability.value} fix)"},
            "artifactChanges": [{"artifactLocation": artifact_location(finding.filename, root), "replacements": changes}],
        }]
    return result


def build(
    findings: Sequence[Finding],
    rules: Optional[Iterable] = None,
    fixes: Optional[Mapping[int, List[dict]]] = None,
    root: Optional[Path] = None,
) -> dict:
    """The SARIF log as a dict. ``rules`` defaults to the shipped catalogue; ``fixes`` to none."""
    if rules is None:
        from detector.catalog import builtin

        rules = builtin().rules.values()
    ordered = sorted(rules, key=lambda rule: rule.code)
    known = {rule.code for rule in ordered}
    descriptors = [_rule_descriptor(rule) for rule in ordered]
    # A finding whose rule is not in the catalogue still gets a descriptor (id only).
    for code in sorted(Counter(f.code for f in findings)):
        if code not in known:
            descriptors.append({"id": code, "shortDescription": {"text": code}})
            known.add(code)
    index = {descriptor["id"]: i for i, descriptor in enumerate(descriptors)}
    root_path = (root or Path.cwd()).resolve()
    prints = fingerprints(findings)
    results = [
        _result(finding, index.get(finding.code), root_path, prints[i], (fixes or {}).get(i))
        for i, finding in enumerate(findings)
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "offload",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": root_path.as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(
    findings: List[Finding],
    rules: Optional[Iterable] = None,
    sources: Optional[Mapping[str, bytes]] = None,
    target_version: str = "py39",
    with_fixes: bool = True,
    root: Optional[Path] = None,
) -> str:
    """The SARIF log as text. Fixes are computed from the files on disk (or ``sources``)."""
    rules = list(rules) if rules is not None else None
    fixes = None
    if with_fixes:
        remedies = {rule.code: rule.remedy for rule in rules} if rules is not None else None
        fixes = compute_fixes(findings, sources, target_version, remedies)
    return json.dumps(build(findings, rules, fixes, root), indent=2, ensure_ascii=False) + "\n"
