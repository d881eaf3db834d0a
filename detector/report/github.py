"""GitHub Actions workflow commands: each finding becomes an ``::error`` annotation on the PR diff.

    ::error file=app/api.py,line=14,col=9,endLine=14,endColumn=26,title=BLK110 blocking-http-call::message

Escaping follows the runner's rules (actions/toolkit ``command.ts``): in the message ``%``,
``\\r`` and ``\\n`` are percent-encoded; in property values ``:`` and ``,`` are too. A transitive
finding's chain follows its message on separate lines (GitHub shows multi-line annotations).
Columns are 1-based; ``endColumn`` is exclusive, as in offload's other formats.
"""
from __future__ import annotations

from typing import List

from detector.display import printable
from detector.model import Finding
from detector.report import text


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    properties = {
        "file": printable(finding.filename.replace("\\", "/")),
        "line": str(finding.location.row),
        "col": str(finding.location.column),
        "endLine": str(finding.end_location.row),
        "endColumn": str(finding.end_location.column),
        "title": printable(f"{finding.code} {finding.name}"),
    }
    # Workflow logs render terminal sequences: text from the checked files is escaped.
    message = printable(text.message(finding), keep="\r\n")  # escape_data encodes line breaks
    for detail in text.details(finding):
        message += "\n" + printable(f"{detail.marker} {detail.where.replace(chr(92), '/')} {detail.what}")
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::error {props}::{escape_data(message)}"


def render(findings: List[Finding]) -> str:
    return "".join(annotation(f) + "\n" for f in findings)
