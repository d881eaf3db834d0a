"""Advice for waits on thread synchronisation primitives (BLK170), fitted to the API.

``Thread.join()`` can simply wait in a worker thread. A lock or a queue that only coroutines
use should become its asyncio twin; one that sync code (threads) shares can be waited for in a
worker thread, except an ``RLock`` or a ``Condition``, which belong to the thread that acquires
them. Whether sync code shares it is read from the module: a sync function of the same class
(for ``self.x``) or module (for a module-level name) that calls its methods or holds it in a
``with`` statement. Anything else (a parameter, a local) is unknown, and the advice gives both.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from detector.analysis.fixpolicy import Spelling
from detector.analysis.project import Project
from detector.analysis.summary import KEYWORDS, CallRecord, FunctionSummary, ModuleSummary
from detector.display import one_line

JOINS = frozenset({"threading.Thread.join", "multiprocessing.Process.join"})
# Lock-like acquire -> (kind, whether a worker thread can acquire it for the loop).
ACQUIRES: Dict[str, Tuple[str, bool]] = {
    "threading.Lock.acquire": ("Lock", True),
    "threading.Semaphore.acquire": ("Semaphore", True),
    "threading.BoundedSemaphore.acquire": ("BoundedSemaphore", True),
    "threading.RLock.acquire": ("Lock", False),
    "threading.Condition.acquire": ("Condition", False),
}
QUEUE_GET = "queue.Queue.get"
FUTURE_RESULT = "concurrent.futures.Future.result"
SHARED = frozenset(ACQUIRES) | {QUEUE_GET}  # whose advice depends on who else uses the object
_QUEUES = {
    "asyncio": "an `asyncio.Queue` and `await {q}.get()`",
    "anyio": "a memory object stream (`anyio.create_memory_object_stream`)",
    "trio": "a memory channel (`trio.open_memory_channel`)",
}


def receiver(call: CallRecord) -> str:
    return one_line(call.text).rpartition(".")[0]


def sharer(project: Project, module: ModuleSummary, function: FunctionSummary, call: CallRecord,
           api: str) -> Optional[str]:
    """The sync function that also uses the receiver of ``call`` (a call of ``api``): "" when
    only coroutines do; None when it cannot be known."""
    name = receiver(call)
    kind = api.rpartition(".")[0]
    if name.startswith(("self.", "cls.")) and name.count(".") == 1:
        owner = function.qualname.rpartition(".")[0] + "."
    elif name.isidentifier() and name in module.bindings:
        owner = module.module + "."
    else:
        return None
    for other in module.functions:
        if other.is_async or not other.qualname.startswith(owner):
            continue
        if name in other.locks or any(c.text.rpartition(".")[0] == name and _expands_to(project, c.target, kind)
                                      for c in other.calls):
            return other.qualname[len(module.module) + 1:]
    return ""


def _expands_to(project: Project, target: str, kind: str) -> bool:
    """A call of ``target`` is a method of ``kind`` (``threading.Lock``)."""
    name = target if target.startswith(kind + ".") else project.expand(target)
    return name is not None and project.catalog.canonical(name).startswith(kind + ".")


def advice(call: CallRecord, api: str, spelling: Spelling, shared: Optional[str]) -> Optional[str]:
    """What to write instead of ``call`` (a call of the catalogue's ``api``), when the API has a
    better answer than the rule's."""
    library = spelling.library or "asyncio"
    name = receiver(call)
    in_thread = spelling.rewrite(one_line(call.text), call.args, bool(call.flags & KEYWORDS))
    if api in JOINS:
        return f"wait for it in a worker thread: `{in_thread}`"
    if api == FUTURE_RESULT and library == "asyncio" and not call.args:
        return f"await it: `await asyncio.wrap_future({name})`"
    if api == QUEUE_GET:
        twin = _QUEUES[library].format(q=name)
        if shared == "":
            return f"only coroutines use `{name}`: make it {twin}"
        if shared:
            return f"`{name}` is also used by sync code (`{shared}`): wait in a worker thread, `{in_thread}`"
        return f"if only coroutines use `{name}`, make it {twin}; if threads feed it, `{in_thread}`"
    if api in ACQUIRES:
        kind, threadable = ACQUIRES[api]
        twin = f"`{library}.{'Semaphore' if kind == 'BoundedSemaphore' and library != 'asyncio' else kind}`"
        reentrant = " (not reentrant)" if api == "threading.RLock.acquire" else ""
        own = f"make it an {twin}{reentrant} held with `async with {name}:`"
        if threadable:
            other = f"acquire it in a worker thread, `{in_thread}` (a cancelled wait still takes it)"
        else:
            other = ("run the code that holds it in a sync function in a worker thread (it belongs to the thread "
                     "that acquires it, so a thread cannot take it for the loop)")
        if shared == "":
            return f"only coroutines use `{name}`: {own}"
        if shared:
            return f"`{name}` is also used by sync code (`{shared}`): {other}"
        return f"if only coroutines use `{name}`, {own}; if threads share it, {other}"
    return None
