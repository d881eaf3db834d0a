"""Blocking reached through sync helpers: which project functions block, and by which path.

The call graph has an edge for every resolved call from a sync function to another sync
function (a constructor runs ``__init__``, a property read runs its getter, iterating a sync
generator runs its body). A function *blocks* when it makes a catalogued blocking call, or
calls a function that blocks. A breadth-first search backwards from the blocking calls gives
each function its shortest chain; cycles terminate because every function is visited once.

Offloaded helpers are not edges: ``asyncio.to_thread(helper)`` passes a reference, it does
not call ``helper`` on the loop.
"""
from __future__ import annotations

from collections import deque
from typing import Deque, Dict, Iterator, List, Optional, Tuple

from detector.analysis.checks import CallSite, Scan, check
from detector.analysis.findings import short_name, suppressed
from detector.analysis.project import FunctionTarget, Project, RuleTarget
from detector.analysis.summary import ACCESS, ASSIGNS, AWAITED, ITERATED, OFFLOAD_ARG, CallRecord, FunctionSummary, ModuleSummary
from detector.model import Applicability, Finding, Hop

CODE = "BLK200"  # the chains stop at a noqa for this rule too
Chain = Tuple[Hop, ...]


def hop(module: ModuleSummary, function: FunctionSummary, call: CallRecord) -> Hop:
    return Hop(module.path, call.row, call.col, short_name(function, module), call.text)


def callee(project: Project, call: CallRecord) -> Optional[FunctionSummary]:
    """The sync project function a call runs on the spot, if it can be known."""
    if call.flags & (AWAITED | ASSIGNS):
        return None
    resolved = project.resolve(call.target)
    if not isinstance(resolved, FunctionTarget):
        return None
    function = resolved.function
    if function.is_async:
        return None
    if call.flags & ACCESS and not function.is_property:
        return None
    if function.is_generator and not call.flags & ITERATED:
        return None  # calling a generator function runs none of its body
    return function


def blocking_chains(project: Project) -> Dict[int, Chain]:
    """id(sync function) -> the shortest chain from one of its calls down to a blocking call."""
    chains: Dict[int, Chain] = {}
    callers: Dict[int, List[Tuple[ModuleSummary, FunctionSummary, CallRecord]]] = {}
    queue: Deque[FunctionSummary] = deque()
    for module in project.summaries:
        for function in module.functions:
            if function.is_async:
                continue
            for call in function.calls:
                if call.flags & (AWAITED | ACCESS) == 0:
                    resolved = project.resolve(call.target)
                    if isinstance(resolved, RuleTarget):
                        rule = resolved.rule
                        # noqa on the blocking line silences every chain through it.
                        if id(function) not in chains and not suppressed(module, call, (rule.code, CODE) + rule.peer_codes):
                            chains[id(function)] = (hop(module, function, call),)
                            queue.append(function)
                        continue
                target = callee(project, call)
                if target is not None and not suppressed(module, call, (CODE,)):
                    callers.setdefault(id(target), []).append((module, function, call))
    while queue:
        function = queue.popleft()
        for module, caller, call in callers.get(id(function), ()):
            if id(caller) not in chains:
                chains[id(caller)] = (hop(module, caller, call),) + chains[id(function)]
                queue.append(caller)
    return chains


@check(CODE)
def blocking_call_via_helper(scan: Scan) -> Iterator[Finding]:
    """A finding at every async call site of a sync function that blocks."""
    for site in scan.sites:
        call = site.call
        if not site.function.is_async or call.flags & OFFLOAD_ARG:
            continue
        target = callee(scan.project, call)
        if target is None or id(target) not in scan.chains or suppressed(site.module, call, (CODE,)):
            continue
        yield _finding(scan, site, (hop(site.module, site.function, call),) + scan.chains[id(target)], target)


def _finding(scan: Scan, site: CallSite, chain: Chain, target: FunctionSummary) -> Finding:
    call, module, policy = site.call, site.module, scan.policy
    spelling = policy.spelling(module)
    title = spelling.title("to_thread")
    if call.flags & ACCESS:
        advice = f"read it in a thread: `{spelling.call('getattr, obj, name')}`"
        fix = policy.fix(module, Applicability.SUGGESTION, title,
                         "a property read: the rewrite would have to turn the attribute into a call")
    else:
        hazard = scan.safety.hazard(target) or scan.safety.argument_hazard(module, site.function, call)
        if hazard and target.is_generator:
            advice = f"consume it in a thread, e.g. `{spelling.call(f'lambda: list({call.text}(...))')}`"
        elif hazard:
            advice = f"offload only its blocking part, e.g. {spelling.thread_call()}"
        else:
            advice = spelling.offload(call.text)
        fix = policy.fix(module, Applicability.UNSAFE, title, hazard or "")
    last = chain[-1]
    return scan.finding(
        CODE, module, call, site.name, fix, chain,
        shown=call.text if call.flags & ACCESS else f"{call.text}()",
        reached=last.call, place=f"{last.filename}:{last.row}",
        through=" -> ".join(h.function for h in chain[1:]), advice=advice,
    )
