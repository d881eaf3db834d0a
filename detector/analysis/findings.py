"""Turn resolved calls inside async functions into Finding records with messages and fixes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, List, Optional, Tuple

from detector.analysis.fixpolicy import Policy, Spelling
from detector.analysis.project import Project, RuleTarget
from detector.analysis.summary import ACCESS, AWAITED, HANDED_ON, IN_LOOP, ITERATED, OFFLOAD_ARG, STATEMENT_FORM, WITH_ITEM, CallRecord, FunctionSummary, ModuleSummary
from detector.catalog import STATEMENT_MESSAGE, Rule
from detector.model import Applicability, Finding, Location
from detector.suppress import is_suppressed

if TYPE_CHECKING:
    from detector.analysis.threadsafety import ThreadSafety


def short_name(function: FunctionSummary, module: ModuleSummary) -> str:
    """``pkg.mod.Client.fetch`` -> ``Client.fetch``."""
    prefix = module.module + "."
    return function.qualname[len(prefix):] if function.qualname.startswith(prefix) else function.qualname


def remedy_text(rule: Rule, call: CallRecord, lazy: bool, spelling: Spelling,
                stream: bool = False) -> Tuple[str, Applicability, str]:
    """The advice part of a message, how far an automatic rewrite of it can be trusted, and
    (for a suggestion) why there is no rewrite."""
    alternative = f", or use {rule.alternative}" if rule.alternative else ""
    if rule.remedy == "asyncio.sleep":
        if rule.fix == "none":
            return spelling.sleep(), Applicability.SUGGESTION, f"`offload rule {rule.code}`: no automatic rewrite"
        return spelling.sleep(), Applicability(rule.fix), ""
    if rule.remedy == "none":
        advice = f"use {rule.alternative}" if rule.alternative else "do not call it from async code"
        return advice, Applicability.SUGGESTION, f"no automatic rewrite for {rule.code} (`offload rule {rule.code}`)"
    if call.flags & STATEMENT_FORM:
        return statement_advice(call, spelling, alternative), Applicability.SUGGESTION, \
            "a statement, not a call: it cannot be wrapped"
    if call.flags & WITH_ITEM:
        return (
            f"move the `with` block into a sync function and run it with {spelling.thread_call()}" + alternative,
            Applicability.SUGGESTION,
            "the whole `with` block has to move to the thread, not only this call",
        )
    if call.flags & (ITERATED | HANDED_ON) and stream:
        how = "iterating it" if call.flags & ITERATED else "the call it is passed to"
        return (
            f"read the file in the thread too, e.g. {spelling.thread_call()} of a function that opens, "
            "reads and closes it" + alternative,
            Applicability.SUGGESTION,
            f"offloading only the call would leave the reads ({how}) on the loop",
        )
    if lazy:
        return (
            f"its result is lazy: consume it in a thread, e.g. `{spelling.call(f'lambda: list({call.text}(...))')}`"
            + alternative,
            Applicability.SUGGESTION,
            "its result is lazy: offloading the call alone leaves the work on the loop",
        )
    if call.flags & IN_LOOP:
        return (
            f"{spelling.offload(call.text)}, or better offload the whole loop once (a sync function that "
            "loops, run in one thread job)" + alternative,
            Applicability.SUGGESTION,
            "inside a loop: a rewrite would start one thread job per iteration",
        )
    kind = {"safe": Applicability.SAFE, "unsafe": Applicability.UNSAFE}.get(rule.fix, Applicability.SUGGESTION)
    reason = "" if kind is not Applicability.SUGGESTION else f"no automatic rewrite for {rule.code}"
    return spelling.offload(call.text) + alternative, kind, reason


def statement_advice(call: CallRecord, spelling: Spelling, alternative: str) -> str:
    """Advice for the statements offload reports: an ``import`` and a ``for`` over a file."""
    if call.text.startswith(("import ", "from ")):
        return (f"import it at module level, or load it in a thread "
                f"(`{spelling.call('importlib.import_module, name')}`) before the loop needs it")
    return f"read the file in a thread, e.g. `lines = {spelling.call('f.readlines')}`" + alternative


def shown(call: CallRecord) -> str:
    """A call as the message names it: ``open()``; a statement as written: ``import x``."""
    return call.text if call.flags & STATEMENT_FORM else f"{call.text}()"


def direct_finding(module: ModuleSummary, function: FunctionSummary, call: CallRecord, rule: Rule, lazy: bool,
                   policy: Policy, safety: Optional["ThreadSafety"] = None) -> Finding:
    fn = short_name(function, module)
    spelling = policy.spelling(module)
    # A file object handed on or iterated is read where it is used, not where it is opened.
    stream = policy.returns_stream(call.target)
    advice, applicability, reason = remedy_text(rule, call, lazy, spelling, stream)
    if rule.remedy == "to_thread" and not reason and safety is not None:
        reason = safety.argument_hazard(module, function, call) or ""
    return Finding(
        code=rule.code,
        name=rule.name,
        message=(STATEMENT_MESSAGE.format(statement=call.text, function=fn, advice=advice)
                 if call.flags & STATEMENT_FORM else rule.render(call=call.text, function=fn, advice=advice)),
        filename=module.path,
        location=Location(call.row, call.col),
        end_location=Location(call.end_row, call.end_col),
        fix=policy.fix(module, applicability, spelling.title(rule.remedy), reason),
        call=call.text,
        function=fn,
    )


def suppressed(module: ModuleSummary, call: CallRecord, codes: Iterable[str]) -> bool:
    return is_suppressed(module.noqa, (call.row, call.end_row), codes)


def calls_in_async_functions(project: Project, policy: Policy) -> Iterator[Tuple[ModuleSummary, FunctionSummary, CallRecord]]:
    """Every call recorded in an async function run by the loop, in a file that is not skipped."""
    for module in project.summaries:
        if module.skip_file:
            continue
        for function in module.functions:
            if function.is_async and policy.on_loop(function):
                for call in function.calls:
                    yield module, function, call


def direct_findings(project: Project, policy: Policy, safety: Optional["ThreadSafety"] = None) -> List[Finding]:
    """Blocking calls written (or resolved through attributes) inside async functions."""
    findings: List[Finding] = [d for module in project.summaries for d in module.diagnostics]
    for module, function, call in calls_in_async_functions(project, policy):
        if call.flags & (AWAITED | ACCESS | OFFLOAD_ARG):
            continue  # OFFLOAD_ARG calls are BLK301's
        resolved = project.resolve(call.target)
        if not isinstance(resolved, RuleTarget) or project.loaded_elsewhere(call):
            continue
        rule, name = resolved.rule, resolved.name
        if suppressed(module, call, (rule.code,) + rule.peer_codes):
            continue
        findings.append(direct_finding(module, function, call, rule, name in rule.lazy, policy, safety))
    return findings

