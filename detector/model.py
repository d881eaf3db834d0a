"""The records every part of offload speaks: findings, locations, chains and fixes.

Frozen dataclasses with plain-data ``to_dict`` so reports, the cache and worker
processes can move them around without knowing how they were produced.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, Optional, Tuple

DIAGNOSTICS = "BLK9"  # the codes of files that could not be analysed


class Applicability(str, Enum):
    """How far a fix can be trusted (ruff's model)."""

    SAFE = "safe"  # applied by --fix
    UNSAFE = "unsafe"  # applied only with --unsafe-fixes: changes cancellation or thread-safety
    SUGGESTION = "suggestion"  # described in the message, never applied


@dataclass(frozen=True, order=True)
class Location:
    row: int  # 1-based
    column: int  # 1-based

    def to_dict(self) -> Dict[str, Any]:
        return {"row": self.row, "column": self.column}


@dataclass(frozen=True)
class Hop:
    """One step of a transitive chain: a call made inside ``function``."""

    filename: str
    row: int
    column: int
    function: str
    call: str
    # In an installed library: "name version" of its distribution, and the file's absolute path
    # (``filename`` is ``site-packages/...``, not a path in the project).
    distribution: str = ""
    path: str = ""
    access: bool = False  # an attribute read (a property), not a call

    @property
    def shown(self) -> str:
        """``self.info`` for a property read, ``load()`` for a call."""
        return self.call if self.access else f"{self.call}()"

    def to_dict(self) -> Dict[str, Any]:
        found = {
            "filename": self.filename,
            "row": self.row,
            "column": self.column,
            "function": self.function,
            "call": self.call,
        }
        if self.path:
            found.update(distribution=self.distribution, path=self.path)
        return found


@dataclass(frozen=True)
class Related:
    """A call that belongs to a finding without being one: a read of the file a
    ``with open(...) as f:`` finding opens. ``code`` is the rule it would be reported under."""

    filename: str
    row: int
    column: int
    call: str
    code: str

    def to_dict(self) -> Dict[str, Any]:
        return {"filename": self.filename, "row": self.row, "column": self.column, "call": self.call,
                "code": self.code}

    @property
    def shown(self) -> str:
        """``f.read()`` for a call, ``for ... in f`` as it is for a loop over the file."""
        return self.call if self.call.startswith("for ... in ") else f"{self.call}()"


@dataclass(frozen=True)
class Edit:
    """Replace the text from ``location`` up to ``end_location`` (exclusive; equal for an
    insertion) with ``content``. Rows and columns count as a finding's do (1-based, characters);
    lines end at ``\n``, ``\r\n`` or ``\r``."""

    location: Location
    end_location: Location
    content: str

    def to_dict(self) -> Dict[str, Any]:
        return {"content": self.content, "location": self.location.to_dict(),
                "end_location": self.end_location.to_dict()}


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    # Why no rewrite is offered (SUGGESTION only): the fact that makes a rewrite unsafe or impossible.
    reason: Optional[str] = None
    # The rewrite of this finding alone, once computed (``detector.rewrite``): empty until then.
    edits: Tuple[Edit, ...] = ()
    # The library the rewrite spells (asyncio | anyio | trio | executor), decided for the
    # whole program by the analysis; None: the fixer reads the module's imports.
    library: Optional[str] = None
    # ``run_in_executor`` runs the call in a copy of the caller's context
    # (``contextvars.copy_context().run``): what it runs reads a context variable.
    in_context: bool = False

    def to_dict(self) -> Dict[str, Any]:
        record: Dict[str, Any] = {"applicability": self.applicability.value, "message": self.message}
        if self.reason:
            record["reason"] = self.reason
        if self.edits:
            record["edits"] = [edit.to_dict() for edit in self.edits]
        return record


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    message: str
    filename: str
    location: Location
    end_location: Location
    fix: Optional[Fix] = None
    chain: Tuple[Hop, ...] = field(default=())
    # The call as written (e.g. ``requests.get``) and the async function it runs in.
    call: str = ""
    function: str = ""
    # Calls the finding covers, reported with it (a ``with open(...) as f:`` block's reads).
    related: Tuple[Related, ...] = field(default=())

    def sort_key(self) -> Tuple[str, int, int, str]:
        return (self.filename, self.location.row, self.location.column, self.code)

    def refused(self, reason: str) -> Finding:
        """This finding with its fix made a suggestion: its rewrite is refused for ``reason``."""
        assert self.fix is not None
        return dataclasses.replace(self, fix=Fix(Applicability.SUGGESTION, self.fix.message, reason=reason))

    @property
    def is_diagnostic(self) -> bool:
        """BLK9xx: the file could not be analysed (not a finding about its code)."""
        return self.code.startswith(DIAGNOSTICS)

    def to_dict(self) -> Dict[str, Any]:
        record: Dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "filename": self.filename,
            "location": self.location.to_dict(),
            "end_location": self.end_location.to_dict(),
            "fix": self.fix.to_dict() if self.fix else None,
        }
        if self.chain:
            record["chain"] = [hop.to_dict() for hop in self.chain]
        if self.related:
            record["related"] = [item.to_dict() for item in self.related]
        return record
