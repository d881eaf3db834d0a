"""Which project functions block, and by which path: the shortest chain of sync calls from each
down to a catalogued blocking call (see ``propagate`` for the call graph's edges)."""
from __future__ import annotations

from collections import deque
from typing import Deque, Dict, List, Tuple

from detector.analysis.findings import suppressed
from detector.analysis.project import Project, RuleTarget, callee
from detector.analysis.summary import (
    ACCESS, AWAITED, CONDITIONAL, CallRecord, FunctionSummary, ModuleSummary, short_name,
)
from detector.display import one_line
from detector.model import Hop

CODE = "BLK200"  # the chains stop at a noqa for this rule too
Chain = Tuple[Hop, ...]
# Imports by name inside installed libraries (``__import__(ref)`` resolving "pkg.mod:Class" strings,
# lazy ``import`` statements): the module is almost always loaded by then, and which one it is
# depends on data the project passes. Not a chain's end there: silence over a guess.
_LIBRARY_IMPORTS = frozenset({"__import__", "importlib.import_module", "import", "pkgutil.resolve_name"})
# Reads and writes on a stream a library was handed (``t.BinaryIO``: stdout, a socket file, a
# BytesIO): which one it is depends on the caller. The ``open()`` that makes a file is the chain's end.
_LIBRARY_STREAM = "io.IOBase."


def _library_guess(name: str) -> bool:
    """A catalogued call that, in an installed library's code, blocks only for some callers."""
    return name in _LIBRARY_IMPORTS or name.startswith(_LIBRARY_STREAM)


def hop(module: ModuleSummary, function: FunctionSummary, call: CallRecord) -> Hop:
    return Hop(module.path, call.row, call.col, short_name(function, module), one_line(call.text))


def blocking_chains(project: Project) -> Dict[int, Chain]:
    """id(sync function) -> the shortest chain from one of its calls down to a blocking call."""
    chains: Dict[int, Chain] = {}
    callers: Dict[int, List[Tuple[ModuleSummary, FunctionSummary, CallRecord]]] = {}
    queue: Deque[FunctionSummary] = deque()
    for module in project.summaries:
        library = project.is_library(module)
        for function in module.functions:
            if function.is_async:
                continue
            for call in function.calls:
                if library and call.flags & CONDITIONAL:
                    continue  # a library's branches run for some callers' data only: silence over a guess
                if call.flags & (AWAITED | ACCESS) == 0:
                    resolved = project.resolve(call.target)
                    if isinstance(resolved, RuleTarget):
                        if library and _library_guess(resolved.name):
                            continue
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
