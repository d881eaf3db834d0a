"""The import lines a fix adds or leaves unused, placed as isort and ruff (I001) place them.

An added ``import asyncio`` goes into the standard-library section of the module's first import
block that has one, in sorted position (straight imports before ``from`` imports, names compared
case-insensitively; with the project's ``force-sort-within-sections``, both kinds sorted together
by module name); without such a section, a new one before the third-party imports (after
``from __future__``); without any import, after the docstring, followed by the blank lines
ruff wants before the next statement. An import whose every use a fix removes (``import time``
once its last ``time.sleep`` is gone) is removed, when it is a plain module-level statement.
How the module already spells the offload (its library, the names it imported) is read here too.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import BaseAssignment, CodeRange, ImportAssignment

from detector.config import has_to_thread, loop_getter
from detector.textedit import TextEdit

FUTURE, STDLIB, THIRD_PARTY, LOCAL = range(4)


def _stdlib_names() -> FrozenSet[str]:
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    return frozenset(names) if names is not None else frozenset()


_STDLIB = _stdlib_names()


def _is_stdlib(top: str) -> bool:
    if _STDLIB:
        return top in _STDLIB
    # Python 3.9: where the running interpreter finds it (a lookup only: nothing is imported).
    import importlib.util
    import sysconfig

    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None) or ""
    return origin in ("built-in", "frozen") or origin.startswith(sysconfig.get_paths()["stdlib"])


def _dotted(node: Optional[cst.BaseExpression]) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def section_of(statement: cst.BaseSmallStatement) -> int:
    if isinstance(statement, cst.ImportFrom):
        if statement.relative:
            return LOCAL
        module = _dotted(statement.module)
        if module == "__future__":
            return FUTURE
    else:
        module = _dotted(cst.ensure_type(statement, cst.Import).names[0].name)
    return STDLIB if _is_stdlib(module.split(".")[0]) else THIRD_PARTY


def _import_line(spec: str) -> str:
    """``asyncio`` -> ``import asyncio``; ``app.pools:io_executor`` -> ``from app.pools import io_executor``."""
    if ":" in spec:
        module, name = spec.split(":", 1)
        return f"from {module} import {name}"
    return f"import {spec}"


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


class Imports:
    """Import edits for one parsed module (``positions``: libcst's PositionProvider)."""

    def __init__(self, module: cst.Module, positions: Mapping[cst.CSTNode, CodeRange], starts: Sequence[int], text: str, hidden: str, filename: str,
                 force_sort: bool = False) -> None:
        self.module = module
        self.force_sort = force_sort  # isort's force-sort-within-sections: one order for both kinds
        self.text = text  # the file's text (``module`` may be an outline of it)
        self.hidden = hidden  # text of code the outline left out: a name it mentions is in use
        self.size = len(text)
        self.positions = positions
        self.starts = starts
        self.newline = module.default_newline
        self.filename = filename
        self.body = list(module.body)
        self.blocks: List[List[int]] = []  # runs of consecutive top-level import lines
        for index, statement in enumerate(self.body):
            if _is_import_line(statement):
                if self.blocks and self.blocks[-1][-1] == index - 1:
                    self.blocks[-1].append(index)
                else:
                    self.blocks.append([index])

    # -- positions ------------------------------------------------------------------------
    def _line_start(self, row: int) -> int:
        return self.starts[row - 1] if row - 1 < len(self.starts) else self.size

    def _before(self, index: int, in_section: bool = False) -> int:
        """Offset where a line goes above statement ``index``: above the comments attached to it,
        except (``in_section``) the comments above the first import of a block, which isort and
        ruff keep at the head of the block."""
        statement = self.body[index]
        row = self.positions[statement].start.line
        if index > 0 and not (in_section and any(block[0] == index for block in self.blocks)):
            for line in reversed(statement.leading_lines):
                if line.comment is None:
                    break
                row -= 1
        return self._line_start(row)

    def _after(self, index: int) -> int:
        return self._line_start(self.positions[self.body[index]].end.line + 1)

    # -- additions ------------------------------------------------------------------------
    def additions(self, specs: Set[str]) -> List[TextEdit]:
        edits: List[TextEdit] = []
        for spec in sorted(specs):
            edits.extend(self._addition(spec))
        return edits

    def _addition(self, spec: str) -> List[TextEdit]:
        line = _import_line(spec) + self.newline
        top = spec.split(":")[0].split(".")[0]
        section = STDLIB if _is_stdlib(top) else THIRD_PARTY
        straight = ":" not in spec
        key = spec.split(":")[0].lower()
        for block in self.blocks:
            members = [i for i in block if self._section(i) == section]
            if members:
                return [self._into_section(members, line, key, straight)]
        if self.blocks:
            block = self.blocks[0]
            later = [i for i in block if self._section(i) > section]
            if later:  # a new section above the first later one, a blank line between
                at = self._before(later[0])
                return [TextEdit(at, at, line), TextEdit(at, at, self.newline, rank=1)]
            at = self._after(block[-1])
            return [TextEdit(at, at, self.newline, rank=-1), TextEdit(at, at, line)]
        return self._first_import(line)

    def _line(self, index: int) -> Sequence[cst.BaseSmallStatement]:
        """The statements of line ``index`` of the module, a line of imports."""
        return cst.ensure_type(self.body[index], cst.SimpleStatementLine).body

    def _section(self, index: int) -> int:
        return min(section_of(s) for s in self._line(index))

    def _into_section(self, members: List[int], line: str, key: str, straight: bool) -> TextEdit:
        def kind(index: int) -> bool:
            return isinstance(self._line(index)[0], cst.Import)

        def name(index: int) -> str:
            statement = self._line(index)[0]
            if isinstance(statement, cst.Import):
                return _dotted(statement.names[0].name).lower()
            statement = cst.ensure_type(statement, cst.ImportFrom)
            return ("." * len(statement.relative) + _dotted(statement.module)).lower()

        if self.force_sort:  # by module name; ``import x`` before ``from x import y``
            for index in members:
                if name(index) > key or (name(index) == key and straight and not kind(index)):
                    at = self._before(index, in_section=True)
                    return TextEdit(at, at, line)
            return TextEdit(self._after(members[-1]), self._after(members[-1]), line)
        same = [i for i in members if kind(i) == straight]
        for index in same:
            if name(index) > key:
                at = self._before(index, in_section=True)
                return TextEdit(at, at, line)
        if same:
            at = self._after(same[-1])
        elif straight:  # only `from` imports in the section: straight ones go first
            at = self._before(members[0], in_section=True)
        else:
            at = self._after(members[-1])
        return TextEdit(at, at, line)

    def _first_import(self, line: str) -> List[TextEdit]:
        body = self.body
        if not body:
            return []
        if _is_docstring(body[0]):
            at, following = self._after(0), (body[1] if len(body) > 1 else None)
            blank = 0
            if following is not None:
                for empty in following.leading_lines:
                    if empty.comment is not None:
                        break
                    blank += 1
        else:
            at, following, blank = self._line_start(self.positions[body[0]].start.line), body[0], 0
        edits = [TextEdit(at, at, line)]
        if following is not None:
            wanted = 2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1
            if wanted > blank:
                edits.append(TextEdit(at, at, self.newline * (wanted - blank), rank=1))
        return edits

    # -- removals -------------------------------------------------------------------------
    def removal(self, assignment: ImportAssignment) -> List[TextEdit]:
        """Edits removing the name ``assignment`` binds from its import statement, or none when
        that is not a plain module-level line (or the module may re-export it)."""
        if self.filename.endswith("__init__.py") or "__all__" in self.text:
            return []
        if re.search(rf"\b{re.escape(assignment.name)}\b", self.hidden):
            return []
        statement = assignment.node
        if not isinstance(statement, (cst.Import, cst.ImportFrom)):
            return []
        line = next((s for s in self.body if isinstance(s, cst.SimpleStatementLine) and statement in s.body), None)
        if line is None or len(line.body) != 1 or isinstance(statement.names, cst.ImportStar):
            return []
        names = list(statement.names)
        kept = [alias for alias in names if _local_name(alias) != assignment.name]
        if len(kept) == len(names):
            return []
        where: CodeRange = self.positions[line]
        if not kept:
            start, end = self._line_start(where.start.line), self._line_start(where.end.line + 1)
            return [TextEdit(start, end, "")]
        if where.start.line != where.end.line:
            return []  # a multi-line import keeps its layout: leave the name to the linter
        if names[-1] not in kept:
            kept[-1] = kept[-1].with_changes(comma=names[-1].comma)
        replacement = self.module.code_for_node(statement.with_changes(names=kept))
        span = self.positions[statement]
        start = self.starts[span.start.line - 1] + span.start.column
        end = self.starts[span.end.line - 1] + span.end.column
        return [TextEdit(start, end, replacement)]


def _local_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _dotted(alias.name).split(".")[0]


def import_binds(assignment: BaseAssignment, module: str, name: Optional[str] = None) -> bool:
    """Whether ``assignment`` is ``import module [as x]`` (``name`` None) or ``from module import name [as x]``."""
    if not isinstance(assignment, ImportAssignment):
        return False
    statement = assignment.node
    if not isinstance(statement, (cst.Import, cst.ImportFrom)) or isinstance(statement.names, cst.ImportStar):
        return False
    for alias in statement.names:
        if _local_name(alias) != assignment.name:
            continue
        if name is None:
            full = _dotted(alias.name)
            if isinstance(statement, cst.Import) and (full == module if alias.asname else full.split(".")[0] == module):
                return True
        elif isinstance(statement, cst.ImportFrom) and not statement.relative and _dotted(statement.module) == module \
                and _dotted(alias.name) == name:
            return True
    return False


# -- how the module spells the offload ---------------------------------------------------------
@dataclass(frozen=True)
class Flavour:
    """How the module spells the offload: which library, and the names it already imported."""

    library: str = "asyncio"  # asyncio | anyio | trio | executor (run_in_executor, before 3.9)
    module_alias: Optional[str] = None  # how the library module is bound, if imported
    to_thread_name: Optional[str] = None  # ``from asyncio import to_thread``
    sleep_name: Optional[str] = None  # ``from asyncio import sleep``
    functools_alias: Optional[str] = None  # ``import functools`` (for keyword arguments)
    executor: Optional[Tuple[str, str]] = None  # (module, name) of a configured executor
    executor_local: Optional[str] = None  # the name it is already imported as, if it is
    loop: str = "get_running_loop"  # how a coroutine gets its loop, for run_in_executor


def flavour_of(module: cst.Module, target_version: str = "py39", executor: Optional[str] = None,
               library: Optional[str] = None) -> Flavour:
    """``library``: the program's library as the analysis decided it (``Fix.library``); without
    it, the module's own imports decide."""
    aliases: Dict[str, str] = {}  # module name -> local alias
    imported: Dict[Tuple[str, str], str] = {}  # (module, name) -> local name
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = _dotted(alias.name)
                    local = cst.ensure_type(alias.asname.name, cst.Name).value if alias.asname else name.split(".")[0]
                    if alias.asname or "." not in name:
                        aliases.setdefault(name, local)
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                if isinstance(small.names, cst.ImportStar):
                    continue
                source = _dotted(small.module)
                for alias in small.names:
                    local = cst.ensure_type(alias.asname.name, cst.Name).value if alias.asname else _dotted(alias.name)
                    imported[(source, _dotted(alias.name))] = local
    uses = {name for name in aliases} | {source.split(".")[0] for source, _ in imported}
    functools_alias = aliases.get("functools")
    if library is None:
        library = "trio" if "trio" in uses else "anyio" if "anyio" in uses else None
    if library in ("trio", "anyio"):
        return Flavour(library, aliases.get(library), functools_alias=functools_alias)
    module_name, _, attribute = (executor or "").partition(":")  # validated: "package.module:name"
    configured = (module_name, attribute) if executor else None
    library = "asyncio" if has_to_thread(target_version) and not configured else "executor"
    return Flavour(
        library,
        aliases.get("asyncio"),
        to_thread_name=imported.get(("asyncio", "to_thread")) if library == "asyncio" else None,
        sleep_name=imported.get(("asyncio", "sleep")),
        functools_alias=functools_alias,
        executor=configured,
        executor_local=imported.get(configured) if configured else None,
        loop=loop_getter(target_version),
    )
