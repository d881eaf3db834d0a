"""``--fix``: rewrite blocking calls on the loop. The only code in offload that changes source.

Findings describe what to fix (their ``fix`` says how far it can be trusted); this module
applies them with libcst, so everything but the rewritten calls keeps its formatting:

    time.sleep(x)            -> await asyncio.sleep(x)
    f(a, k=v)                -> await asyncio.to_thread(f, a, k=v)
    obj.m(a)                 -> await asyncio.to_thread(obj.m, a)
    requests.get(u).json()   -> (await asyncio.to_thread(requests.get, u)).json()

In a module written for anyio or trio, their ``to_thread.run_sync`` / ``sleep`` are used; with
``target-version`` below py39, ``loop.run_in_executor``. A rewrite is refused (and the finding
left as it is) inside a generator expression, where ``await`` would turn it into an async
generator. Every fixed file is re-checked before it is written (see ``guard``).
"""
from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from detector import atomic, files
from detector.model import Applicability, Finding

Span = Tuple[int, int, int, int]


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


@dataclass
class FileFix:
    source: bytes
    fixed: bytes
    applied: List[Finding] = field(default_factory=list)
    skipped: List[Tuple[Finding, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.source


def wanted(finding: Finding, unsafe: bool) -> bool:
    if finding.fix is None:
        return False
    return finding.fix.applicability is Applicability.SAFE or (
        unsafe and finding.fix.applicability is Applicability.UNSAFE
    )


def _span(finding: Finding) -> Span:
    return (finding.location.row, finding.location.column, finding.end_location.row, finding.end_location.column)


# -- reading the module's imports ------------------------------------------------------------
def flavour_of(module: cst.Module, target_version: str = "py39", executor: Optional[str] = None) -> Flavour:
    aliases: Dict[str, str] = {}  # module name -> local alias
    imported: Dict[Tuple[str, str], str] = {}  # (module, name) -> local name
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = _dotted(alias.name)
                    local = alias.asname.name.value if alias.asname else name.split(".")[0]
                    if alias.asname or "." not in name:
                        aliases.setdefault(name, local)
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                if isinstance(small.names, cst.ImportStar):
                    continue
                source = _dotted(small.module)
                for alias in small.names:
                    local = alias.asname.name.value if alias.asname else _dotted(alias.name)
                    imported[(source, _dotted(alias.name))] = local
    uses = {name for name in aliases} | {source.split(".")[0] for source, _ in imported}
    functools_alias = aliases.get("functools")
    if "trio" in uses:
        return Flavour("trio", aliases.get("trio"), functools_alias=functools_alias)
    if "anyio" in uses:
        return Flavour("anyio", aliases.get("anyio"), functools_alias=functools_alias)
    configured = tuple(executor.split(":", 1)) if executor else None
    library = "asyncio" if (target_version >= "py39" or len(target_version) > 4) and not configured else "executor"
    return Flavour(
        library,
        aliases.get("asyncio"),
        to_thread_name=imported.get(("asyncio", "to_thread")) if library == "asyncio" else None,
        sleep_name=imported.get(("asyncio", "sleep")),
        functools_alias=functools_alias,
        executor=configured,
        executor_local=imported.get(configured) if configured else None,
    )


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


# -- building the replacement expressions ----------------------------------------------------
def _expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, targets: Dict[Span, Tuple[Finding, str]], flavour: Flavour):
        super().__init__()
        self.targets = targets
        self.flavour = flavour
        self.applied: List[Finding] = []
        self.skipped: List[Tuple[Finding, str]] = []
        self.needed: Set[str] = set()  # modules to import: the library, functools
        self.generator_depth = 0
        self.pass_function: Set[int] = set()  # ids of calls to splice into their parent's arguments

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.generator_depth += 1

    def leave_GeneratorExp(self, original: cst.GeneratorExp, updated: cst.GeneratorExp) -> cst.BaseExpression:
        self.generator_depth -= 1
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        updated = updated.with_changes(func=_parenthesised(updated.func))
        if any(id(arg.value) in self.pass_function for arg in updated.args):
            updated = updated.with_changes(args=_spliced(updated.args, self.pass_function))
        where = self.get_metadata(PositionProvider, original)
        span = (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)
        target = self.targets.pop(span, None)
        if target is None:
            return updated
        finding, remedy = target
        if self.generator_depth:
            self.skipped.append((finding, "inside a generator expression, `await` would make it an async generator"))
            return updated
        self.applied.append(finding)
        if remedy == "asyncio.sleep":
            return self._sleep(updated)
        if remedy == "await":
            return cst.Await(expression=updated)
        if remedy == "pass-function":
            self.pass_function.add(id(updated))
            return updated
        return self._to_thread(updated)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        return updated.with_changes(value=_parenthesised(updated.value))

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
        return updated.with_changes(value=_parenthesised(updated.value))

    # -- rewrites ------------------------------------------------------------------------------
    def _library(self) -> str:
        name = "asyncio" if self.flavour.library == "executor" else self.flavour.library
        self.needed.add(name)
        return self.flavour.module_alias or name

    def _sleep(self, call: cst.Call) -> cst.Await:
        if self.flavour.library == "asyncio" and self.flavour.sleep_name:
            func = _expr(self.flavour.sleep_name)
        else:
            func = _expr(f"{self._library()}.sleep")
        return cst.Await(expression=call.with_changes(func=func))

    def _to_thread(self, call: cst.Call) -> cst.Await:
        has_keywords = any(arg.keyword is not None or arg.star == "**" for arg in call.args)
        flavour = self.flavour
        layout = {"whitespace_before_args": call.whitespace_before_args}
        one_per_line = isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace)
        if flavour.library == "asyncio":
            func = _expr(flavour.to_thread_name or f"{self._library()}.to_thread")
            args = _prepend(call.func, call.args, one_per_line)
            return cst.Await(expression=cst.Call(func=func, args=args, **layout))
        # anyio/trio run_sync and run_in_executor take no keyword arguments: bind them first.
        inner = call.func
        args: Sequence[cst.Arg] = call.args
        if has_keywords:
            self.needed.add("functools")
            partial = _expr(f"{flavour.functools_alias or 'functools'}.partial")
            inner = cst.Call(func=partial, args=_prepend(call.func, call.args))
            args = ()
        if flavour.library == "executor":
            runner = _expr(f"{self._library()}.get_running_loop().run_in_executor")
            pool = _expr("None")
            if flavour.executor:
                pool = _expr(flavour.executor_local or flavour.executor[1])
                self.needed.add(":".join(flavour.executor))
            return cst.Await(expression=cst.Call(func=runner, args=_prepend(pool, _prepend(inner, args)), **layout))
        runner = _expr(f"{self._library()}.to_thread.run_sync")
        return cst.Await(expression=cst.Call(func=runner, args=_prepend(inner, args), **layout))


def _prepend(value: cst.BaseExpression, args: Sequence[cst.Arg], one_per_line: bool = False) -> List[cst.Arg]:
    """``value`` as a new first argument; in a call laid out one argument per line it gets a
    line of its own, separated like the first two arguments were."""
    if not args:
        return [cst.Arg(value=value)]
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if one_per_line and isinstance(args[0].comma, cst.Comma):
        comma = args[0].comma
    return [cst.Arg(value=value, comma=comma), *args]


def _spliced(args: Sequence[cst.Arg], calls: Set[int]) -> List[cst.Arg]:
    """``to_thread(f(a, k=v), b)`` -> ``to_thread(f, a, k=v, b)``, with plain ``, `` separators."""
    out: List[cst.Arg] = []
    for arg in args:
        if id(arg.value) in calls:
            inner = arg.value
            out.append(cst.Arg(value=inner.func))
            out.extend(inner.args)
        else:
            out.append(arg)
    return [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in out]


def _parenthesised(node: cst.BaseExpression) -> cst.BaseExpression:
    """``await x`` used as a primary (``(await x).attr``, ``(await x)()``, ``(await x)[i]``) needs parentheses."""
    if isinstance(node, cst.Await) and not node.lpar:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


# -- imports -----------------------------------------------------------------------------------
def _add_imports(module: cst.Module, needed: Set[str], flavour: Flavour) -> cst.Module:
    """``import asyncio`` (or anyio/trio/functools) once, unless the module already binds it."""
    have = {flavour.library if flavour.library != "executor" else "asyncio": flavour.module_alias,
            "functools": flavour.functools_alias}
    if flavour.executor:
        have[":".join(flavour.executor)] = flavour.executor_local
    missing = sorted((name for name in needed if have.get(name) is None), key=lambda n: (":" in n, n))
    if not missing:
        return module
    statements = [
        cst.parse_statement(
            f"from {name.split(':')[0]} import {name.split(':')[1]}" if ":" in name else f"import {name}",
            config=module.config_for_parsing,
        )
        for name in missing
    ]
    body = list(module.body)
    index = _import_position(body)
    return module.with_changes(body=body[:index] + statements + body[index:])


def _import_position(body: List[cst.CSTNode]) -> int:
    """After the module docstring and the leading block of import lines."""
    index = 1 if body and _is_docstring(body[0]) else 0
    while index < len(body):
        statement = body[index]
        if not (isinstance(statement, cst.SimpleStatementLine)
                and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)):
            break
        index += 1
    return index


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


# -- one file ----------------------------------------------------------------------------------
def fix_source(
    source: bytes,
    findings: Sequence[Finding],
    remedies: Dict[str, str],
    unsafe: bool = False,
    target_version: str = "py39",
    executor: Optional[str] = None,
) -> FileFix:
    """Apply the fixes of ``findings`` (all in this file) that ``unsafe`` allows.

    ``remedies`` maps a rule code to its remedy (catalog.REMEDIES).
    """
    chosen = [f for f in findings if wanted(f, unsafe)]
    result = FileFix(source=source, fixed=source)
    if not chosen:
        return result
    module = cst.parse_module(source)
    flavour = flavour_of(module, target_version, executor)
    targets = {_span(f): (f, remedies.get(f.code, "to_thread")) for f in chosen}
    rewriter = _Rewriter(targets, flavour)
    fixed = MetadataWrapper(module, unsafe_skip_copy=True).visit(rewriter)
    result.skipped = rewriter.skipped + [(f, "the call was not found where it was reported") for f, _ in rewriter.targets.values()]
    result.applied = rewriter.applied
    if rewriter.applied:
        fixed = _add_imports(fixed, rewriter.needed, flavour)
        result.fixed = fixed.bytes
    return result


def diff(path: str, before: bytes, after: bytes, encoding: str = "utf-8") -> str:
    old = before.decode(encoding, errors="replace").splitlines(keepends=True)
    new = after.decode(encoding, errors="replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, fromfile=f"a/{path}", tofile=f"b/{path}"))


# -- whole runs ----------------------------------------------------------------------------------
class FixGuardError(RuntimeError):
    """A rewrite that would not re-check clean: the file is left untouched."""


def guard(path: str, result: FileFix, unsafe: bool, config) -> None:
    """The fixed module parses, each applied fix removed exactly its finding, and no fixable
    finding appeared (so fixing again has nothing left to do for these findings)."""
    from detector.runner import check_source

    try:
        cst.parse_module(result.fixed)
    except cst.ParserSyntaxError as exc:
        raise FixGuardError(f"{path}: the rewrite does not parse ({exc.message.splitlines()[0]})") from None
    after = check_source(result.fixed, path, config)
    if any(f.code.startswith("BLK9") for f in after):
        raise FixGuardError(f"{path}: the rewrite is not analysable")

    def fixable(findings: Sequence[Finding]) -> Counter:
        return Counter((f.code, f.function, f.call) for f in findings if wanted(f, unsafe))

    expected = fixable(check_source(result.source, path, config))
    expected.subtract(fixable(result.applied))
    if +expected != +fixable(after) or any(count < 0 for count in expected.values()):
        raise FixGuardError(f"{path}: the rewrite does not re-check clean; file left unchanged")


@dataclass
class FixRun:
    files: Dict[str, FileFix] = field(default_factory=dict)  # only files with applied fixes
    errors: List[str] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return sum(len(f.applied) for f in self.files.values())


def fix_findings(findings: Sequence[Finding], config, unsafe: bool = False, write: bool = True) -> FixRun:
    """Apply the fixes of ``findings`` file by file; with ``write=False`` only compute them (``--diff``)."""
    from detector.runner import effective_catalog

    remedies = {code: rule.remedy for code, rule in effective_catalog(config).rules.items()}
    by_file: Dict[str, List[Finding]] = {}
    for finding in findings:
        if wanted(finding, unsafe):
            by_file.setdefault(finding.filename, []).append(finding)
    run = FixRun()
    for name, chosen in sorted(by_file.items()):
        path = Path(name)
        try:
            try:
                source = files.read_file(path).data
            except files.UnreadableFile as exc:
                raise OSError(exc.reason) from None
            result = fix_source(source, chosen, remedies, unsafe, config.target_version, config.executor)
            if not result.changed:
                continue
            guard(name, result, unsafe, config)
            if write:
                atomic.write_bytes(path, result.fixed)
        except (OSError, FixGuardError, cst.ParserSyntaxError) as exc:
            run.errors.append(str(exc) if isinstance(exc, FixGuardError) else f"{name}: cannot fix: {exc}")
            continue
        run.files[name] = result
    return run
