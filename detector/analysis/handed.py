"""Project code a callee runs because the call handed it over: a function passed as an argument
that the callee calls (``lib.run(callback=self.on_data)``), or a method the callee's inherited
body calls on ``self`` that the receiver's class overrides (``Mine().serve()`` where a library
base's ``serve`` calls ``self.handle()``). The callee itself blocks only for such callers, so
this is a property of the call site, not of the callee.

Precision: the callback must be a reference to one function; the receiver's class must be
known exactly (a project class nothing derives from); library code follows only the calls
every call of its function makes. An ``await`` of such a callee counts (the library coroutine
calls the handed function on the loop); a callee that hands the function to a thread
(``to_thread(callback)``) passes a reference and calls nothing.
"""
from __future__ import annotations

from typing import Dict, Optional

from detector.analysis.chains import Chain, hop
from detector.analysis.project import FunctionTarget, Project
from detector.analysis.summary import (
    ACCESS, ASSIGNS, AWAITED, CONDITIONAL, ITERATED, CallRecord, Construction, FunctionSummary, ModuleSummary,
)

_MAX_DEPTH = 4  # inherited methods calling each other on ``self`` before the override is reached
_SUPER = ".<super>"


def handed_chain(project: Project, chains: Dict[int, Chain], module: ModuleSummary,
                 call: CallRecord) -> Optional[Chain]:
    """The chain from inside the callee of ``call`` down to a blocking call, through project code
    the call hands it (a callback argument, an override of a method it calls on ``self``)."""
    if call.flags & (ACCESS | ASSIGNS):
        return None
    target = _called(project, call)
    if target is None:
        return None
    site = project.passed_at(module.path, call.row, call.col) if target.param_calls else None
    receiver = _receiver(project, call.target, target)
    if site is None and receiver is None:
        return None
    return _inside(project, chains, target, site, receiver, 0)


def _called(project: Project, call: CallRecord) -> Optional[FunctionSummary]:
    """The function whose body the call runs now: a sync one, or a coroutine that is awaited."""
    resolved = project.resolve(call.target)
    if not isinstance(resolved, FunctionTarget):
        return None
    function = resolved.function
    if function.offloaded or (function.is_async and not call.flags & AWAITED):
        return None
    if function.is_generator or (function.is_property and not call.flags & ACCESS):
        return None
    return function


def _receiver(project: Project, target: str, function: FunctionSummary) -> Optional[str]:
    """The exact class of ``self`` in ``function`` when the call reaches it through a subclass
    that inherits it: a project class nothing derives from (else an override may differ)."""
    head = target.rpartition(".")[0]
    owner = head[: -len(_SUPER)] if head.endswith(_SUPER) else (project.expand(head) if head else None)
    if owner is None or owner == function.qualname.rpartition(".")[0] or project.in_library(owner):
        return None
    if project.classes.get(owner) is None or project.has_subclass(owner):
        return None
    return owner


def _inside(project: Project, chains: Dict[int, Chain], function: FunctionSummary, site: Optional[Construction],
            receiver: Optional[str], depth: int) -> Optional[Chain]:
    module = project.module_of[id(function)]
    library = project.is_library(module)
    if site is not None:
        for param in function.param_calls:
            if library and param.call.flags & CONDITIONAL:
                continue
            passed = site.reference(param.position, param.name)
            handed = _runnable(project, project.expand(passed) if passed else None, param.call)
            if handed is not None and id(handed) in chains:
                return (hop(module, function, param.call),) + chains[id(handed)]
    if receiver is None or depth >= _MAX_DEPTH:
        return None
    owner = function.qualname.rpartition(".")[0]
    for call in function.calls:
        if library and call.flags & CONDITIONAL:
            continue
        attr = _self_method(call, owner)
        if attr is None or call.flags & (ACCESS | ASSIGNS) or (function.is_async and call.flags & AWAITED):
            continue
        override = _runnable(project, project.class_member(receiver, attr, 0, set()), call)
        if override is None:
            continue
        resolved = project.resolve(call.target)
        inherited = isinstance(resolved, FunctionTarget) and resolved.function is override
        if id(override) in chains and not inherited:  # what the call runs here is not what it runs in its class
            return (hop(module, function, call),) + chains[id(override)]
        deeper = _inside(project, chains, override, None, receiver, depth + 1)
        if deeper is not None:
            return (hop(module, function, call),) + deeper
    return None


def _self_method(call: CallRecord, owner: str) -> Optional[str]:
    """``self.handle()`` in a method of ``owner``: ``handle``."""
    prefix = "self."
    attr = call.text[len(prefix):] if call.text.startswith(prefix) else ""
    return attr if attr and "." not in attr and call.target == f"{owner}.{attr}" else None


def _runnable(project: Project, name: Optional[str], call: CallRecord) -> Optional[FunctionSummary]:
    """The one sync function ``name`` denotes, when ``call`` runs its body."""
    found = project.functions.get(name) if name else None
    if not found or len(found) != 1:
        return None
    function = found[0]
    if function.is_async or function.offloaded or function.is_property:
        return None
    if function.is_generator and not call.flags & ITERATED:
        return None
    if call.flags & AWAITED and function.decorated:
        return None
    return function
