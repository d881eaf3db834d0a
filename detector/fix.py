"""``--fix``: rewrite blocking calls on the loop. The only code in offload that changes source.

Findings describe what to fix (their ``fix`` says how far it can be trusted); ``detector.rewrite``
turns each into text edits (from one parse of its file), which this module applies:

    time.sleep(x)            -> await asyncio.sleep(x)
    f(a, k=v)                -> await asyncio.to_thread(f, a, k=v)
    obj.m(a)                 -> await asyncio.to_thread(obj.m, a)
    requests.get(u).json()   -> (await asyncio.to_thread(requests.get, u)).json()

In a module written for anyio or trio, their ``to_thread.run_sync`` / ``sleep`` are used; with
``target-version`` below py39, ``loop.run_in_executor``. A rewrite that would be wrong is
refused with its reason, and the finding stays. The fixed files are compiled and re-checked
with the whole project before anything is written (see ``fix_findings``).
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple, Union

from detector import atomic, files, style
from detector.style import Style
from detector.model import Applicability, Finding

if TYPE_CHECKING:
    from detector.cache import Cache
    from detector.config import Config
    from detector.rewrite import FilePlan
    from detector.runner import CheckResult


@dataclass
class FileFix:
    source: bytes
    fixed: bytes
    applied: List[Finding] = field(default_factory=list)
    skipped: List[Tuple[Finding, str]] = field(default_factory=list)  # wanted, not applied: why
    findings: List[Finding] = field(default_factory=list)  # every finding, with its edits or refusal
    removed: Set[str] = field(default_factory=set)  # names whose import the fixes removed

    @property
    def changed(self) -> bool:
        return self.fixed != self.source


def wanted(finding: Finding, unsafe: bool) -> bool:
    if finding.fix is None:
        return False
    return finding.fix.applicability is Applicability.SAFE or (
        unsafe and finding.fix.applicability is Applicability.UNSAFE
    )


# -- one file ----------------------------------------------------------------------------------
def _read(name: str) -> bytes:
    try:
        return files.read_file(name).data
    except files.UnreadableFile as exc:
        raise OSError(exc.reason) from None


def _remedies(config: Config) -> Dict[str, str]:
    from detector.config import effective_catalog

    return {code: rule.remedy for code, rule in effective_catalog(config).rules.items()}


def project_style(config: Config) -> Style:
    """The import order and line length of the project the config belongs to."""
    return style.load(config.root)


def fix_source(
    source: bytes,
    findings: Sequence[Finding],
    remedies: Dict[str, str],
    unsafe: bool = False,
    target_version: str = "py39",
    executor: Optional[str] = None,
    filename: str = "<unknown>",
    style: Optional[Style] = None,
    keep: AbstractSet[str] = frozenset(),
) -> FileFix:
    """Apply the fixes of ``findings`` (all in this file) that ``unsafe`` allows.

    ``remedies`` maps a rule code to its remedy (catalog.REMEDIES). ``findings`` of the result
    carry each fix's edits, or a SUGGESTION with the reason its rewrite is refused. Imports
    of the names in ``keep`` stay, also when the fixes leave them unused.
    """
    from detector import rewrite

    plan = rewrite.plan(source, findings, remedies, filename, target_version, executor, style or Style())
    return fix_planned(source, plan, unsafe, style, keep)


def fix_planned(source: bytes, plan: FilePlan, unsafe: bool, style: Optional[Style] = None,
                keep: AbstractSet[str] = frozenset()) -> FileFix:
    """``fix_source`` once the findings' rewrites are planned."""
    from detector import rewrite

    findings = plan.findings
    result = FileFix(source=source, fixed=source, findings=list(findings))
    edits, applied, skipped = plan.edits([i for i, f in enumerate(findings) if wanted(f, unsafe)], keep)
    result.removed = plan.removed(applied, keep)
    result.applied = [findings[i] for i in applied]
    result.skipped = [(findings[i], reason) for i, reason in skipped]
    result.findings = rewrite.annotate(plan)
    if applied:
        result.fixed = _split_long_lines(source, plan.fixed(edits), (style or Style()).line_length)
    return result


def _split_long_lines(source: bytes, fixed: bytes, line_length: int) -> bytes:
    """``fixed`` with the lines its rewrites made too long split as the formatter would
    (``relayout``); UTF-8 sources only."""
    from detector import relayout

    try:
        before, after = source.decode("utf-8"), fixed.decode("utf-8")
    except UnicodeDecodeError:
        return fixed
    newline = "\r\n" if "\r\n" in after else "\n"
    return relayout.relayout(before, after, line_length, newline).encode("utf-8")


class _Planned(NamedTuple):
    """One file's findings with a fix, planned (``detector.rewrite``)."""

    indices: List[int]  # the file's findings, by index in the whole list
    source: bytes
    plan: FilePlan
    style: Style


class _ToPlan(NamedTuple):
    """A file holding a fix to plan: its findings, by index in the whole list."""

    name: str
    indices: List[int]


def _to_plan(findings: Sequence[Finding]) -> Iterator[_ToPlan]:
    by_file: Dict[str, List[int]] = {}
    for index, finding in enumerate(findings):
        by_file.setdefault(finding.filename, []).append(index)
    for name, indices in by_file.items():
        if any(fix is not None and fix.applicability is not Applicability.SUGGESTION
               for fix in (findings[i].fix for i in indices)):
            yield _ToPlan(name, indices)


class _Planner:
    """Plans files one at a time, with what every plan of the run shares (the project's style,
    read once and only when a file needs it)."""

    def __init__(self, config: Config, sources: Optional[Mapping[str, bytes]]):
        self.config = config
        self.sources = sources
        self.remedies = _remedies(config)
        self._style: Optional[Style] = None

    @property
    def style(self) -> Style:
        if self._style is None:
            self._style = project_style(self.config)
        return self._style

    def source(self, name: str) -> bytes:
        return self.sources[name] if self.sources is not None and name in self.sources else _read(name)

    def plan(self, name: str, source: bytes, group: Sequence[Finding]) -> FilePlan:
        from detector import rewrite

        return rewrite.plan(source, group, self.remedies, name, self.config.target_version, self.config.executor,
                            self.style)


def _planned_files(findings: Sequence[Finding], config: Config, sources: Optional[Mapping[str, bytes]]) -> Iterator[_Planned]:
    """The plan of each file holding a fix to plan (one read and one parse per file). A file
    that cannot be read or parsed has none."""
    planner = _Planner(config, sources)
    for name, indices in _to_plan(findings):
        try:
            source = planner.source(name)
            planned = planner.plan(name, source, [findings[i] for i in indices])
        except Exception:  # unreadable, does not parse, or a bug in offload: no fix offered for this file
            continue
        yield _Planned(indices, source, planned, planner.style)


def plan_findings(findings: Sequence[Finding], config: Config, sources: Optional[Mapping[str, bytes]] = None) -> List[Finding]:
    """``findings`` with their fixes' edits attached (or refused, with the reason). Sources come
    from disk unless given."""
    out = list(findings)
    for planned in _planned_files(findings, config, sources):
        try:
            fixed = fix_planned(planned.source, planned.plan, True, planned.style)
        except Exception:  # a bug in offload: no fix offered for this file
            continue
        for index, finding in zip(planned.indices, fixed.findings):
            out[index] = finding
    return out


def with_refusals(findings: Sequence[Finding], config: Config, sources: Optional[Mapping[str, bytes]] = None,
                  use_cache: bool = False) -> List[Finding]:
    """``findings`` as a check reports them: a fix the rewrite would refuse is a suggestion with
    the reason (so "fixable" counts only what ``--fix`` would fix); other fixes unchanged. This
    needs the plans' refusals only, not their edits. ``use_cache``: keep them in the project's
    cache (``detector.cache``) for the files read from disk, so a file whose findings did not
    change is not parsed again."""
    out = list(findings)
    files_to_plan = list(_to_plan(findings))
    store = _open_cache(config) if use_cache and files_to_plan else None
    planner = _Planner(config, sources)
    try:
        for name, indices in files_to_plan:
            group = [findings[i] for i in indices]
            try:
                refused = _refusals(planner, store if sources is None or name not in sources else None, name, group)
            except Exception:  # unreadable, does not parse, or a bug in offload: no fix offered for this file
                continue
            for position, reason in refused.items():
                out[indices[position]] = group[position].refused(reason)
    finally:
        if store is not None:
            store.save()
    return out


def _refusals(planner: _Planner, store: Optional[Cache], name: str, group: Sequence[Finding]) -> Dict[int, str]:
    """What the plan of file ``name`` refuses (a finding's position in ``group`` -> why), from the
    cache when it holds the plan of these same inputs."""
    source = planner.source(name)
    if store is None:
        return planner.plan(name, source, group).refused
    key = store.plan_key(*_plan_inputs(planner, name, source, group))
    refused = store.load_refusals(key)
    if refused is None or not all(0 <= position < len(group) and group[position].fix is not None for position in refused):
        refused = planner.plan(name, source, group).refused
        store.store_refusals(key, refused)
    return refused


def _open_cache(config: Config) -> Optional[Cache]:
    from detector import cache as cache_module

    store, _ = cache_module.open_cache(config.root, cache_module.salt(config))  # a warning: the check gave it
    return store


def _plan_inputs(planner: _Planner, name: str, source: bytes, group: Sequence[Finding]) -> Tuple[str, ...]:
    """Everything the plan of one file's fixes depends on, as text (the findings' reprs: frozen
    records of strings, numbers and enums)."""
    from detector import cache as cache_module

    config = planner.config
    return (cache_module.digest(source), name, repr(list(group)), repr(sorted(planner.remedies.items())),
            config.target_version, repr(config.executor), repr(planner.style))


# -- whole runs ----------------------------------------------------------------------------------
class FixGuardError(RuntimeError):
    """A rewrite that would not re-check clean: the file is left untouched."""


def _compiles(data: bytes, path: str) -> bool:
    try:
        compile(data, path, "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def check_syntax(path: str, result: FileFix) -> None:
    """The fixed module parses, and compiles whenever the original did (``await`` where Python
    forbids it, e.g. in an annotation, only fails at compile time)."""
    import libcst as cst

    try:
        cst.parse_module(result.fixed)
    except cst.ParserSyntaxError as exc:
        raise FixGuardError(f"{path}: the rewrite does not parse ({exc.message.splitlines()[0]})") from None
    if not _compiles(result.fixed, path) and _compiles(result.source, path):
        raise FixGuardError(f"{path}: the rewrite does not compile")


def _fixable(findings: Sequence[Finding], unsafe: bool) -> Counter[Tuple[str, str, str]]:
    return Counter((f.code, f.function, f.call) for f in findings if wanted(f, unsafe))


def _rechecks_clean(before: Sequence[Finding], applied: Sequence[Finding], after: Sequence[Finding], unsafe: bool) -> bool:
    """Each applied fix removed exactly its finding, and no fixable finding appeared (so fixing
    again has nothing left to do for these findings)."""
    expected = _fixable(before, unsafe)
    expected.subtract(_fixable(applied, unsafe))
    return +expected == +_fixable(after, unsafe) and not any(count < 0 for count in expected.values())


def guard(path: str, result: FileFix, unsafe: bool, config: Config) -> None:
    """``result`` checked on its own (for one module; runs use the whole project's re-check)."""
    from detector.runner import check_source

    check_syntax(path, result)
    after = check_source(result.fixed, path, config)
    if any(f.code.startswith("BLK9") for f in after):
        raise FixGuardError(f"{path}: the rewrite is not analysable")
    if not _rechecks_clean(check_source(result.source, path, config), result.applied, after, unsafe):
        raise FixGuardError(f"{path}: the rewrite does not re-check clean; file left unchanged")


@dataclass
class FixRun:
    files: Dict[str, FileFix] = field(default_factory=dict)  # only files with applied fixes
    refused: List[Tuple[Finding, str]] = field(default_factory=list)  # wanted fixes not applied, and why
    errors: List[str] = field(default_factory=list)  # files that could not be read or written
    remaining: Optional[CheckResult] = None  # the project's CheckResult after the fixes (None: unchanged)

    @property
    def applied(self) -> int:
        return sum(len(f.applied) for f in self.files.values())


# A file refused by the project re-check is taken out and the rest re-checked, at most this often.
_GUARD_ROUNDS = 3


def fix_findings(findings: Sequence[Finding], config: Config, unsafe: bool = False, write: bool = True,
                 paths: Optional[Sequence[Union[str, Path]]] = None, run_options: Optional[Dict[str, Any]] = None) -> FixRun:
    """Fix the ``findings`` (of a check of ``paths``) file by file; with ``write=False`` only
    compute the fixes (``--diff``). The fixed files are re-checked together with the rest of
    the project, as the check saw them, before anything is written."""
    from detector import runner

    remedies = _remedies(config)
    by_file: Dict[str, List[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.filename, []).append(finding)
    run = FixRun()
    candidates: Dict[str, FileFix] = {}
    for name, group in sorted(by_file.items()):
        if not any(wanted(f, unsafe) for f in group):
            continue
        try:
            result = fix_source(_read(name), group, remedies, unsafe, config.target_version,
                                config.executor, name, project_style(config))
        except OSError as exc:
            run.errors.append(f"{name}: cannot fix: {exc}")
            continue
        except Exception as exc:  # the file does not parse, or a bug in offload: this file only
            run.refused.extend((f, f"the file cannot be rewritten ({type(exc).__name__})") for f in group if wanted(f, unsafe))
            continue
        run.refused.extend(result.skipped)
        if not result.changed:
            continue
        try:
            check_syntax(name, result)
        except FixGuardError as exc:
            run.refused.extend((f, str(exc).split(": ", 1)[-1]) for f in result.applied)
            continue
        candidates[name] = result

    before = _by_file(findings)
    rounds = 0
    while candidates:
        rounds += 1
        after = runner.check_paths(paths or sorted(by_file), config, overrides={
            name: result.fixed for name, result in candidates.items()}, **(run_options or {}))
        now = _by_file(after.findings)
        # An import another module of the project takes from the file (``from app.util import
        # time``) stays: the file is fixed again with it, and checked again with the project.
        kept = {name: result.removed & after.taken[name] for name, result in candidates.items()
                if result.removed & after.taken.get(name, set())}
        for name, names in kept.items():
            result = candidates[name]
            candidates[name] = fix_source(result.source, by_file[name], remedies, unsafe, config.target_version,
                                          config.executor, name, project_style(config), keep=names)
        failed = [name for name, result in candidates.items() if name not in kept and (
                  any(f.code.startswith("BLK9") for f in now.get(name, ()))
                  or not _rechecks_clean(before.get(name, []), result.applied, now.get(name, []), unsafe))]
        for name in failed:
            reason = "the rewritten file does not re-check clean in the project; file left unchanged"
            run.refused.extend((f, reason) for f in candidates.pop(name).applied)
        if not failed and not kept:
            run.remaining = after
            break
        if rounds >= _GUARD_ROUNDS:
            for name in list(candidates):
                run.refused.extend((f, "the project does not re-check clean; file left unchanged")
                                   for f in candidates.pop(name).applied)
    for name, result in candidates.items():
        if write:
            try:
                atomic.write_bytes(Path(name), result.fixed, expected=result.source)
            except OSError as exc:
                run.errors.append(f"{name}: cannot fix: {exc}")
                continue
        run.files[name] = result
    if write and run.remaining is not None:
        run.refused = _where_they_are_now(run.refused, set(run.files), run.remaining.findings)
    run.refused.sort(key=lambda item: item[0].sort_key())
    return run


def _where_they_are_now(refused: List[Tuple[Finding, str]], written: Set[str],
                        now: Sequence[Finding]) -> List[Tuple[Finding, str]]:
    """Refusals in a file that was rewritten, at their place in the file as written (lines move
    when an import is added): matched in order with the findings of the re-check that have the
    same code, call and function (and the same reason for having no fix, when one has it)."""
    def key(finding: Finding) -> Tuple[str, str, str, str]:
        return finding.filename, finding.code, finding.call, finding.function

    after: Dict[Tuple[str, str, str, str], List[Finding]] = {}
    for finding in sorted(now, key=Finding.sort_key):
        if finding.filename in written:
            after.setdefault(key(finding), []).append(finding)
    moved = []
    for finding, reason in sorted(refused, key=lambda item: item[0].sort_key()):
        same = after.get(key(finding), [])
        found = next((f for f in same if f.fix is not None and f.fix.reason == reason), same[0] if same else None)
        if found is not None:
            same.remove(found)
            finding = dataclasses.replace(finding, location=found.location, end_location=found.end_location)
        moved.append((finding, reason))
    return moved


def _by_file(findings: Sequence[Finding]) -> Dict[str, List[Finding]]:
    out: Dict[str, List[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.filename, []).append(finding)
    return out
