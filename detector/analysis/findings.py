"""Turn resolved calls inside async functions into Finding records with messages and fixes."""
from __future__ import annotations

from typing import Iterator, List, Tuple

from detector.analysis.project import Project
from detector.analysis.summary import ACCESS, AWAITED, OFFLOAD_ARG, WITH_ITEM, CallRecord, FunctionSummary, ModuleSummary
from detector.catalog import Rule
from detector.model import Applicability, Finding, Fix, Location
from detector.suppress import is_suppressed


def short_name(function: FunctionSummary, module: ModuleSummary) -> str:
    """``pkg.mod.Client.fetch`` -> ``Client.fetch``."""
    prefix = module.module + "."
    return function.qualname[len(prefix):] if function.qualname.startswith(prefix) else function.qualname


def remedy_text(rule: Rule, call: CallRecord, lazy: bool) -> Tuple[str, Applicability]:
    """The advice part of a message, and how far an automatic rewrite of it can be trusted."""
    alternative = f", or use {rule.alternative}" if rule.alternative else ""
    if rule.remedy == "asyncio.sleep":
        return "use `await asyncio.sleep(...)`", Applicability(rule.fix if rule.fix != "none" else "suggestion")
    if rule.remedy == "none":
        advice = f"use {rule.alternative}" if rule.alternative else "do not call it from async code"
        return advice, Applicability.SUGGESTION
    if call.flags & WITH_ITEM:
        return (
            "move the `with` block into a sync function and run it with `await asyncio.to_thread(...)`"
            + alternative,
            Applicability.SUGGESTION,
        )
    if lazy:
        return (
            f"its result is lazy: consume it in a thread, e.g. `await asyncio.to_thread(lambda: list({call.text}(...)))`"
            + alternative,
            Applicability.SUGGESTION,
        )
    kind = {"safe": Applicability.SAFE, "unsafe": Applicability.UNSAFE}.get(rule.fix, Applicability.SUGGESTION)
    return f"offload it with `await asyncio.to_thread({call.text}, ...)`" + alternative, kind


def direct_finding(module: ModuleSummary, function: FunctionSummary, call: CallRecord, rule: Rule, lazy: bool) -> Finding:
    fn = short_name(function, module)
    advice, applicability = remedy_text(rule, call, lazy)
    message = f"blocking call `{call.text}()` in async function `{fn}`; {advice}"
    fix = None if applicability is Applicability.SUGGESTION else Fix(applicability, _fix_title(rule))
    return Finding(
        code=rule.code,
        name=rule.name,
        message=message,
        filename=module.path,
        location=Location(call.row, call.col),
        end_location=Location(call.end_row, call.end_col),
        fix=fix,
        call=call.text,
        function=fn,
    )


def _fix_title(rule: Rule) -> str:
    return "Replace with `await asyncio.sleep(...)`" if rule.remedy == "asyncio.sleep" else "Wrap in `await asyncio.to_thread(...)`"


def suppressed(module: ModuleSummary, call: CallRecord, codes) -> bool:
    return is_suppressed(module.noqa, (call.row, call.end_row), codes)


def calls_in_async_functions(project: Project) -> Iterator[Tuple[ModuleSummary, FunctionSummary, CallRecord]]:
    """Every call recorded in an async function of a file that is not skipped."""
    for module in project.summaries:
        if module.skip_file:
            continue
        for function in module.functions:
            if function.is_async:
                for call in function.calls:
                    yield module, function, call


def direct_findings(project: Project) -> List[Finding]:
    """Blocking calls written (or resolved through attributes) inside async functions."""
    findings: List[Finding] = [d for module in project.summaries for d in module.diagnostics]
    for module, function, call in calls_in_async_functions(project):
        if call.flags & (AWAITED | ACCESS | OFFLOAD_ARG):
            continue  # OFFLOAD_ARG calls are BLK301's
        resolved = project.resolve(call.target)
        if resolved is None or resolved[0] != "rule":
            continue
        _, rule, name = resolved
        if suppressed(module, call, (rule.code,) + rule.peer_codes):
            continue
        findings.append(direct_finding(module, function, call, rule, name in rule.lazy))
    return findings

