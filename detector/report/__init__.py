"""Output formats. Each takes Finding records and returns text; none knows how they were found."""
from __future__ import annotations

from typing import Callable, Dict, List

from detector.model import Finding
from detector.report import github, json_format, sarif, text

FORMATS: Dict[str, Callable[[List[Finding]], str]] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,  # the CLI also passes the effective rules and stdin sources
    "github": github.render,
}
