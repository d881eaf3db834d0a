"""JSON: a list of finding records (schema in docs/DESIGN.md)."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from detector.model import Finding


def render(findings: List[Finding], runtime: Optional[Sequence[Dict[str, Any]]] = None) -> str:
    """``runtime`` (``check --runtime``): one status record per finding, added as its ``runtime`` key."""
    records = [f.to_dict() for f in findings]
    for record, status in zip(records, runtime or ()):
        record["runtime"] = status
    return json.dumps(records, indent=2) + "\n"
