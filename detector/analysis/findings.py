"""Turn resolved calls inside async functions into Finding records with messages and fixes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from detector.analysis import offload, primitives
from detector.analysis.fixpolicy import Policy, Spelling
from detector.analysis.project import Project, RuleTarget
from detector.analysis.summary import (
    ACCESS, AWAITED, HANDED_ON, IN_LOOP, ITERATED, KEYWORDS, OFFLOAD_ARG, STATEMENT_FORM, SUSPENDS, THREAD_ARG, UNION,
    WITH_ITEM, CallRecord, FunctionSummary, ModuleSummary, short_name, union_members,
)
from detector.catalog import STATEMENT_MESSAGE, Rule
from detector.display import one_line
from detector.model import Applicability, Finding, Location, Related
from detector.suppress import is_suppressed

if TYPE_CHECKING:
    from detector.analysis.threadsafety import ThreadSafety


# Openers the async libraries have twins of (``anyio.open_file``, ``trio.open_file``).
ASYNC_OPEN = frozenset({"open", "io.open"})
_LISTED = 5  # line numbers of a block's file calls named in its message


def _lines(rows: Sequence[int]) -> str:
    shown = ", ".join(str(row) for row in rows[:_LISTED])
    more = f" and {len(rows) - _LISTED} more" if len(rows) > _LISTED else ""
    return f"line{'s' if len(rows) > 1 else ''} {shown}{more}"


def _spelled(spelling: Spelling, call: CallRecord) -> str:
    return spelling.rewrite(one_line(call.text), call.args, bool(call.flags & KEYWORDS))


def move_the_block(spelling: Spelling, uses: str = "") -> str:
    """The advice for a ``with`` block that has to move to a worker thread whole."""
    how = f"with `{spelling.runner()}`" if spelling.library is not None else "in a worker thread"
    return f"move the `with` block{uses} into a sync function and run that {how}"


def _with_block(call: CallRecord, spelling: Spelling, members: Sequence[CallRecord], alternative: str) -> Tuple[str, str]:
    """Advice and no-fix reason for ``with opener(...) as f:``, whose calls on ``f`` are ``members``."""
    name = call.opened_as
    if not call.flags & SUSPENDS:
        uses = f", with its calls on `{name}` ({_lines([m.row for m in members])})," if members else ""
        return (move_the_block(spelling, uses) + alternative,
                "the whole `with` block has to move to the thread, not only this call")
    reason = ("the `with` block awaits or yields: it cannot move to a thread, and offloading only this call "
              "leaves the calls on the file on the loop")
    cannot = "the block awaits, so it cannot move into a sync function: "
    if spelling.library in ("anyio", "trio") and call.target in ASYNC_OPEN:
        target = f" as {name}" if name else ""
        return (cannot + f"use `async with await {spelling.library}.open_file({call.args}){target}:` "
                "and await the file's methods", reason)
    if spelling.library is None:
        return cannot + "open the file, call its methods and close it each in a worker thread" + alternative, reason
    if not members:  # the name the file is bound to is not known here
        return (cannot + f"open the file with `{_spelled(spelling, call)}`, and call its methods and close it "
                f"(in a `finally:`) through `{spelling.runner()}` too" + alternative, reason)
    more = " and likewise the others" if len(members) > 1 else ""
    return (cannot + f"open the file with `{name} = {_spelled(spelling, call)}`, call its methods with "
            f"`{_spelled(spelling, members[0])}`{more} ({_lines([m.row for m in members])}), and close it in a "
            f"`finally:` with `{spelling.call(name + '.close')}`" + alternative, reason)


def remedy_text(rule: Rule, call: CallRecord, lazy: bool, spelling: Spelling,
                stream: bool = False, members: Sequence[CallRecord] = (),
                shared: Optional[str] = None, api: str = "") -> Tuple[str, Applicability, str]:
    """The advice part of a message, how far an automatic rewrite of it can be trusted, and
    (for a suggestion) why there is no rewrite. ``members``: the calls on the file a ``with``
    item opens, reported with it; ``shared``: the sync function that shares the lock or queue
    ``call`` waits on ("" none, None unknown); ``api``: the catalogue's name of what ``call`` runs."""
    suggested = rule.alternative_for(api or call.target)
    alternative = f", or use {suggested}" if suggested else ""
    if rule.remedy == "asyncio.sleep":
        if rule.fix == "none":
            return spelling.sleep(call.args), Applicability.SUGGESTION, f"`offload rule {rule.code}`: no automatic rewrite"
        return spelling.sleep(call.args), Applicability(rule.fix), ""
    if rule.remedy == "none":
        fitted = primitives.advice(call, api or call.target, spelling, shared)
        advice = fitted or (f"use {suggested}" if suggested else "do not call it from async code")
        return advice, Applicability.SUGGESTION, f"no automatic rewrite for {rule.code} (`offload rule {rule.code}`)"
    if call.flags & STATEMENT_FORM:
        return statement_advice(call, spelling, alternative), Applicability.SUGGESTION, \
            "a statement, not a call: it cannot be wrapped"
    if call.flags & WITH_ITEM:
        advice, reason = _with_block(call, spelling, members, alternative)
        return advice, Applicability.SUGGESTION, reason
    if call.flags & (ITERATED | HANDED_ON) and stream:
        how = "iterating it" if call.flags & ITERATED else "the call it is passed to"
        runner = f"`{spelling.runner()}`" if spelling.library is not None else "a worker thread"
        why = "the thread reads the file, but opening it still waits on the loop" if call.flags & THREAD_ARG \
            else f"offloading only the call would leave the reads ({how}) on the loop"
        return (
            f"{'open' if call.flags & THREAD_ARG else 'read'} the file in the thread too: a sync function that "
            f"opens, reads and closes it, run with {runner}" + alternative,
            Applicability.SUGGESTION,
            why,
        )
    if lazy:
        return (
            f"its result is lazy: consume it in a thread, e.g. {spelling.consume(call)}" + alternative,
            Applicability.SUGGESTION,
            "its result is lazy: offloading the call alone leaves the work on the loop",
        )
    if call.flags & IN_LOOP:
        return (
            f"{spelling.offload(call)}, or better offload the whole loop once (a sync function that "
            "loops, run in one thread job)" + alternative,
            Applicability.SUGGESTION,
            "inside a loop: a rewrite would start one thread job per iteration",
        )
    kind = {"safe": Applicability.SAFE, "unsafe": Applicability.UNSAFE}.get(rule.fix, Applicability.SUGGESTION)
    reason = "" if kind is not Applicability.SUGGESTION else f"no automatic rewrite for {rule.code}"
    unknown = offload.module_code_reason(api or call.target, call.args)
    if unknown and kind is not Applicability.SUGGESTION:
        kind, reason = Applicability.SUGGESTION, unknown
    return spelling.offload(call) + alternative, kind, reason


def statement_advice(call: CallRecord, spelling: Spelling, alternative: str) -> str:
    """Advice for the statements offload reports: an ``import`` and a ``for`` over a file."""
    if call.text.startswith(("import ", "from ")):
        return (f"import it at module level, or load it in a thread "
                f"(`{spelling.call('importlib.import_module, name')}`) before the loop needs it")
    return f"read the file in a thread, e.g. `lines = {spelling.call('f.readlines')}`" + alternative


def shown(call: CallRecord) -> str:
    """A call as the message names it: ``open()``; a statement as written: ``import x``."""
    return call.text if call.flags & STATEMENT_FORM else f"{one_line(call.text)}()"


def _title(rule: Rule, call: CallRecord, spelling: Spelling, stream: bool, lazy: bool, advice: str) -> str:
    """The fix's title: the rewrite, unless the advice is not a rewrite of the call."""
    if rule.remedy == "none":
        return advice[:1].upper() + advice[1:]  # wrapping the call would not do (``format_exc()`` in a thread)
    if call.flags & STATEMENT_FORM:
        return spelling.title(rule.remedy)  # a statement has no call to spell in a rewrite
    if rule.remedy == "to_thread" and call.flags & WITH_ITEM:
        return "Move the `with` block to a worker thread"
    if rule.remedy == "to_thread" and (lazy or (stream and call.flags & (ITERATED | HANDED_ON))):
        return "Consume the result in a worker thread"
    return spelling.title(rule.remedy, call)


def several_types(call: CallRecord) -> str:
    """`` (`f` is a Path or a Session here; both block)`` for a call on a name of several types."""
    if UNION not in call.target:
        return ""
    types = [_type_name(member.rpartition(".")[0]) for member in union_members(call.target)]
    listed = " or ".join(f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind}" for kind in types)
    return f" (`{call.text.rpartition('.')[0]}` is {listed} here; {'both block' if len(types) == 2 else 'each blocks'})"


def _type_name(owner: str) -> str:
    return "file object" if owner == "io.IOBase" else owner.rpartition(".")[2]


def where(call: CallRecord) -> str:
    """`` (it blocks on Windows only)`` for a call under a platform test; which types the receiver
    may have, for a call on a name of several (`` (`f` is a Path or a file object here; both block)``)."""
    return (f" (it blocks {call.platform})" if call.platform else "") + several_types(call)


def direct_finding(project: Project, module: ModuleSummary, function: FunctionSummary, call: CallRecord, rule: Rule,
                   api: str, policy: Policy, members: Sequence[Tuple[CallRecord, Rule]] = (),
                   safety: Optional["ThreadSafety"] = None) -> Finding:
    fn = short_name(function, module)
    spelling = policy.spelling(module)
    # A file object handed on or iterated is read where it is used, not where it is opened.
    stream = policy.returns_stream(api)
    shared = primitives.sharer(project, module, function, call, api) if api in primitives.SHARED else None
    lazy = rule.is_lazy(api, policy.config.target_version)
    advice, applicability, reason = remedy_text(rule, call, lazy, spelling, stream, [m for m, _ in members], shared, api)
    if rule.remedy == "to_thread" and not reason and safety is not None:
        reason = safety.argument_hazard(module, function, call) or ""
    return Finding(
        code=rule.code,
        name=rule.name,
        message=(STATEMENT_MESSAGE.format(statement=call.text, function=fn, advice=advice)
                 if call.flags & STATEMENT_FORM
                 else rule.render(call=one_line(call.text), function=fn, platform=where(call), advice=advice)),
        filename=module.path,
        location=Location(call.row, call.col),
        end_location=Location(call.end_row, call.end_col),
        fix=policy.fix(module, applicability, _title(rule, call, spelling, stream, lazy, advice), reason, call),
        call=call.text,
        function=fn,
        related=tuple(Related(module.path, m.row, m.col, one_line(m.text), r.code) for m, r in members),
    )


def suppressed(module: ModuleSummary, call: CallRecord, codes: Iterable[str]) -> bool:
    return is_suppressed(module.noqa, (call.row, call.end_row), codes)


def calls_in_async_functions(project: Project, policy: Policy) -> Iterator[Tuple[ModuleSummary, FunctionSummary, CallRecord]]:
    """Every call recorded in an async function run by the loop, in a file that is not skipped."""
    for module in project.own_summaries:
        if module.skip_file:
            continue
        for function in module.functions:
            if function.is_async and policy.on_loop(function):
                for call in function.calls:
                    yield module, function, call


def direct_findings(project: Project, policy: Policy, safety: Optional["ThreadSafety"] = None) -> List[Finding]:
    """Blocking calls written (or resolved through attributes) inside async functions. The calls
    on a file that ``with open(...) as f:`` opens are reported with the ``open``, not alone."""
    findings: List[Finding] = [d for module in project.own_summaries for d in module.diagnostics]
    for module in project.own_summaries:
        if module.skip_file:
            continue
        for function in module.functions:
            if function.is_async and policy.on_loop(function):
                findings.extend(_function_findings(project, policy, module, function, safety))
    return findings


def _function_findings(project: Project, policy: Policy, module: ModuleSummary, function: FunctionSummary,
                       safety: Optional["ThreadSafety"] = None) -> Iterator[Finding]:
    found: List[Tuple[CallRecord, Rule, str, bool]] = []  # call, rule, catalogue name, suppressed
    for call in function.calls:
        if call.flags & (AWAITED | ACCESS | OFFLOAD_ARG):
            continue  # OFFLOAD_ARG calls are BLK301's
        resolved = project.resolve(call.target)
        if not isinstance(resolved, RuleTarget) or project.loaded_elsewhere(call):
            continue
        rule, name = resolved.rule, resolved.name
        if call.runs_mock_of(name):
            continue  # ``with mock.patch("time.sleep"):``: the call runs the mock
        if project.loaded_already(module, name):
            continue  # ``mimetypes.guess_type()`` after ``mimetypes.add_type()`` at import
        if call.memory_attribute and project.bound_in_memory(function, call.memory_attribute):
            continue  # ``gzip.GzipFile(fileobj=self.buffer)`` with ``self.buffer = io.BytesIO()``
        found.append((call, rule, name, suppressed(module, call, (rule.code,) + rule.peer_codes)))
    # A ``with`` item that opens a file heads its block's calls on the file; silenced by noqa, it
    # silences them too. Not selected (``ignore``, per-file-ignores), it heads nothing.
    openers = {(call.row, call.col) for call, rule, name, _ in found
               if call.flags & WITH_ITEM and rule.remedy == "to_thread" and policy.returns_stream(name)
               and policy.config.is_selected(rule.code, module.path)}
    members: Dict[Tuple[int, int], List[Tuple[CallRecord, Rule]]] = {}
    for call, rule, _, silenced in found:
        if (call.block_row, call.block_col) in openers and not silenced:
            members.setdefault((call.block_row, call.block_col), []).append((call, rule))
    for call, rule, name, silenced in found:
        if not silenced and (call.block_row, call.block_col) not in openers:
            yield direct_finding(project, module, function, call, rule, name, policy, members.get((call.row, call.col), ()),
                                 safety)
