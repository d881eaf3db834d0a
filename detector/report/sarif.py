"""SARIF 2.1.0, for GitHub code scanning (``github/codeql-action/upload-sarif``) and SARIF viewers.

One run; ``tool.driver.rules`` carries every rule of the catalogue with its summary and its
markdown docs, so a viewer can explain a result without offload installed. Locations are
relative to ``%SRCROOT%`` (the working directory, which is the checkout root in CI) with
forward slashes (a chain's step in an installed library: the installed file, an absolute file
URI when the environment is outside the checkout); columns count Unicode code points
(``run.columnKind``), as offload's do, and end columns are exclusive, as SARIF's are.

A transitive finding (BLK200) carries its chain twice: as ``relatedLocations`` (what viewers
list under the result) and as a ``codeFlows`` thread flow (what they step through). The calls
a finding covers (the reads and writes of the file a ``with open(...) as f:`` block opens)
follow its chain in ``relatedLocations``.

Fixes are real edits: each finding with a safe or unsafe fix carries the edits of its rewrite
alone (``detector.rewrite``, the same edits ``--fix`` applies), which become
``fixes[0].artifactChanges`` (the call rewrite, plus the ``import asyncio`` line when the module
needs one). A fix offload refuses carries its reason in ``properties.fix`` (applicability ``suggestion``); a fix that cannot be
computed (the file changed since the check) leaves only ``properties.fix`` (applicability and
description), which every fixable result has.

Edits come with the findings (the CLI plans them with ``detector.fix.plan_findings``): this module
reads the catalogue for rule descriptors; it never runs the fixer.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence

from detector import __version__, files
from detector.display import uri_path
from detector.model import Finding, Hop

if TYPE_CHECKING:
    from detector.catalog import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/offload/"
SRCROOT = "%SRCROOT%"


# -- paths ------------------------------------------------------------------------------------
def artifact_location(filename: str, root: Optional[Path] = None) -> Dict[str, Any]:
    """A relative ``uri`` under %SRCROOT% (forward slashes, percent-encoded), or an absolute file URI."""
    root = (root or Path.cwd()).resolve()
    path = Path(filename)
    absolute = path if path.is_absolute() else root / path
    try:
        relative = PurePath(os.path.normpath(str(absolute))).relative_to(root)
    except ValueError:
        return {"uri": Path(os.path.normpath(str(absolute))).as_uri()}
    return {"uri": uri_path(relative.as_posix()), "uriBaseId": SRCROOT}


def _region(row: int, column: int, end_row: Optional[int] = None, end_column: Optional[int] = None) -> Dict[str, Any]:
    region = {"startLine": max(row, 1), "startColumn": max(column, 1)}
    if end_row is not None and end_column is not None:
        end_row, end_column = max(end_row, region["startLine"]), max(end_column, 1)
        if end_row == region["startLine"]:
            end_column = max(end_column, region["startColumn"])
        region.update(endLine=end_row, endColumn=end_column)
    return region


def _physical(filename: str, region: Dict[str, Any], root: Optional[Path]) -> Dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": artifact_location(filename, root), "region": region}}


# -- rules ------------------------------------------------------------------------------------
def _rule_descriptor(rule: Rule) -> Dict[str, Any]:
    from detector.report.ruledocs import describe, docs as rule_docs

    docs = rule_docs(rule).strip() or rule.summary
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
def compute_fixes(findings: Sequence[Finding], sources: Optional[Mapping[str, bytes]] = None) -> Dict[int, List[Dict[str, Any]]]:
    """``{index in findings: replacements}`` for every finding whose fix has edits.

    The caller attaches each fix's edits (``fix.plan_findings``: the rewrite of that finding
    alone, so they apply to the file as it is). Sources are read from disk unless given, once
    per file, for the character offsets.
    """
    texts: Dict[str, Optional[List[int]]] = {}
    edits: Dict[int, List[Dict[str, Any]]] = {}
    for index, finding in enumerate(findings):
        if finding.fix is None or not finding.fix.edits:
            continue
        if finding.filename not in texts:
            texts[finding.filename] = _starts(finding.filename, sources)
        starts = texts[finding.filename]
        if starts is None:
            continue
        changes = []
        for edit in finding.fix.edits:
            start = starts[edit.location.row - 1] + edit.location.column - 1
            end = starts[edit.end_location.row - 1] + edit.end_location.column - 1
            replacement: Dict[str, Any] = {"deletedRegion": {
                "startLine": edit.location.row, "startColumn": edit.location.column,
                "endLine": edit.end_location.row, "endColumn": edit.end_location.column,
                "charOffset": start, "charLength": end - start,
            }}
            if edit.content:
                replacement["insertedContent"] = {"text": edit.content}
            changes.append(replacement)
        edits[index] = changes
    return edits


def _starts(filename: str, sources: Optional[Mapping[str, bytes]]) -> Optional[List[int]]:
    """Line starts of the decoded file (its PEP 263 encoding), for SARIF character offsets."""
    import io
    import tokenize

    from detector.textedit import line_starts

    try:
        data = sources[filename] if sources is not None and filename in sources else files.read_file(filename).data
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return line_starts(data.decode(encoding))
    except (files.UnreadableFile, SyntaxError, LookupError, UnicodeDecodeError):
        return None


# -- results -------------------------------------------------------------------------------------
def _hop_location(hop: Hop, index: int, root: Optional[Path]) -> Dict[str, Any]:
    # A library file is where it is installed: under %SRCROOT% only when the environment is.
    location = _physical(hop.path or hop.filename, _region(hop.row, hop.column), root)
    where = f" ({hop.distribution})" if hop.distribution else ""
    location["message"] = {"text": f"{hop.shown} in {hop.function}{where}"}
    location["id"] = index
    return location


def fingerprints(findings: Sequence[Finding]) -> List[str]:
    """A stable identity per finding (rule, file, function, call, occurrence): the baseline's key, hashed."""
    from detector.baseline import keys

    return [hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()[:32] for key in keys(findings)]


def _result(finding: Finding, rule_index: Optional[int], root: Optional[Path], fingerprint: str,
            changes: Optional[List[Dict[str, Any]]], runtime: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    region = _region(finding.location.row, finding.location.column, finding.end_location.row, finding.end_location.column)
    result: Dict[str, Any] = {"ruleId": finding.code}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result.update({
        "level": "error",
        "message": {"text": finding.message},
        "locations": [_physical(finding.filename, region, root)],
        "partialFingerprints": {"offload/v1": fingerprint},
    })
    hops = finding.chain
    related = [_hop_location(hop, i, root) for i, hop in enumerate(hops)]
    for i, item in enumerate(finding.related, start=len(related)):
        location = _physical(item.filename, _region(item.row, item.column), root)
        location["message"] = {"text": f"{item.shown} in {finding.function}"}
        location["id"] = i
        related.append(location)
    if related:
        result["relatedLocations"] = related
    if hops:
        result["codeFlows"] = [{
            "message": {"text": " -> ".join(f"{hop.function}" for hop in hops) + f" -> {hops[-1].shown}"},
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
    properties: Dict[str, Any] = {"name": finding.name}
    if finding.function:
        properties["function"] = finding.function
    if finding.call:
        properties["call"] = finding.call
    if finding.fix is not None:
        properties["fix"] = finding.fix.to_dict()
    if runtime is not None:
        properties["runtime"] = runtime
    result["properties"] = properties
    if changes and finding.fix is not None:
        result["fixes"] = [{
            "description": {"text": f"{finding.fix.message} ({finding.fix.applicability.value} fix)"},
            "artifactChanges": [{"artifactLocation": artifact_location(finding.filename, root), "replacements": changes}],
        }]
    return result


def build(
    findings: Sequence[Finding],
    rules: Optional[Iterable[Rule]] = None,
    fixes: Optional[Mapping[int, List[Dict[str, Any]]]] = None,
    root: Optional[Path] = None,
    runtime: Optional[Sequence[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """The SARIF log as a Dict[str, Any]. ``rules`` defaults to the shipped catalogue; ``fixes`` to none;
    ``runtime`` (``check --runtime``) is each finding's runtime status, in ``properties.runtime``."""
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
        _result(finding, index.get(finding.code), root_path, prints[i], (fixes or {}).get(i),
                runtime[i] if runtime is not None and i < len(runtime) else None)
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
    rules: Optional[Iterable[Rule]] = None,
    sources: Optional[Mapping[str, bytes]] = None,
    with_fixes: bool = True,
    root: Optional[Path] = None,
    runtime: Optional[Sequence[Dict[str, Any]]] = None,
) -> str:
    """The SARIF log as text. A finding's fix becomes replacements when it carries edits; their
    character offsets come from the files on disk (or ``sources``)."""
    rules = list(rules) if rules is not None else None
    fixes = compute_fixes(findings, sources) if with_fixes else None
    text = json.dumps(build(findings, rules, fixes, root, runtime), indent=2, ensure_ascii=False) + "\n"
    # A file name that is not UTF-8 reaches messages as lone surrogates, which no encoder
    # accepts: inside JSON strings they become \\udcXX escapes (URIs carry the real bytes).
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
