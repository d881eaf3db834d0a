"""What counts as offloading, and the loop APIs whose misuse offload reports (BLK3xx).

Targets are the dotted names the module pass resolves calls to. A method on a receiver of
unknown type is spelled ``<unknown>.name``; only the distinctive loop method names below are
kept that way, since ``loop`` is rarely a resolvable name.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

UNKNOWN = "<unknown>"
# API -> index of the argument that is the function to run in a thread.
OFFLOAD_FUNCTIONS = {
    "asyncio.to_thread": 0,
    "anyio.to_thread.run_sync": 0,
    "trio.to_thread.run_sync": 0,
    # Starlette's (and FastAPI's re-export): ``await run_in_threadpool(func, *args, **kwargs)``.
    "starlette.concurrency.run_in_threadpool": 0,
    "fastapi.concurrency.run_in_threadpool": 0,
}
OFFLOAD_METHODS = {"run_in_executor": 1}
# Offload calls (by name) that pass keyword arguments on to the function; the others take none.
TAKES_KEYWORDS = frozenset({"to_thread", "submit", "partial", "run_in_threadpool"})
# Running a loop from inside a running loop.
NESTED_LOOP_FUNCTIONS = frozenset({"asyncio.run"})
NESTED_LOOP_METHODS = frozenset({"run_until_complete", "run_forever"})
EXECUTORS = frozenset({"concurrent.futures.ThreadPoolExecutor", "concurrent.futures.ProcessPoolExecutor"})
GATHER = frozenset({"asyncio.gather"})

# Async libraries, by the top-level module that names them (uvloop is asyncio's loop).
LIBRARIES = {"asyncio": "asyncio", "uvloop": "asyncio", "trio": "trio", "anyio": "anyio"}
# Calls that start an event loop: the library that runs the program's coroutines.
LOOP_RUNNERS = {
    "asyncio.run": "asyncio",
    "asyncio.Runner": "asyncio",
    "uvloop.run": "asyncio",
    "trio.run": "trio",
    "trio.lowlevel.start_guest_run": "trio",
    "anyio.run": "anyio",
}
LOOP_RUNNER_METHODS = {"run_until_complete": "asyncio", "run_forever": "asyncio"}

# Loop callbacks (``call_soon``, ...) are catalogue data: rules/loop.toml, ``Catalog.callback_argument``.
LOOP_METHOD_NAMES = frozenset(OFFLOAD_METHODS) | NESTED_LOOP_METHODS


def method_name(target: str) -> str:
    return target.rpartition(".")[2]


def offloaded_argument(target: str, wrappers: Iterable[str] = ()) -> Optional[int]:
    """Index of the argument a call to ``target`` runs in a thread, if it is an offload API."""
    if target in OFFLOAD_FUNCTIONS:
        return OFFLOAD_FUNCTIONS[target]
    name = method_name(target)
    if name in OFFLOAD_METHODS:
        return OFFLOAD_METHODS[name]
    if any(target == w or name == method_name(w) for w in wrappers):
        return 0  # configured wrappers take the function first, like asyncio.to_thread
    return None


def runs_nested_loop(target: str) -> bool:
    return target in NESTED_LOOP_FUNCTIONS or method_name(target) in NESTED_LOOP_METHODS


def loop_runner(target: str) -> Optional[str]:
    """The library whose event loop a call to ``target`` starts, if it starts one."""
    if target in LOOP_RUNNERS:
        return LOOP_RUNNERS[target]
    if target.startswith((UNKNOWN + ".", "asyncio.")):
        return LOOP_RUNNER_METHODS.get(method_name(target))
    return None


# Calls that run a module's top-level code, which then runs in the worker thread: code such as
# ``session = aiohttp.ClientSession()`` there needs the running loop. A rewrite is made only for
# a module named by a string literal (one module the project chose), never for ``exec_module``
# or ``reload``: they run a module object already in ``sys.modules``, which the coroutines
# still running on the loop would see half-executed.
_MODULE_BY_NAME = frozenset({"importlib.import_module", "__import__", "importlib.util.find_spec"})
_MODULE_IN_PLACE = frozenset({"importlib.abc.Loader.exec_module", "importlib.reload"})
_LITERAL_FIRST = re.compile(r"""\s*[rRuU]?(?:"[^"\\]*"|'[^'\\]*')\s*(?:,|$)""")


def module_code_reason(name: str, args: str) -> str:
    """Why offloading ``name(args)`` cannot be shown right: it runs code of a module offload does
    not know, or of one the loop can see meanwhile ("" when neither)."""
    if name in _MODULE_IN_PLACE:
        return ("it runs the code of a module already in `sys.modules` in the thread: the loop would see the "
                "module half-executed, and its top-level code would run off the loop thread")
    if name in _MODULE_BY_NAME and not _LITERAL_FIRST.match(args):
        return ("it imports a module named at run time, whose top-level code would run in the thread "
                "(code that needs the running loop there fails)")
    return ""
