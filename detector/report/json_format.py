"""JSON: a list of finding records (schema in docs/DESIGN.md)."""
from __future__ import annotations

import json
from typing import List

from detector.model import Finding


def render(findings: List[Finding]) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2) + "\n"
