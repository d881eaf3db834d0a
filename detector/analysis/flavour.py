"""Which async library runs a module's coroutines: decided for the program, not per import.

A fix spells ``asyncio.to_thread``, ``anyio.to_thread.run_sync`` or ``trio.to_thread.run_sync``;
the wrong one breaks the program (``asyncio.sleep`` under trio: "no running event loop"). One
imported exception class does not make a module a trio module, and a module of a trio program
need not import trio itself. The evidence, strongest first:

1. the module imports anyio: anyio's API works under either backend;
2. the event loops the project starts (``asyncio.run``, ``trio.run``, ``anyio.run``, a
   loop's ``run_until_complete``): exactly one library started decides;
3. the module's own imports: exactly one of asyncio and trio;
4. the project's imports: exactly one library imported anywhere; else, when the project
   imports anyio, anyio (its API works under asyncio and trio alike: a mix of loops, or a
   module that imports none, is no obstacle);
5. no async library anywhere: asyncio, the default (a FastAPI or discord.py application need
   not import it).

A project that steps coroutines itself (``coro.send(None)``, or ``gen.send(value)`` under a
``try`` that catches StopIteration, as ESPHome's code generation does) runs some of its
coroutines with no event loop, even when another part of it starts one (ESPHome's dashboard
runs ``asyncio.run``). There only the module's own imports (2 and 4 do not apply) say a
module's coroutines run on a loop: ``asyncio.to_thread`` in a driven coroutine fails with
"no running event loop".

A mix, or a project that drives its own coroutines, is unknown: no fix, and the reason says why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Sequence

from detector.analysis.summary import ModuleSummary

ORDER = ("asyncio", "anyio", "trio")
DRIVER = "driver"  # in ModuleSummary.runs: the module steps coroutines with ``.send()``


@dataclass(frozen=True)
class Library:
    name: Optional[str]  # asyncio | anyio | trio; None when it cannot be known
    reason: str = ""  # why it is unknown


def _listed(names: FrozenSet[str]) -> str:
    """``asyncio and trio``, ``asyncio, anyio and trio``."""
    items = [n for n in ORDER if n in names]
    return " and ".join(items) if len(items) <= 2 else ", ".join(items[:-1]) + " and " + items[-1]


def _several(names: FrozenSet[str]) -> str:
    """``both asyncio and trio``; three are just listed."""
    return ("both " if len(names) == 2 else "") + _listed(names)


class Flavours:
    """The library of each module of one project."""

    def __init__(self, summaries: Sequence[ModuleSummary]):
        started: FrozenSet[str] = frozenset().union(*(m.runs for m in summaries))
        self.drives = DRIVER in started
        self.started = started - {DRIVER}
        self.imported: FrozenSet[str] = frozenset().union(*(m.libraries for m in summaries))
        self._memo: Dict[int, Library] = {}

    def of(self, module: ModuleSummary) -> Library:
        found = self._memo.get(id(module))
        if found is None:
            found = self._memo[id(module)] = self._decide(module)
        return found

    def _decide(self, module: ModuleSummary) -> Library:
        if "anyio" in module.libraries:
            return Library("anyio")
        own = module.libraries & {"asyncio", "trio"}
        if self.drives and len(own) == 1:
            return Library(next(iter(own)))
        if self.drives and not own:
            return Library(None, "the project steps coroutines itself (`.send()`), and this module imports no "
                                 "async library that would say an event loop runs it (see `not-on-loop`)")
        if len(self.started) == 1 and own and not own & self.started and "anyio" not in self.started:
            return Library(None, f"the module imports {_listed(own)}, but the only event loop the project "
                                 f"starts is {_listed(self.started)}'s")
        if len(self.started) == 1:
            return Library(next(iter(self.started)))
        if len(own) == 1:
            return Library(next(iter(own)))
        if len(self.imported) == 1 and not own:
            return Library(next(iter(self.imported)))
        if "anyio" in self.imported:
            return Library("anyio")  # the project has anyio, whose API works under each of the loops
        if len(self.started) > 1:
            return Library(None, f"the project starts {_several(self.started)} event loops, "
                                 "and this module does not say which one runs it")
        if own:
            return Library(None, f"the module imports {_several(own)}, and no single event loop "
                                 "is started in the project")
        if self.imported:
            return Library(None, f"the project uses {_listed(self.imported)}, and this module imports "
                                 "none of them")
        return Library("asyncio")
