"""Names a project module takes from another one: ``from app.util import time`` or a call of
``app.util.time.monotonic()`` in ``app.other`` takes ``time`` from ``app.util``.

``--fix`` removes an import its rewrites left unused (``import time`` once ``time.sleep`` is
``asyncio.sleep``); a module of the project that takes that name from the rewritten one would
then fail to import it, so the import stays.
"""
from __future__ import annotations

from typing import Dict, Iterator, Sequence, Set

from detector.analysis.summary import ModuleSummary


def _references(summary: ModuleSummary) -> Iterator[str]:
    """The dotted names ``summary`` binds at module level or calls, as it resolved them."""
    for value in summary.bindings.values():
        if value is not None:
            yield value.name
    for function in summary.functions:
        for call in function.calls:
            yield call.target
        yield from function.decorators


def taken_names(summaries: Sequence[ModuleSummary]) -> Dict[str, Set[str]]:
    """For each module's file (its path as shown), the names other modules of the project take
    from it."""
    paths = {summary.module: summary.path for summary in summaries}
    tops = {module.split(".", 1)[0] for module in paths}
    taken: Dict[str, Set[str]] = {}
    for summary in summaries:
        for reference in set(_references(summary)):
            if reference.split(".", 1)[0] not in tops:  # most calls: the standard library, installed packages
                continue
            parts = reference.split(".")
            for cut in range(len(parts) - 1, 0, -1):  # the longest module first: ``pkg.mod`` before ``pkg``
                module = ".".join(parts[:cut])
                if module in paths:
                    if module != summary.module:
                        taken.setdefault(paths[module], set()).add(parts[cut])
                    break
    return taken
