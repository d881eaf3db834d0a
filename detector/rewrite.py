"""How each finding is rewritten: the text edits of its fix, all computed from one parse of its file.

A rewrite is a few small edits around text that stays as written, so comments, layout and the
arguments are kept, and the fixes of nested calls compose:

    time.sleep(x)            -> await asyncio.sleep(x)          (the callee's text replaced)
    f(a, k=v)                -> await asyncio.to_thread(f, a, k=v)
    obj.m(a)                 -> await asyncio.to_thread(obj.m, a)
    requests.get(u).json()   -> (await asyncio.to_thread(requests.get, u)).json()
    to_thread(f(a))          -> to_thread(f, a)                 (BLK301; functools.partial where
                                                                 the wrapper takes no keywords)

Names are checked where they are used: ``asyncio`` (or a ``from asyncio import sleep``) is used
only where it is bound to that import, an import is added only where nothing else binds the
name; otherwise the finding is refused with the reason. Refused too: calls in a generator
expression but its first iterable (``await`` would make it an async generator), an annotation or a type alias (no
``await`` allowed there), a self-documenting f-string field (``f"{call()=}"`` would print the
new text) and a BLK301 call whose result is called with more arguments.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import AbstractSet, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, cast

import libcst as cst
from libcst.metadata import (
    BaseAssignment, CodeRange, ImportAssignment, PositionProvider, Scope, ScopeProvider,
)

from detector import layout, onpurpose
from detector.analysis import cstwalk
from detector.analysis.fixpolicy import is_test_path
from detector.analysis.offload import TAKES_KEYWORDS
from detector.imports import Flavour, Imports, flavour_of, import_binds
from detector.skeleton import skeleton
from detector.style import Style
from detector.model import Applicability, Finding, Fix
from detector.textedit import TextEdit, apply, compatible, line_starts, to_edit


class Refused(Exception):
    """This finding gets no rewrite; the message says why."""


@dataclass
class Rewrite:
    """One finding's rewrite: its edits, the imports it needs, the names whose use it removes."""

    edits: List[TextEdit]
    imports: Set[str] = field(default_factory=set)  # "asyncio", "functools", "module:name"
    drops: List[cst.Name] = field(default_factory=list)


@dataclass
class FilePlan:
    """The rewrites of one file's findings (``rewrites`` and ``refused`` are keyed by index)."""

    source: bytes
    findings: Sequence[Finding]
    text: str = ""
    encoding: str = "utf-8"
    rewrites: Dict[int, Rewrite] = field(default_factory=dict)
    refused: Dict[int, str] = field(default_factory=dict)
    imports: Optional[Imports] = None
    scopes: Optional[Mapping[cst.CSTNode, Optional[Scope]]] = None

    def edits(self, chosen: Sequence[int], keep: AbstractSet[str] = frozenset()
              ) -> Tuple[List[TextEdit], List[int], List[Tuple[int, str]]]:
        """The edits fixing the ``chosen`` findings together: (edits, applied, skipped with reason).

        A rewrite that overlaps one already taken (a call inside a replaced callee) waits for
        the next run; imports are added once, and an import none of the remaining code uses
        is removed, unless its name is in ``keep`` (other modules import it from this one)."""
        taken: List[TextEdit] = []
        applied: List[int] = []
        skipped: List[Tuple[int, str]] = []
        # A call before the calls inside it (``open(p).read()`` before ``open(p)``): when their
        # rewrites cannot compose (one laid out on lines of its own), the inner one waits, and its
        # call is still there as written; the other way round the outer call would have changed.
        for index in sorted(chosen, key=lambda i: _outer_first(self.findings[i])):
            if index in self.refused:
                skipped.append((index, self.refused[index]))
                continue
            rewrite = self.rewrites.get(index)
            if rewrite is None:
                continue
            if not compatible(taken, rewrite.edits):
                skipped.append((index, "overlaps another rewrite in this run; run --fix again"))
                continue
            taken.extend(rewrite.edits)
            applied.append(index)
        if applied and self.imports is not None:
            rewrites = [self.rewrites[i] for i in applied]
            taken.extend(self.imports.additions(set().union(*(r.imports for r in rewrites))))
            for assignment in self._unused_imports(applied):
                if assignment.name not in keep:
                    taken.extend(self.imports.removal(assignment))
        return taken, applied, skipped

    def removed(self, applied: Sequence[int], keep: AbstractSet[str] = frozenset()) -> Set[str]:
        """The names whose import the ``applied`` rewrites remove (those ``edits`` removes)."""
        return {assignment.name for assignment in self._unused_imports(applied)
                if assignment.name not in keep and self.imports is not None and self.imports.removal(assignment)}

    def _unused_imports(self, applied: Sequence[int]) -> Iterator[ImportAssignment]:
        """Imports whose every use is a callee the ``applied`` rewrites replace."""
        dropped = [name for i in applied for name in self.rewrites[i].drops]
        if not dropped or self.scopes is None or self.imports is None:
            return
        gone = {id(name) for name in dropped}  # the tree is alive for the whole plan: ids are stable
        seen: Set[int] = set()
        for name in dropped:
            scope = self.scopes.get(name)
            if scope is None:
                continue
            for access in scope.accesses[name]:
                for assignment in access.referents:
                    if not isinstance(assignment, ImportAssignment) or id(assignment) in seen:
                        continue
                    seen.add(id(assignment))
                    uses = assignment.references
                    if uses and all(id(use.node) in gone for use in uses):
                        yield assignment

    def fixed(self, edits: Sequence[TextEdit]) -> bytes:
        return apply(self.text, edits).encode(self.encoding)


def _outer_first(finding: Finding) -> Tuple[int, int, int, int]:
    start, end = finding.location, finding.end_location
    return (start.row, start.column, -end.row, -end.column)


def plan(source: bytes, findings: Sequence[Finding], remedies: Dict[str, str], filename: str,
         target_version: str = "py39", executor: Optional[str] = None, style: Style = Style()) -> FilePlan:
    """Rewrites for every finding that has a SAFE or UNSAFE fix. Raises ``cst.ParserSyntaxError``
    when the file does not parse; a finding whose rewrite fails is refused, never the file."""
    result = FilePlan(source=source, findings=findings)
    wanted = [i for i, f in enumerate(findings) if f.fix is not None and f.fix.applicability is not Applicability.SUGGESTION]
    if not wanted:
        return result
    # Only the part of the file the rewrites need is parsed (same rows and columns), unless the
    # file cannot be outlined; the whole file is parsed only if the outline does not line up.
    cut = skeleton(source, (findings[i].location.row for i in wanted))
    outline = cst.parse_module(cut.source if cut is not None else source)
    result.encoding = outline.encoding
    try:
        result.text = source.decode(outline.encoding)
        parsed = cut.source.decode(outline.encoding) if cut is not None else result.text
    except (UnicodeDecodeError, LookupError):
        result.text = parsed = ""
    # libcst drops a CR-only file's last line end: its code is then a prefix of the text parsed.
    if not parsed.startswith(outline.code) or result.text.encode(outline.encoding) != source:
        for index in wanted:
            result.refused[index] = "the file does not read back byte for byte"
        return result
    # The library the analysis decided for the program (``Fix.library``), else the imports'.
    library = next((fix.library for fix in (findings[i].fix for i in wanted) if fix is not None and fix.library), None)
    flavour = flavour_of(outline, target_version, executor, library)  # module-level imports: all kept
    planner = _Planner(outline, result.text, cut.hidden if cut is not None else "", flavour, filename, style)
    if cut is not None and cut.source != source and not planner.aligned():  # never expected: the whole module
        planner = _Planner(cst.parse_module(source), result.text, "", flavour, filename, style)
    result.imports, result.scopes = planner.imports, planner.scopes
    planner.sites = [(findings[i].location.row, findings[i].location.column) for i in wanted]
    for index in wanted:
        finding = findings[index]
        try:
            result.rewrites[index] = planner.rewrite(finding, remedies.get(finding.code, "to_thread"))
        except Refused as exc:
            result.refused[index] = str(exc)
        except Exception as exc:  # a bug in one rewrite costs that finding its fix, never the run
            result.refused[index] = f"internal error while rewriting: {type(exc).__name__}: {exc}"
    return result


def annotate(plan_: FilePlan) -> List[Finding]:
    """The findings with their fix's edits (alone) attached, or refused with the reason."""
    import dataclasses

    starts = line_starts(plan_.text)
    out: List[Finding] = []
    for index, finding in enumerate(plan_.findings):
        fix = finding.fix
        if fix is not None and index in plan_.refused:
            out.append(finding.refused(plan_.refused[index]))
            continue
        if fix is not None and index in plan_.rewrites:
            edits, applied, _ = plan_.edits([index])
            if applied:
                fix = dataclasses.replace(fix, edits=tuple(to_edit(starts, e) for e in sorted(
                    {e.key: e for e in edits}.values(), key=lambda e: (e.start, e.end != e.start, e.rank, e.content))))
        out.append(finding if fix is finding.fix else dataclasses.replace(finding, fix=fix))
    return out


_BINDING_KINDS: Dict[type, str] = {cst.Param: "a parameter", cst.FunctionDef: "a function", cst.ClassDef: "a class",
                                   cst.Import: "an import", cst.ImportFrom: "an import"}


class _Planner:
    def __init__(self, module: cst.Module, text: str, hidden: str, flavour: Flavour, filename: str,
                 style: Style = Style()) -> None:
        self.module = module
        self.hidden = hidden  # the text of the bodies the outline left out
        self.flavour = flavour
        metadata = cstwalk.Metadata(module, unsafe_skip_copy=True).resolve_many([PositionProvider, ScopeProvider])
        self.positions = cast("Mapping[cst.CSTNode, CodeRange]", metadata[PositionProvider])
        # ParentNodeProvider's map, without its traversal (which rebuilds every node twice).
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = cstwalk.parents(module)
        self.scopes = cast("Mapping[cst.CSTNode, Optional[Scope]]", metadata[ScopeProvider])
        self.text = text
        self.starts = line_starts(self.text)
        self.newline = module.default_newline
        self.style = style
        self.imports = Imports(module, self.positions, self.starts, text, hidden, filename,
                               style.force_sort_within_sections)
        path = PurePath(filename)
        self.in_tests = is_test_path(path.name, path.parts[:-1])
        self.example = onpurpose.shown(path.name, path.parts[:-1])
        self.calls: Dict[Tuple[int, int, int, int], cst.Call] = {}
        self.sites: List[Tuple[int, int]] = []  # where the file's other rewrites start (row, column)
        for node, where in self.positions.items():
            if isinstance(node, cst.Call):
                self.calls[(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)] = node

    def _found_at(self, node: cst.CSTNode) -> bool:
        """The file has ``node``'s first line where its position says (a check on the offsets)."""
        shown = node
        if isinstance(shown, cst.BaseExpression) and shown.lpar:
            shown = shown.with_changes(lpar=[], rpar=[])  # positions leave a node's own parentheses out
        if isinstance(shown, (cst.FunctionDef, cst.ClassDef)):
            shown = shown.with_changes(decorators=[], lines_after_decorators=[])  # positions start at def/class
        if isinstance(shown, cst.BaseStatement):
            shown = shown.with_changes(leading_lines=[])
        code = self.module.code_for_node(shown)
        first = code.splitlines()[0] if code else ""
        return self.text.startswith(first, self._start(node))

    def aligned(self) -> bool:
        """Every top-level statement of the (outlined) module is where the file has it."""
        return all(self._found_at(statement) for statement in self.module.body)

    # -- positions ------------------------------------------------------------------------
    def _offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column

    def _start(self, node: cst.CSTNode) -> int:
        where = self.positions[node]
        return self._offset(where.start.line, where.start.column)

    def _end(self, node: cst.CSTNode) -> int:
        where = self.positions[node]
        return self._offset(where.end.line, where.end.column)

    def _full_end(self, node: cst.BaseExpression) -> int:
        """End of ``node`` with its own closing parentheses."""
        return self._end(node) + sum(len(self.module.code_for_node(paren)) for paren in node.rpar)

    def _open(self, call: cst.Call) -> int:
        # Whitespace on more than one line (inside parentheses) is not expected here: an internal error.
        at = self._full_end(call.func) + len(cst.ensure_type(call.whitespace_after_func, cst.SimpleWhitespace).value)
        if self.text[at:at + 1] != "(":
            raise Refused("the call's parentheses could not be located")
        return at

    def _close(self, call: cst.Call) -> int:
        at = self._end(call) - 1
        if self.text[at:at + 1] != ")":
            raise Refused("the call's parentheses could not be located")
        return at

    def _line_indent(self, node: cst.CSTNode) -> Optional[str]:
        """The indentation of ``node`` when it starts its line."""
        where = self.positions[node]
        start = self.starts[where.start.line - 1]
        prefix = self.text[start:start + where.start.column]
        return prefix if prefix.strip() == "" else None

    # -- context --------------------------------------------------------------------------
    def _ancestors(self, node: cst.CSTNode) -> Iterator[Tuple[cst.CSTNode, cst.CSTNode]]:
        """(child, parent) pairs from ``node`` up to the module."""
        while True:
            parent = self.parents.get(node)
            if parent is None:
                return
            yield node, parent
            node = parent

    def _context_problem(self, call: cst.Call) -> Optional[str]:
        type_nodes = tuple(getattr(cst, name) for name in ("TypeAlias", "TypeParam") if hasattr(cst, name))
        iterable = False  # the walk came up through a ``for ... in`` iterable
        for child, parent in self._ancestors(call):
            # A generator expression's first iterable is evaluated where the expression is,
            # before the generator exists: an ``await`` there leaves it a plain generator.
            if isinstance(parent, cst.GeneratorExp) and not (iterable and child is parent.for_in):
                return "inside a generator expression, `await` would make it an async generator"
            iterable = isinstance(parent, cst.CompFor) and child is parent.iter
            if isinstance(parent, cst.Annotation):
                return "in an annotation, where `await` is not allowed"
            if type_nodes and isinstance(parent, type_nodes):
                return "in a type alias or type parameter, where `await` is not allowed"
            if isinstance(parent, cst.FormattedStringExpression) and parent.equal is not None:
                return "in a self-documenting f-string field (`{...=}`): the rewrite would change the printed text"
            if isinstance(parent, cst.Finally):
                return ("in a `finally` block: an `await` there can be cancelled (at shutdown, on a timeout) "
                        "and skip the rest of the cleanup")
            if isinstance(parent, cst.Lambda) and child is parent.body:
                return "inside a lambda, where `await` is not allowed"
            if isinstance(parent, cst.ClassDef) and child is parent.body:
                return "in a class body, where `await` is not allowed"
            if isinstance(parent, cst.FunctionDef) and child is parent.body:
                return None if parent.asynchronous is not None else "not in the body of an async function"
        return "not in the body of an async function"

    def _on_purpose(self, call: cst.Call) -> Optional[str]:
        """A test that says it blocks the loop on purpose, or an example showing it (``onpurpose``)."""
        if self.example:
            return self.example
        if not self.in_tests:
            return None
        statement = None
        for _, parent in self._ancestors(call):
            if statement is None and isinstance(parent, cst.SimpleStatementLine):
                statement = parent
            if isinstance(parent, cst.FunctionDef):
                return onpurpose.intended(parent, statement)
        return None

    def _needs_parens(self, call: cst.Call) -> bool:
        """``await x`` as a primary (``(await x).attr``, ``(await x)()``, ``(await x)[i]``)."""
        if call.lpar:
            return False
        parent = self.parents.get(call)
        return (isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is call) or (
            isinstance(parent, cst.Call) and parent.func is call)

    # -- names ----------------------------------------------------------------------------
    def _bindings(self, site: cst.CSTNode, name: str) -> Set[BaseAssignment]:
        scope = self.scopes.get(site)
        return set(scope[name]) if scope is not None else set()

    def _runs_unconditionally(self, statement: cst.CSTNode) -> bool:
        """An import at module or function level, or in a ``try`` body (not under ``if``, ``with``...)."""
        for child, parent in self._ancestors(statement):
            if isinstance(parent, (cst.Module, cst.FunctionDef)):
                return True
            if isinstance(parent, (cst.SimpleStatementLine, cst.IndentedBlock)):
                continue
            if isinstance(parent, cst.Try) and child is parent.body:
                continue
            return False
        return False

    def _try_of(self, node: cst.CSTNode, handler: bool) -> Optional[cst.Try]:
        for child, parent in self._ancestors(node):
            if isinstance(parent, cst.Try):
                if handler and isinstance(child, cst.ExceptHandler):
                    return parent
                if not handler and child is parent.body:
                    return parent
            if isinstance(parent, (cst.FunctionDef, cst.ClassDef)):
                return None
        return None

    def _binds(self, site: cst.CSTNode, name: str, module: str, member: Optional[str] = None) -> bool:
        """``name`` at ``site`` is ``module`` (or ``module.member``): every binding visible there is
        that import, or a fallback in the ``except`` clause of the ``try`` that imports it."""
        bindings = self._bindings(site, name)
        imports = [b for b in bindings if isinstance(b, ImportAssignment) and import_binds(b, module, member)
                   and self._runs_unconditionally(b.node)]
        if not imports:
            return False
        guarded = {id(self._try_of(b.node, handler=False)) for b in imports}
        for binding in bindings:
            if binding in imports:
                continue
            node = getattr(binding, "node", None)
            owner = self._try_of(node, handler=True) if node is not None else None
            if owner is None or id(owner) not in guarded:
                return False
        return True

    def _describe(self, site: cst.CSTNode, name: str, what: str) -> str:
        kinds = []
        for binding in self._bindings(site, name):
            node = getattr(binding, "node", None)
            kind = _BINDING_KINDS.get(type(node), "a variable")
            where = self.positions.get(node) if node is not None else None
            kinds.append(f"{kind} at line {where.start.line}" if where is not None else kind)
        return f"`{name}` here is {', '.join(sorted(kinds)) or 'bound to something else'}, not {what}; rename it to let --fix rewrite this call"

    def _module(self, site: cst.CSTNode, module: str, alias: Optional[str]) -> Tuple[str, Set[str]]:
        """How to spell ``module`` at ``site``, and the import to add for it (if any)."""
        for name in dict.fromkeys(n for n in (alias, module) if n):
            if self._binds(site, name, module):
                return name, set()
        bindings = self._bindings(site, module)
        if all(import_binds(b, module) for b in bindings):  # unbound, or imported only under a condition
            return module, {module}
        raise Refused(self._describe(site, module, f"the {module} module"))

    def _member(self, site: cst.CSTNode, module: str, member: str, alias: Optional[str], local: Optional[str]) -> Tuple[str, Set[str]]:
        """``sleep`` (from an existing ``from asyncio import sleep``) or ``asyncio.sleep``."""
        if local and self._binds(site, local, module, member):
            return local, set()
        prefix, needed = self._module(site, module, alias)
        return f"{prefix}.{member}", needed

    def _library(self) -> str:
        return "asyncio" if self.flavour.library == "executor" else self.flavour.library

    # -- rewrites -------------------------------------------------------------------------
    def rewrite(self, finding: Finding, remedy: str) -> Rewrite:
        key = (finding.location.row, finding.location.column, finding.end_location.row, finding.end_location.column)
        call = self.calls.get(key)
        if call is None or not self._found_at(call):
            raise Refused("the call was not found where it was reported")
        problem = self._context_problem(call) or self._on_purpose(call)
        if problem:
            raise Refused(problem)
        if remedy == "asyncio.sleep":
            return self._sleep(call)
        if remedy == "await":
            return self._await(call)
        if remedy == "pass-function":
            return self._pass_function(call)
        if remedy == "to_thread":
            return self._to_thread(call, finding.fix is not None and finding.fix.in_context)
        raise Refused(f"no rewrite for remedy {remedy!r}")

    def _wrap(self, call: cst.Call, opening: str, closing: str) -> Tuple[str, List[TextEdit]]:
        """Parentheses around the rewrite where its parent needs them: the opening text, and
        the edit closing them after the call."""
        if not self._needs_parens(call):
            return opening, ([TextEdit(self._close(call) + 1, self._close(call) + 1, closing, rank=self._size(call))]
                             if closing else [])
        end = self._close(call) + 1
        return "(" + opening, [TextEdit(end, end, closing + ")", rank=self._size(call))]

    def _size(self, call: cst.Call) -> int:
        return self._end(call) - self._start(call)

    def _await(self, call: cst.Call) -> Rewrite:
        opening, closing = self._wrap(call, "await ", "")
        start = self._start(call)
        return Rewrite([TextEdit(start, start, opening, rank=-self._size(call))] + closing)

    def _sleep(self, call: cst.Call) -> Rewrite:
        flavour = self.flavour
        local = flavour.sleep_name if flavour.library in ("asyncio", "executor") else None
        spelled, needed = self._member(call, self._library(), "sleep", flavour.module_alias, local)
        opening, closing = self._wrap(call, f"await {spelled}", "")
        edits = [TextEdit(self._start(call), self._full_end(call.func), opening)] + closing
        return Rewrite(edits, needed, [n for n in _names(call.func)])

    def _partial(self, site: cst.CSTNode) -> Tuple[str, Set[str]]:
        return self._member(site, "functools", "partial", self.flavour.functools_alias, None)

    def _to_thread(self, call: cst.Call, in_context: bool = False) -> Rewrite:
        """``await asyncio.to_thread(f, a)`` and its kin; ``in_context``: ``run_in_executor`` runs
        ``f`` through ``contextvars.copy_context().run``, as ``to_thread`` would."""
        flavour = self.flavour
        needed: Set[str] = set()
        keywords = any(arg.keyword is not None or arg.star == "**" for arg in call.args)
        lead: List[str] = []
        if flavour.library == "asyncio":
            runner, needed = self._member(call, "asyncio", "to_thread", flavour.module_alias, flavour.to_thread_name)
            keywords = False  # asyncio.to_thread passes keyword arguments on
        elif flavour.library == "executor":
            loop, needed = self._module(call, "asyncio", flavour.module_alias)
            runner = f"{loop}.{flavour.loop}().run_in_executor"
            lead = ["None"]
            if flavour.executor:
                module, name = flavour.executor
                pool, extra = self._pool(call, module, name, flavour.executor_local)
                lead, needed = [pool], needed | extra
            if in_context:
                contextvars, extra = self._module(call, "contextvars", None)
                lead, needed = lead + [f"{contextvars}.copy_context().run"], needed | extra
        else:
            library, needed = self._module(call, flavour.library, flavour.module_alias)
            runner = f"{library}.to_thread.run_sync"
        partial = ""
        if keywords:  # run_sync and run_in_executor take no keyword arguments: bind them first
            partial, extra = self._partial(call)
            needed = needed | extra
        laid = None if keywords or self._needs_parens(call) else self._laid_out(call, f"await {runner}(", lead)
        if laid is not None:
            return Rewrite([TextEdit(self._start(call), self._close(call) + 1, laid)], needed)
        indent = self._line_indent(call.args[0]) if call.args and isinstance(
            call.whitespace_before_args, cst.ParenthesizedWhitespace) else None
        nested = self._split_partial(call, f"await {runner}(", lead, partial, indent) if partial and indent else None
        if nested is not None:
            return Rewrite(nested, needed)
        separator = (self.newline + indent) if indent is not None else ""
        opening = f"await {runner}(" + "".join(f"{separator}{item}," + ("" if separator else " ") for item in lead)
        opening += separator + (f"{partial}(" if partial else "")
        opening, closing = self._wrap(call, opening, ")" if partial else "")
        start, paren = self._start(call), self._open(call)
        edits = [TextEdit(start, start, opening, rank=-self._size(call))] + closing
        if call.args:
            after = paren + 1
            if isinstance(call.whitespace_before_args, cst.SimpleWhitespace):  # else one argument per line
                after += len(call.whitespace_before_args.value)
            edits.append(TextEdit(paren, after, "," if indent is not None else ", "))
            last = call.args[-1]
            if indent is not None and not partial and not isinstance(last.comma, cst.Comma) and last.star != "*" \
                    and last.star != "**":
                # One argument a line, now with the function before them: the formatter's
                # delimiter split ends the last one with a comma.
                end = self._end(last.value)
                edits.append(TextEdit(end, end, ","))
        else:
            edits.append(TextEdit(paren, paren + 1, ""))
        return Rewrite(edits, needed)

    def _split_partial(self, call: cst.Call, opening: str, lead: List[str], partial: str,
                       indent: str) -> Optional[List[TextEdit]]:
        """A call split one argument a line, its arguments now bound by ``functools.partial``
        inside the offload call: the formatter's layout, the partial call one level deeper::

            handler = await loop.run_in_executor(
                None,
                functools.partial(
                    RotatingFileHandler,
                    filename="app.log",
                ),
            )

        None when the shape is not that plain one (the closing parenthesis alone on its line,
        its indentation a prefix of the arguments', no other rewrite inside): the small edits."""
        paren, close = self._open(call), self._close(call)
        where = self.positions[call]
        first, last = (where.start.line, where.start.column + 1), (where.end.line, where.end.column + 1)
        outer = self.text[self.starts[where.end.line - 1]:close]
        unit = indent[len(outer):]
        if outer.strip() or not indent.startswith(outer) or not unit or where.start.line != self._row(paren) \
                or any(first < site < last for site in self.sites):
            return None
        inner = f"{self.newline}{indent}"
        head = opening + "".join(f"{inner}{item}," for item in lead) + f"{inner}{partial}({inner}{unit}"
        head, closing = self._wrap(call, head, f",{self.newline}{outer})")
        start = self._start(call)
        edits = [TextEdit(start, start, head, rank=-self._size(call)), TextEdit(paren, paren + 1, ",")] + closing
        last_arg = call.args[-1]
        if not isinstance(last_arg.comma, cst.Comma) and not last_arg.star:
            end = self._end(last_arg.value)
            edits.append(TextEdit(end, end, ","))
        in_strings = self._rows_inside_strings(call)
        for row in range(self._row(paren) + 1, where.end.line + 1):
            line_start = self.starts[row - 1]
            if row not in in_strings and self.text[line_start:line_start + 1] not in ("\r", "\n", ""):
                edits.append(TextEdit(line_start, line_start, unit))
        return edits

    def _row(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def _rows_inside_strings(self, node: cst.CSTNode) -> Set[int]:
        """The rows a string literal in ``node`` continues on: their text is the string's."""
        rows: Set[int] = set()
        for found in cstwalk.descendants(node, (cst.SimpleString, cst.FormattedString)):
            where = self.positions[found]
            rows.update(range(where.start.line + 1, where.end.line + 1))
        return rows

    def _laid_out(self, call: cst.Call, opening: str, lead: List[str]) -> Optional[str]:
        """The whole rewritten call laid out as the project's formatter would (``layout``), when
        the line grows past its length or the call was split over lines; None: keep the small edits."""
        if call.args and isinstance(call.args[-1].comma, cst.Comma):
            return None  # a trailing comma keeps one argument a line: the small edits do that
        where = self.positions[call]
        first, last = (where.start.line, where.start.column + 1), (where.end.line, where.end.column + 1)
        if any(first < site < last for site in self.sites):
            return None  # a rewrite inside the arguments: the small edits compose with it
        items = [self.module.code_for_node(call.func)] + [self.module.code_for_node(
            arg.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=cst.SimpleWhitespace("")))
            for arg in call.args]
        start, close = self._start(call), self._close(call)
        original = self.text[start:close + 1]
        split = isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace)
        if split and not _right_hand_split(original, items[1:]):
            return None
        if not split and ("\n" in original or "\r" in original):
            return None
        row = self.positions[call].start.line
        line_end = self.starts[self.positions[call].end.line] if self.positions[call].end.line < len(self.starts) \
            else len(self.text)
        suffix = self.text[close + 1:line_end].rstrip("\r\n")
        laid = layout.lay_out(self.text[self.starts[row - 1]:start], opening, lead + items, suffix,
                              self.style.line_length, self.newline)
        if laid is None or (not split and "\n" not in laid):
            return None  # the small edits give the same text
        return laid

    def _pool(self, site: cst.CSTNode, module: str, name: str, local: Optional[str]) -> Tuple[str, Set[str]]:
        for candidate in dict.fromkeys(n for n in (local, name) if n):
            if self._binds(site, candidate, module, name):
                return candidate, set()
        if not self._bindings(site, name):
            return name, {f"{module}:{name}"}
        raise Refused(self._describe(site, name, f"the configured executor {module}.{name}"))

    def _pass_function(self, call: cst.Call) -> Rewrite:
        """``to_thread(f(a, k=v))`` -> ``to_thread(f, a, k=v)``: the eager call, the last
        positional argument of the offload call, gives its function and arguments to it."""
        arg = self.parents.get(call)
        outer = self.parents.get(arg) if isinstance(arg, cst.Arg) else None
        if not isinstance(outer, cst.Call) or not isinstance(arg, cst.Arg) or arg.keyword is not None or arg.star \
                or call.lpar:
            raise Refused("the call is not a plain argument of the offload call")
        if outer.args[-1] is not arg:
            raise Refused("the offload call passes more arguments after this call; passing the function would change what runs")
        keywords = any(a.keyword is not None or a.star == "**" for a in call.args)
        wrapper = _callee_name(outer.func)
        paren, close = self._open(call), self._close(call)
        if not call.args:
            return Rewrite([TextEdit(paren, close + 1, "")])
        one_per_line = isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace)
        separator = "," if one_per_line else ", "
        before = call.whitespace_before_args
        after = paren + 1 + (len(before.value) if isinstance(before, cst.SimpleWhitespace) else 0)
        if keywords and wrapper not in TAKES_KEYWORDS:
            partial, needed = self._partial(call)
            start = self._start(call)
            return Rewrite([TextEdit(start, start, f"{partial}(", rank=-self._size(call)),
                            TextEdit(paren, after, separator)], needed)
        if isinstance(call.args[-1].comma, cst.Comma) and isinstance(arg.comma, cst.Comma):
            raise Refused("both calls end with a trailing comma; splice it by hand")
        return Rewrite([TextEdit(paren, after, separator), TextEdit(close, close + 1, "")])


def _right_hand_split(original: str, arguments: Sequence[str]) -> bool:
    """The call's arguments alone on the line between its opening and closing lines."""
    lines = original.splitlines()
    return len(lines) == 3 and lines[1].strip() == ", ".join(arguments) and lines[2].strip() == ")"


def _callee_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


def _names(node: cst.CSTNode) -> Iterator[cst.Name]:
    """The names a callee expression reads (``time`` in ``time.sleep``)."""
    if isinstance(node, cst.Name):
        yield node
    elif isinstance(node, cst.Attribute):
        yield from _names(node.value)
