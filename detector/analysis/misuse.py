"""Offloading done wrong (BLK3xx): the classic mistakes around to_thread and run_in_executor.

- BLK300: an offload whose result is dropped: never awaited, so never waited for (a
  ``to_thread`` coroutine never even starts) and its exceptions vanish.
- BLK301: ``to_thread(requests.get(url))``: the blocking call runs on the loop, then the
  thread is asked to call its result.
- BLK302: an executor created in an async function and never shut down: threads pile up.
- BLK303: ``asyncio.run`` / ``run_until_complete`` inside a running loop.
- BLK304: a blocking call in a sync callback the loop runs (``call_soon``, ``call_later``).
- BLK305 (opt-in): ``gather(*(to_thread(f, x) for x in items))``: unbounded fan-out.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from detector.analysis import offload
from detector.analysis.findings import short_name, suppressed
from detector.analysis.project import Project
from detector.analysis.propagate import callee, hop
from detector.analysis.summary import (
    ACCESS, AWAITED, FAN_OUT, OFFLOAD_ARG, STATEMENT, STORED, WITH_ITEM,
    CallRecord, FunctionSummary, ModuleSummary,
)
from detector.model import Applicability, Finding, Fix, Hop, Location

NAMES = {
    "BLK300": "offload-not-awaited",
    "BLK301": "offload-called-eagerly",
    "BLK302": "executor-per-call",
    "BLK303": "nested-event-loop",
    "BLK304": "blocking-call-in-loop-callback",
    "BLK305": "unbounded-offload-fan-out",
}
OPT_IN = frozenset({"BLK305"})


def _finding(code: str, module: ModuleSummary, call: CallRecord, message: str,
             fix: Optional[Fix] = None, chain: Tuple[Hop, ...] = (), function: str = "") -> Finding:
    return Finding(code, NAMES[code], message, module.path, Location(call.row, call.col),
                   Location(call.end_row, call.end_col), fix, chain, call.text, function)


def _blocking_reason(project: Project, call: CallRecord, chains) -> Optional[Tuple[str, Tuple[Hop, ...]]]:
    """What makes ``call`` block: a catalogued name, or a helper's chain."""
    resolved = project.resolve(call.target)
    if resolved is not None and resolved[0] == "rule" and resolved[1].calls:
        return resolved[1].code, ()
    target = callee(project, call)
    if target is not None and id(target) in chains:
        return "BLK200", chains[id(target)]
    return None


def misuse_findings(project: Project, chains, policy, safety) -> List[Finding]:
    """``chains`` as computed by propagate.blocking_chains; ``policy`` says which functions the
    loop runs, ``safety`` whether a helper can move to a thread."""
    wrappers = project.catalog.wrappers
    found: List[Finding] = []
    loop_callbacks: Dict[int, Tuple[FunctionSummary, ModuleSummary, CallRecord, ModuleSummary]] = {}
    for module in project.summaries:
        if module.skip_file:
            continue
        for function in module.functions:
            if not policy.on_loop(function):
                continue
            fn = short_name(function, module)
            for call in function.calls:
                if call.flags & ACCESS:
                    continue
                found.extend(_call_findings(project, module, function, fn, call, chains, wrappers, safety))
            for registration in function.callbacks:
                resolved = project.resolve(registration.target)
                if resolved is not None and resolved[0] == "function" and not resolved[1].is_async:
                    target = resolved[1]
                    loop_callbacks.setdefault(id(target), (target, project.module_of[id(target)], registration, module))
    for target, target_module, registration, module in loop_callbacks.values():
        found.extend(_callback_findings(project, target, target_module, registration, module, chains))
    return [f for f in found if f is not None]


def _call_findings(project, module, function, fn, call, chains, wrappers, safety) -> List[Finding]:
    out: List[Finding] = []
    target = call.target
    if call.flags & OFFLOAD_ARG:
        reason = _blocking_reason(project, call, chains)
        if reason and not suppressed(module, call, ("BLK301", reason[0])):
            helper = callee(project, call) if reason[1] else None
            hazard = safety.hazard(helper) if helper is not None else safety.call_hazard(module, function, call)
            title = "Pass the function and its arguments to the offload call"
            out.append(_finding(
                "BLK301", module, call,
                f"`{call.text}(...)` runs on the event loop and only its result is handed to the thread; "
                f"pass the function and its arguments instead: `{call.text}, ...`",
                Fix(Applicability.SUGGESTION, title, reason=hazard) if hazard else Fix(Applicability.UNSAFE, title),
                chain=(hop(module, function, call),) + reason[1] if reason[1] else (), function=fn))
        return out
    if offload.offloaded_argument(target, wrappers) is not None and call.flags & STATEMENT:
        if not suppressed(module, call, ("BLK300",)):
            fix = Fix(Applicability.UNSAFE, "Add `await`") if function.is_async else None
            out.append(_finding(
                "BLK300", module, call,
                f"the result of `{call.text}(...)` is dropped: nothing waits for the work"
                f"{' (a coroutine that is never awaited never runs)' if target in offload.OFFLOAD_FUNCTIONS else ''}"
                f" and its exceptions are lost; await it, or keep the task and await it later",
                fix, function=fn))
        return out
    if not function.is_async:
        return out
    if target in offload.EXECUTORS and not call.flags & (WITH_ITEM | STORED):
        if not suppressed(module, call, ("BLK302",)):
            out.append(_finding(
                "BLK302", module, call,
                f"`{call.text}()` creates a new executor on every call of async function `{fn}` and never shuts it "
                "down; create one executor at module or application level and reuse it", function=fn))
    elif offload.runs_nested_loop(target):
        if not suppressed(module, call, ("BLK303",)):
            out.append(_finding(
                "BLK303", module, call,
                f"`{call.text}()` inside async function `{fn}` tries to run an event loop inside the running one "
                "(it raises, or blocks this loop until the other finishes); `await` the coroutine instead", function=fn))
    elif call.flags & FAN_OUT:
        if not suppressed(module, call, ("BLK305",)):
            out.append(_finding(
                "BLK305", module, call,
                f"`{call.text}(*...)` starts one thread job per item of an unbounded iterable; bound it with an "
                "`asyncio.Semaphore` or a dedicated `ThreadPoolExecutor(max_workers=...)`", function=fn))
    return out


def _callback_findings(project, target: FunctionSummary, target_module: ModuleSummary, registration: CallRecord,
                       module: ModuleSummary, chains) -> List[Finding]:
    """The body of a sync callback the loop runs is on the loop, like an async body."""
    out = []
    fn = short_name(target, target_module)
    where = f"{module.path}:{registration.row}"
    for call in target.calls:
        if call.flags & (AWAITED | ACCESS | OFFLOAD_ARG):
            continue
        reason = _blocking_reason(project, call, chains)
        if reason is None or suppressed(target_module, call, ("BLK304", reason[0])):
            continue
        chain = (hop(target_module, target, call),) + reason[1] if reason[1] else ()
        what = f"blocking call `{call.text}()`"
        if chain:
            last = chain[-1]
            what = f"`{call.text}()`, which reaches `{last.call}()` at {last.filename}:{last.row},"
        out.append(_finding(
            "BLK304", target_module, call,
            f"{what} in `{fn}`, a callback the event loop runs "
            f"(registered with `{registration.text}` at {where}); schedule a coroutine that offloads it instead",
            chain=chain, function=fn))
    return out
