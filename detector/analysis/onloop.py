"""Sync functions a framework runs on the event loop: their bodies are checked like async ones (BLK304).

Where they come from is catalogue data (``[[on-loop]]`` in rules/loop.toml, extended by
``[[tool.offload.on-loop]]``): callbacks handed to a registration (``loop.call_later(1, f)``),
functions with a decorator (Home Assistant's ``@callback``), and methods of classes deriving
from a framework class (``asyncio.Protocol.data_received``, Tornado's ``RequestHandler.get``).
A sync function nothing registers, decorates or inherits that way (a Starlette or Django sync
view, a ``to_thread`` target) is not one: frameworks run those in threads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Set

from detector.analysis.project import Project
from detector.analysis.summary import CallRecord, FunctionSummary, ModuleSummary
from detector.catalog import LoopEntry

_MAX_ANCESTORS = 64


@dataclass(frozen=True)
class LoopRun:
    """One sync function the loop runs, and how it gets there (said in the finding's message)."""

    function: FunctionSummary
    module: ModuleSummary
    how: str  # "a callback the event loop runs (registered with ...)"
    advice: str


def registered(target: FunctionSummary, target_module: ModuleSummary, registration: CallRecord,
               module: ModuleSummary) -> LoopRun:
    """``target``, handed to the loop by ``registration`` (in ``module``)."""
    framework = registration.detail
    who = "the event loop runs" if framework in ("", "asyncio") else f"{framework} runs on the event loop"
    return LoopRun(target, target_module,
                   f"a callback {who} (registered with `{registration.text}` at {module.path}:{registration.row})",
                   "schedule a coroutine that offloads it instead")


def declared(project: Project) -> Iterator[LoopRun]:
    """Sync functions the catalogue's decorators and framework base classes put on the loop."""
    entries = project.catalog.on_loop
    decorators: Dict[str, LoopEntry] = {name: entry for entry in entries for name in entry.decorators}
    bases = [entry for entry in entries if entry.subclass_of]
    if decorators:
        for module in project.own_summaries:
            for function in module.functions:
                entry = next((decorators[d] for d in function.decorators if d in decorators), None)
                if entry is not None and not function.is_async:
                    name = next(d for d in function.decorators if d in decorators).rpartition(".")[2]
                    yield LoopRun(function, module, f"a function {entry.framework} runs on the event loop "
                                  f"(decorated with `@{name}`)", entry.advice)
    if bases:
        for qualname, cls in project.classes.items():
            if cls is None or project.in_library(qualname):
                continue
            ancestors = _external_ancestors(project, qualname)
            for entry in bases:
                base = next((b for b in entry.subclass_of if b in ancestors), None)
                if base is None:
                    continue
                for method in entry.methods:
                    found = project.functions.get(f"{qualname}.{method}")
                    if found and len(found) == 1 and not found[0].is_async:
                        short = base.rpartition(".")[2]
                        yield LoopRun(found[0], project.module_of[id(found[0])],
                                      f"a method {entry.framework} runs on the event loop (`{method}` of a "
                                      f"`{short}` subclass)", entry.advice)


def _external_ancestors(project: Project, qualname: str) -> Set[str]:
    """The names of classes outside the project that ``qualname`` derives from (through project
    classes; an installed library's classes, read into the model, count as outside and are followed)."""
    found: Set[str] = set()
    seen: Set[str] = set()
    pending: List[str] = [qualname]
    while pending and len(seen) < _MAX_ANCESTORS:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        cls = project.classes.get(current)
        if cls is None:
            continue
        for base in cls.bases:
            if base is None:
                continue
            name = project.expand(base.name)
            if name is None:
                continue
            if name in project.classes:
                pending.append(name)
                if project.in_library(name):  # by its defining module and as the project spells it
                    found.update((project.catalog.canonical(name), project.catalog.canonical(base.name)))
            else:
                found.add(project.catalog.canonical(name))
    return found
