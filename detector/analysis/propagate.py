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

import ast
from typing import Dict, Iterator, List, Optional, Set, Tuple

from detector.analysis import offload
from detector.analysis.chains import CODE, Chain, hop, reached, union_chain
from detector.analysis.checks import CallSite, Scan, check
from detector.analysis.findings import move_the_block, several_types, suppressed
from detector.analysis.guarded import guarded_chain
from detector.analysis.handed import handed_chain
from detector.analysis.project import FunctionTarget, Project, RuleTarget, callee
from detector.analysis.summary import (
    ACCESS, AWAITED, CONDITIONAL, IN_HANDLER, IN_LOOP, KEYWORDS, OFFLOAD_ARG, ON_MISS, ON_UNSET, SUSPENDS, UNION, WITH_ITEM,
    CallRecord, FunctionSummary, ModuleSummary,
)
from detector.display import one_line
from detector.model import Applicability, Finding, Hop


@check(CODE)
def blocking_call_via_helper(scan: Scan) -> Iterator[Finding]:
    """A finding at every async call site of a sync function that blocks."""
    # (id(coroutine), the memo's function) -> its calls so far that fill the memo on every run
    filling: Dict[Tuple[int, str, str], List[CallRecord]] = {}
    # ``with`` items reported: one finding says the block has to move, whether what blocks is the
    # item's call, its ``__enter__()`` or its ``__exit__()`` (recorded in that order, at the item).
    entered: Set[Tuple[int, int, int]] = set()
    for site in scan.sites:
        call = site.call
        if not site.function.is_async or call.flags & OFFLOAD_ARG:
            continue
        item = (id(site.function), call.row, call.col)
        if call.flags & WITH_ITEM and item in entered:
            continue
        found = _chain(scan, site)
        if found is None or _ends_in_a_mock(scan, call, found[0]) or _filled_at_import(scan, site, found[0]):
            continue
        memo = _one_key_memo(scan, found[0])
        if memo is not None:
            earlier = filling.setdefault((id(site.function), *memo), [])
            warm = not call.flags & IN_HANDLER and any(_ends_before(other, call) for other in earlier)
            if not call.flags & (CONDITIONAL | IN_LOOP | IN_HANDLER):
                earlier.append(call)  # fills it whether reported or not
            if warm:
                continue  # an earlier call of the same coroutine, made on every run, filled it
        if not suppressed(site.module, call, (CODE,)):
            if call.flags & WITH_ITEM:
                entered.add(item)
            yield _finding(scan, site, *found)


def _chain(scan: Scan, site: CallSite) -> Optional[Tuple[Chain, FunctionSummary]]:
    """The chain from an async function's call down to a blocking call, and the sync function it
    calls first; None when the call does not block."""
    call = site.call
    first = hop(site.module, site.function, call)
    if UNION in call.target:
        found = union_chain(scan.project, scan.chains, site.module, call, lambda target, each: guarded_chain(
            scan.project, site.module, each, target, scan.chains, ()) is None)
        return ((first,) + found[0], found[1]) if found is not None else None
    target = callee(scan.project, call)
    if target is not None and id(target) in scan.chains:
        inner = reached(scan.project, site.module, call, target, scan.chains)
        if inner is not None:
            inner = guarded_chain(scan.project, site.module, call, target, scan.chains, inner)
        return ((first,) + inner, target) if inner is not None else None
    inside = handed_chain(scan.project, scan.chains, site.module, call)
    resolved = scan.project.resolve(call.target) if inside is not None else None
    if inside is not None and isinstance(resolved, FunctionTarget):
        return (first,) + inside, resolved.function
    return None


def _ends_in_a_mock(scan: Scan, call: CallRecord, chain: Chain) -> bool:
    """``with mock.patch("builtins.open", ...): Settings()``: the blocking call the chain ends in
    runs the mock while the call is made."""
    for _, _, last in _last_calls(scan, chain[-1]):
        resolved = scan.project.resolve(last.target)
        if isinstance(resolved, RuleTarget) and call.runs_mock_of(resolved.name):
            return True
    return False


def _filled_at_import(scan: Scan, site: CallSite, chain: Chain) -> bool:
    """Whether the chain goes through the body of a module-level memo (``if _root is None: _root
    = setup()`` in a plain function) that importing the site's module fills first: some module
    imported with it calls the function at module level, so the body has run by then."""
    for hop in chain[1:]:
        for module, function, call in _last_calls(scan, hop):
            if call.flags & ON_UNSET and function.qualname.rpartition(".")[0] not in scan.project.classes \
                    and scan.project.called_at_import(site.module, function):
                return True
    return False


def _one_key_memo(scan: Scan, chain: Chain) -> Optional[Tuple[str, str]]:
    """The memo a chain blocks through the first time, when every call down the chain asks it for
    the same thing: a module-level one filled under an ``is None`` test, or a cached function
    called with no argument the site could change (``_locale(get_locale())``). (file, function)."""
    for previous, hop in zip(chain, chain[1:]):
        for _, function, call in _last_calls(scan, hop):
            if call.flags & ON_UNSET and function.qualname.rpartition(".")[0] not in scan.project.classes:
                return hop.filename, hop.function
        for _, function in scan.functions_at(hop):
            if _KEYED_CACHES.intersection(function.decorators) \
                    and all(_constant_arguments(into.args) for _, _, into in _last_calls(scan, previous)):
                return hop.filename, hop.function
    return None


def _constant_arguments(args: str) -> bool:
    """Arguments that are literals or calls without arguments (``"en", get_locale()``): nothing the
    function making the call was given."""
    try:
        tree = ast.parse(f"f({args})", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    assert isinstance(tree, ast.Call)
    return all(isinstance(arg, ast.Constant) or isinstance(arg, ast.Call) and not arg.args and not arg.keywords
               and isinstance(arg.func, (ast.Name, ast.Attribute)) and _names_only(arg.func)
               for arg in [*tree.args, *(keyword.value for keyword in tree.keywords)])


def _names_only(node: ast.expr) -> bool:
    """``get_locale`` or ``i18n.get_locale``: a function named through modules, not through ``self``."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in ("self", "cls")


def _ends_before(earlier: CallRecord, call: CallRecord) -> bool:
    return (earlier.end_row, earlier.end_col) <= (call.row, call.col)


def _last_calls(scan: Scan, last: Hop) -> Iterator[Tuple[ModuleSummary, FunctionSummary, CallRecord]]:
    """The records of the call a chain ends in."""
    for module, function in scan.functions_at(last):
        for call in function.calls:
            if (call.row, call.col) == (last.row, last.column):
                yield module, function, call


def _cached(scan: Scan, chain: Chain) -> str:
    """`` (`F` caches its result ...)`` when a function the chain goes through is memoised: the
    call blocks the first time only (for the same arguments)."""
    for hop in chain[1:]:
        flags = [call.flags for _, _, call in _last_calls(scan, hop)]
        if any(flag & ON_MISS for flag in flags):
            return (f" the first time for each key (`{hop.function}` runs it in the `except KeyError:` of its "
                    "cache look-up, when nothing is cached yet)")
        if any(flag & ON_UNSET for flag in flags):
            return f" the first time (`{hop.function}` runs it under an `is None` test of where it keeps the result)"
        for _, function in scan.functions_at(hop):
            cache = next((d for d in function.decorators if d in _CACHES), None)
            if cache is not None:
                later = "reads on the same instance" if cache == _ONCE_PER_INSTANCE else "calls with the same arguments"
                return (f" the first time (`{hop.function}` caches its result with `{cache}`: later {later} "
                        "do not block)")
    return ""


# Memoising decorators: the function runs once per distinct arguments, or once per instance.
_ONCE_PER_INSTANCE = "functools.cached_property"
_KEYED_CACHES = frozenset({"functools.lru_cache", "functools.cache"})
_CACHES = _KEYED_CACHES | {_ONCE_PER_INSTANCE}


def _instead_of_offloading(scan: Scan, last: Hop) -> str:
    """The blocking call a chain ends in, when it cannot run in a worker thread itself
    (``self.render()`` of a Tornado handler, ``traceback.format_exc()``): its rule's alternative for it."""
    for module, function, call in _last_calls(scan, last):
        resolved = scan.project.resolve(call.target)
        if isinstance(resolved, RuleTarget) and scan.safety.call_hazard(module, function, call):
            if offload.module_code_reason(resolved.name, call.args):  # the rule's own advice is a thread
                return "an import at module level, or one made before the event loop starts"
            return resolved.rule.alternative_for(resolved.name)
    return ""


def _blocking_part(scan: Scan, last: Hop) -> str:
    """What of the function a chain ends in to offload: the call, or the ``with`` block it opens
    (``with path.open("wb") as f: pickle.dump(data, f)`` writes in the block too)."""
    if any(call.flags & WITH_ITEM for _, _, call in _last_calls(scan, last)):
        return f"the `with {last.call}(...)` block in {last.function}"
    return f"`{last.call}()` in {last.function}"


def _own_end(scan: Scan, chain: Chain) -> Hop:
    """The deepest step of a chain in the project's own code: the blocking part it can offload
    (a library's code is not the project's to change)."""
    for hop in reversed(chain):
        if not any(scan.project.is_library(module) for module, _ in scan.functions_at(hop)):
            return hop
    return chain[0]


def _place(project: Project, hop: Hop) -> str:
    """Where a chain ends; in an installed library, with its distribution and version."""
    label = project.distribution(hop.filename)
    return f"{hop.filename}:{hop.row}" + (f" ({label})" if label else "")


def _finding(scan: Scan, site: CallSite, chain: Chain, target: FunctionSummary) -> Finding:
    call, module, policy = site.call, site.module, scan.policy
    spelling = policy.spelling(module)
    text = one_line(call.text)
    last = chain[-1]
    if call.flags & ACCESS:
        owner, _, attribute = text.rpartition(".")
        advice = f"read it in a thread: `{spelling.call(f'getattr, {owner}, {attribute!r}')}`"
        fix = policy.fix(module, Applicability.SUGGESTION, spelling.title("to_thread"),
                         "a property read: the rewrite would have to turn the attribute into a call")
    elif call.flags & AWAITED and target.is_async:
        advice = (f"the coroutine runs `{chain[1].call}()` on the loop: offload only its blocking part "
                  f"({_blocking_part(scan, last)}) to a worker thread")
        fix = policy.fix(module, Applicability.SUGGESTION, spelling.title("to_thread"),
                         "a coroutine runs the blocking code it was handed: the rewrite belongs in that code")
    elif call.flags & AWAITED:
        advice = (f"it is a sync function whose body runs on the loop before it returns what is awaited: "
                  f"offload only its blocking part ({_blocking_part(scan, last)}) to a worker thread")
        fix = policy.fix(module, Applicability.SUGGESTION, spelling.title("to_thread"),
                         "awaited: offloading the call would await what the thread returns, not run it")
    elif call.flags & WITH_ITEM:
        # What the call returns is entered and left in the block: offloading the call alone would
        # leave that on the loop (a test client's websocket handshake), unreported.
        if call.flags & SUSPENDS:
            advice = (f"the `with` block awaits, so it cannot move into a sync function: offload only the "
                      f"blocking part of `{text}()` ({_blocking_part(scan, last)}) to a worker thread")
            reason = ("the `with` block awaits or yields: it cannot move to a thread, and offloading only this "
                      "call leaves what it returns entered and left on the loop")
        else:
            advice = move_the_block(spelling)
            reason = "the whole `with` block has to move to the thread, not only this call"
        fix = policy.fix(module, Applicability.SUGGESTION, "Move the `with` block to a worker thread", reason)
    else:
        hazard = scan.safety.hazard(target, scan.safety.fresh_receiver(call)) \
            or scan.safety.argument_hazard(module, site.function, call)
        # ``run_in_executor`` runs no copy of the caller's context, as ``to_thread`` does: one is made.
        read = scan.safety.reads_context(target) if not hazard and spelling.executor is not None else None
        if read is not None:
            in_copy = spelling.rewrite(text, call.args, bool(call.flags & KEYWORDS), in_context=True)
            advice = f"offload it in a copy of the caller's context ({read} reads a context variable): `{in_copy}`"
        elif hazard and target.is_generator:
            advice = f"consume it in a thread, e.g. {spelling.consume(call)}"
        elif hazard:
            instead = _instead_of_offloading(scan, last)
            part = _own_end(scan, chain)
            if instead:
                advice = f"`{last.call}()` in {last.function} cannot move to a worker thread either: use {instead}"
            elif part is chain[0]:  # the blocking part is a library's: the call is what the project can move
                advice = (f"its blocking part ({_blocking_part(scan, last)}) is inside the library, and the whole "
                          "call cannot simply move to a worker thread (see why): run that part yourself in a worker "
                          "thread if the library lets you, or keep the call")
            else:
                advice = f"offload only its blocking part ({_blocking_part(scan, part)}) to a worker thread"
        else:
            advice = spelling.offload(call)
        fix = policy.fix(module, Applicability.UNSAFE, spelling.title("to_thread", call, read is not None),
                         hazard or "", call, read is not None)
    return scan.finding(
        CODE, module, call, site.name, fix, chain,
        shown=text if call.flags & ACCESS else f"{text}()",
        platform=(f" {call.platform}" if call.platform else "") + several_types(call) + _cached(scan, chain),
        reached=last.call, place=_place(scan.project, last),
        through=" -> ".join(h.function for h in chain[1:]), advice=advice,
    )
