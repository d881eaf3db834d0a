"""Analysing files: in this process for small runs, in worker processes for larger ones.

The parent reads each file (it needs the bytes' digest for the cache anyway) and sends the
bytes, so what a worker analyses is exactly what was hashed. Workers load the catalogue once
(pool initializer), take chunks of files, biggest first, and send back summaries -- with their
cache encoding (JSON, ``detector.cache.codec``) when the parent will store them, so that work
is spread over the workers. libcst
is imported only here, inside the function that analyses (and before forking a pool, so that
its workers inherit it), so a run whose files all come from the cache never imports it.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Set, Tuple, Union

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
    from multiprocessing.sharedctypes import SynchronizedArray

    from detector.analysis.summary import ModuleSummary
    from detector.catalog import Catalog

# Below this many files to analyse, starting processes costs more than it saves.
MIN_PARALLEL = 30
_CHUNKS_PER_JOB = 16
_MAX_CHUNK_FILES = 64


@dataclass
class Task:
    index: int
    data: bytes
    shown: str  # display path, written into the summary and its findings
    module: str
    is_package: bool


# Called once per task, in completion order: (task, summary, the summary encoded for the cache or None).
Done = Callable[[Task, "ModuleSummary", Optional[bytes]], None]
# What a worker sends back for one task: (task index, summary, encoded summary or None).
Result = Tuple[int, "ModuleSummary", Optional[bytes]]


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def analyse(data: bytes, shown: str, catalog: Catalog, module: str, is_package: bool) -> ModuleSummary:
    """One file's ModuleSummary. A bug in offload becomes a BLK903 diagnostic for that file only."""
    from detector.analysis import deepstack

    return deepstack.call(_analyse, data, shown, catalog, module, is_package)


def _analyse(data: bytes, shown: str, catalog: Catalog, module: str, is_package: bool) -> ModuleSummary:
    from detector.analysis.module import summarize  # imports libcst: only when a file needs it

    # One file's trees and scopes are freed together: rather than letting the cycle collector
    # walk them again and again while they are built, collect the young generation once at the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return summarize(data, shown, catalog, module, is_package)
    except Exception as exc:
        from detector.analysis import diagnostics
        from detector.analysis.summary import ModuleSummary

        summary = ModuleSummary(path=shown, module=module)
        summary.diagnostics.append(diagnostics.diagnostic(
            diagnostics.INTERNAL_ERROR, shown, f"internal error: {type(exc).__name__}: {exc}"))
        return summary
    finally:
        if collecting:
            gc.enable()
            gc.collect(0)


# -- worker processes -----------------------------------------------------------------------
_WORKER_CATALOG: List[Catalog] = []
# In a worker: the shared array of "task being analysed" slots, and this worker's slot in it.
_WORKER_SLOT: List[Any] = []  # [slots, index]
_FREE, _IDLE = -2, -1


def _init_worker(catalog: Catalog, slots: Optional[SynchronizedArray[int]] = None) -> None:
    """Pool initializer: the effective catalogue (built-in + config entries), once per process,
    and a slot in which this worker says which file it is analysing (to isolate a crash)."""
    _WORKER_CATALOG[:] = [catalog]
    _WORKER_SLOT[:] = []
    if slots is not None:
        with slots.get_lock():
            free = [i for i in range(len(slots)) if slots[i] == _FREE]
            if free:
                slots[free[0]] = _IDLE
                _WORKER_SLOT[:] = [slots, free[0]]
    gc.freeze()  # what the worker inherited or imported stays: the cycle collector need not scan it


def _run_chunk(tasks: Sequence[Task], encoded: bool) -> List[Result]:
    catalog = _WORKER_CATALOG[0]
    results: List[Result] = []
    for task in tasks:
        if _WORKER_SLOT:
            _WORKER_SLOT[0][_WORKER_SLOT[1]] = task.index
        summary = analyse(task.data, task.shown, catalog, task.module, task.is_package)
        results.append((task.index, summary, _encode(summary) if encoded else None))
    return results


def _import_analysis(encoded: bool) -> None:
    """libcst and the analysis (and the cache codec when summaries are encoded): a third of a
    second of CPU for each process that imports them."""
    from detector.analysis import module  # noqa: F401

    if encoded:
        from detector.cache import codec  # noqa: F401


def _encode(summary: ModuleSummary) -> bytes:
    from detector.cache import codec

    return codec.encode_summary(summary)


def _context() -> Union[ForkContext, ForkServerContext, SpawnContext]:
    """fork is cheapest, but only safe while this process has a single thread."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def plan(tasks: Sequence[Task], jobs: int) -> List[List[Task]]:
    """Chunks of similar total size, biggest files first, so no worker is left with the giant."""
    ordered = sorted(tasks, key=lambda task: (-len(task.data), task.index))
    total = sum(len(task.data) for task in ordered)
    target = max(total // max(jobs * _CHUNKS_PER_JOB, 1), 1)
    chunks: List[List[Task]] = []
    current: List[Task] = []
    size = 0
    for task in ordered:
        current.append(task)
        size += len(task.data)
        if size >= target or len(current) >= _MAX_CHUNK_FILES:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


def worker_count(jobs: int, tasks: int) -> int:
    """``-j`` is a ceiling: never more workers than cores, nor than files to analyse."""
    return max(min(jobs, default_jobs(), tasks), 1)


def analyse_all(tasks: Sequence[Task], catalog: Catalog, jobs: int, encoded: bool, done: Done) -> None:
    """Analyse every task, calling ``done`` once per task as results arrive.

    A worker that dies (a crash in native code, the out-of-memory killer) costs the file it
    was analysing a BLK903 diagnostic: the files in flight are re-run one process each, the
    rest in a new pool."""
    jobs = worker_count(jobs, len(tasks))
    if jobs <= 1 or len(tasks) < MIN_PARALLEL:
        _in_process(tasks, catalog, encoded, done)
        return
    remaining = list(tasks)
    while remaining:
        remaining = _pooled(remaining, catalog, jobs, encoded, done)


def _pooled(tasks: Sequence[Task], catalog: Catalog, jobs: int, encoded: bool, done: Done) -> List[Task]:
    """One pool over ``tasks``. Returns the tasks still to analyse when a worker died."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    chunks = plan(tasks, jobs)
    workers = min(jobs, len(chunks))
    context = _context()
    if context.get_start_method() == "fork":  # forked workers inherit the analysis instead of each importing it
        _import_analysis(encoded)
    slots = context.Array("q", [_FREE] * workers)
    finished: Set[int] = set()
    by_index = {task.index: task for task in tasks}
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(catalog, slots))
    try:
        pending = {pool.submit(_run_chunk, chunk, encoded) for chunk in chunks}
        while pending:
            complete, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in complete:
                for index, summary, data in future.result():
                    finished.add(index)
                    done(by_index[index], summary, data)
        return []
    except BrokenProcessPool:
        pass
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    # Which file killed the pool is not known: each file a worker had started goes alone.
    in_flight = {index for index in slots[:] if index >= 0 and index not in finished}
    unfinished = [task for task in tasks if task.index not in finished]
    if not in_flight:  # no worker got as far as a file: every file goes alone
        in_flight = {task.index for task in unfinished}
    for index in sorted(in_flight):
        _isolated(by_index[index], catalog, encoded, done)
    return [task for task in unfinished if task.index not in in_flight]


def _isolated(task: Task, catalog: Catalog, encoded: bool, done: Done) -> None:
    """One file in a process of its own: its summary, or BLK903 when the process dies."""
    context = _context()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_isolated_main, args=(send, catalog, task, encoded), daemon=True)
    process.start()
    send.close()
    try:
        value = receive.recv()
    except (EOFError, OSError):
        value = None
    finally:
        receive.close()
        process.join()
    if value is not None:
        done(task, *value)
        return
    from detector.analysis import diagnostics
    from detector.analysis.summary import ModuleSummary

    summary = ModuleSummary(path=task.shown, module=task.module)
    summary.diagnostics.append(diagnostics.crashed(task.shown, _death(process.exitcode)))
    done(task, summary, None)  # not cached: the next run tries again


def _isolated_main(send: Connection, catalog: Catalog, task: Task, encoded: bool) -> None:
    _init_worker(catalog)
    send.send(_run_chunk([task], encoded)[0][1:])
    send.close()


def _death(exitcode: Optional[int]) -> str:
    if exitcode is not None and exitcode < 0:
        import signal

        try:
            return f"the analysing process was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"the analysing process exited with status {exitcode}"


def _in_process(tasks: Sequence[Task], catalog: Catalog, encoded: bool, done: Done) -> None:
    for task in tasks:
        summary = analyse(task.data, task.shown, catalog, task.module, task.is_package)
        done(task, summary, _encode(summary) if encoded else None)
