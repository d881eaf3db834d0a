"""Offloading done wrong (BLK3xx): the classic mistakes around to_thread and run_in_executor.

One check per rule, registered by its code; the rule's name, message, fix kind and docs are
its entry in rules/misuse.toml.
"""
from __future__ import annotations

from typing import Dict, Iterator, Optional, Tuple

from detector.analysis import offload, onloop
from detector.analysis.checks import CallSite, Scan, check
from detector.analysis.chains import hop, reached
from detector.analysis.findings import shown, suppressed
from detector.analysis.fixpolicy import joined
from detector.analysis.handed import handed_chain
from detector.analysis.project import FunctionTarget, RuleTarget, callee
from detector.analysis.summary import (
    ACCESS, AWAITED, FAN_OUT, KEYWORDS, OFFLOAD_ARG, STATEMENT, STATEMENT_FORM, STORED, WITH_ITEM, CallRecord,
    FunctionSummary, ModuleSummary, short_name,
)
from detector.display import one_line
from detector.model import Finding, Hop

Reason = Tuple[str, Tuple[Hop, ...]]


def _blocking_reason(scan: Scan, module: ModuleSummary, call: CallRecord) -> Optional[Reason]:
    """What makes ``call`` block: a catalogued name (its code), or a helper's chain (BLK200)."""
    resolved = scan.project.resolve(call.target)
    if isinstance(resolved, RuleTarget) and resolved.rule.calls and not scan.project.loaded_elsewhere(call):
        return resolved.rule.code, ()
    target = callee(scan.project, call)
    chain = reached(scan.project, module, call, target, scan.chains) if target is not None else None
    return ("BLK200", chain) if chain is not None else None


def _calls(scan: Scan, code: str, async_only: bool = False) -> Iterator[CallSite]:
    """The calls (not attribute reads) a rule looks at, minus those its noqa silences."""
    for site in scan.sites:
        if site.call.flags & ACCESS or (async_only and not site.function.is_async):
            continue
        if not suppressed(site.module, site.call, (code,)):
            yield site


@check("BLK300")
def offload_not_awaited(scan: Scan) -> Iterator[Finding]:
    wrappers = scan.project.catalog.wrappers
    for site in _calls(scan, "BLK300"):
        call = site.call
        if call.flags & STATEMENT and not call.flags & OFFLOAD_ARG \
                and offload.offloaded_argument(call.target, wrappers) is not None:
            fix = scan.fix("BLK300", "Add `await`") if site.function.is_async else None
            consequence, advice = _dropped(scan, call, site.function.is_async)
            yield scan.finding("BLK300", site.module, call, site.name, fix, consequence=consequence, advice=advice)


def _dropped(scan: Scan, call: CallRecord, in_async: bool) -> Tuple[str, str]:
    """BLK300: what is lost when nothing awaits ``call``, and what to write instead."""
    written = f"{one_line(call.text)}({call.args})"
    if call.target in offload.OFFLOAD_FUNCTIONS:  # a coroutine function: nothing has started
        return ("it is a coroutine that is never awaited, so the work never runs",
                f"await it: `await {written}`" if in_async else "await it from a coroutine")
    handed = scan.project.resolve(call.handed) if call.handed else None
    # A function that catches every exception it raises loses none; any other's are lost.
    catches = isinstance(handed, FunctionTarget) and handed.function.catches_all
    consequence = "nothing waits for the work" + ("" if catches else " and its exceptions are lost")
    if not in_async:
        return consequence, "keep the future and check its result (`add_done_callback`)"
    return consequence, f"await it: `await {written}`, or keep the future and await it later"


@check("BLK301")
def offload_called_eagerly(scan: Scan) -> Iterator[Finding]:
    for site in scan.sites:
        call = site.call
        if not call.flags & OFFLOAD_ARG or call.flags & ACCESS:
            continue
        reason = _blocking_reason(scan, site.module, call)
        if reason is None or suppressed(site.module, call, ("BLK301", reason[0])):
            continue
        helper = callee(scan.project, call) if reason[1] else None
        hazard = scan.safety.hazard(helper) if helper is not None \
            else scan.safety.call_hazard(site.module, site.function, call)
        fix = scan.fix("BLK301", "Pass the function and its arguments to the offload call", hazard or "")
        chain = (hop(site.module, site.function, call),) + reason[1] if reason[1] else ()
        yield scan.finding("BLK301", site.module, call, site.name, fix, chain, advice=_pass_function(site.function, call))


def _pass_function(function: FunctionSummary, call: CallRecord) -> str:
    """BLK301's advice: the offload call with the function and its arguments handed over."""
    inner = f"{one_line(call.text)}({call.args})"
    outer = min((c for c in function.calls if offload.offloaded_argument(c.target) is not None
                 and (c.row, c.col) <= (call.row, call.col) and (c.end_row, c.end_col) >= (call.end_row, call.end_col)
                 and c is not call), key=lambda c: (-c.row, -c.col), default=None)
    if outer is None or "…" in outer.args or "…" in call.args or outer.args.count(inner) != 1:
        return f"pass `{one_line(call.text)}` and its arguments instead"
    handed = joined(one_line(call.text), call.args)
    if call.flags & KEYWORDS and offload.method_name(outer.target) not in offload.TAKES_KEYWORDS:
        handed = f"functools.partial({handed})"
    return f"pass the function and its arguments instead: `{one_line(outer.text)}({outer.args.replace(inner, handed)})`"


@check("BLK302")
def executor_per_call(scan: Scan) -> Iterator[Finding]:
    for site in _calls(scan, "BLK302", async_only=True):
        if site.call.target in offload.EXECUTORS and not site.call.flags & (WITH_ITEM | STORED | OFFLOAD_ARG):
            yield scan.finding("BLK302", site.module, site.call, site.name)


@check("BLK303")
def nested_event_loop(scan: Scan) -> Iterator[Finding]:
    for site in _calls(scan, "BLK303", async_only=True):
        if offload.runs_nested_loop(site.call.target) and not site.call.flags & (OFFLOAD_ARG | AWAITED) \
                and not _coroutine_function(scan, site.call):
            yield scan.finding("BLK303", site.module, site.call, site.name)


def _coroutine_function(scan: Scan, call: CallRecord) -> bool:
    """``server.run_forever()`` where the project's ``run_forever`` is ``async def``: not a loop's."""
    resolved = scan.project.resolve(call.target)
    return isinstance(resolved, FunctionTarget) and resolved.function.is_async


@check("BLK304")
def blocking_call_in_loop_callback(scan: Scan) -> Iterator[Finding]:
    """The body of sync code the loop runs (a callback, a protocol method, a Tornado handler,
    a Home Assistant ``@callback``: ``onloop.py``) is on the loop, like an async body."""
    runs: Dict[int, onloop.LoopRun] = {}
    for registration in scan.registrations:
        if not registration.target.is_async:  # a body is reported once, with its first registration
            runs.setdefault(id(registration.target), onloop.registered(
                registration.target, registration.target_module, registration.call, registration.module))
    for run in onloop.declared(scan.project):
        runs.setdefault(id(run.function), run)
    for run in runs.values():
        if run.module.skip_file or not scan.policy.on_loop(run.function):
            continue
        fn = short_name(run.function, run.module)
        for call in run.function.calls:
            if call.flags & (AWAITED | ACCESS | OFFLOAD_ARG):
                continue
            reason = _blocking_reason(scan, run.module, call)
            if reason is None:  # the callee runs blocking project code the call hands it
                inside = handed_chain(scan.project, scan.chains, run.module, call)
                reason = ("BLK200", inside) if inside is not None else None
            if reason is None or suppressed(run.module, call, ("BLK304", reason[0])):
                continue
            chain = (hop(run.module, run.function, call),) + reason[1] if reason[1] else ()
            blocking = f"blocking {'call ' if not call.flags & STATEMENT_FORM else ''}`{shown(call)}`"
            if chain:
                last = chain[-1]
                blocking = f"`{one_line(call.text)}()`, which reaches `{last.call}()` at {last.filename}:{last.row},"
            yield scan.finding("BLK304", run.module, call, fn, chain=chain, blocking=blocking, how=run.how,
                               advice=run.advice)


@check("BLK305")
def unbounded_offload_fan_out(scan: Scan) -> Iterator[Finding]:
    for site in _calls(scan, "BLK305", async_only=True):
        if site.call.flags & FAN_OUT and not site.call.flags & OFFLOAD_ARG:
            yield scan.finding("BLK305", site.module, site.call, site.name)


@check("BLK306")
def coroutine_function_as_loop_callback(scan: Scan) -> Iterator[Finding]:
    for registration in scan.registrations:
        if registration.target.is_async and not suppressed(registration.module, registration.call, ("BLK306",)):
            yield scan.finding("BLK306", registration.module, registration.call,
                               short_name(registration.function, registration.module),
                               callback=short_name(registration.target, registration.target_module))
