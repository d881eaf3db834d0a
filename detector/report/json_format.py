"""JSON: a list of finding records (schema in docs/DESIGN.md), or of counts per rule (``--statistics``)."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence

from detector.model import Finding


def render(findings: List[Finding], runtime: Optional[Sequence[Dict[str, Any]]] = None) -> str:
    """``runtime`` (``check --runtime``): one status record per finding, added as its ``runtime`` key."""
    records = [f.to_dict() for f in findings]
    for record, status in zip(records, runtime or ()):
        record["runtime"] = status
    return json.dumps(records, indent=2) + "\n"


def statistics(findings: List[Finding]) -> str:
    """``[{"code", "name", "count"}]``, most frequent first (the text table's order)."""
    counts = Counter((f.code, f.name) for f in findings)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return json.dumps([{"code": code, "name": name, "count": count} for (code, name), count in ordered], indent=2) + "\n"
