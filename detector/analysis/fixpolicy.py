"""Whether a finding gets a fix, and how its advice is spelled.

A fix is offered only when offload can show the rewrite keeps the program working; otherwise
the finding keeps its advice as a suggestion whose ``reason`` says why there is no rewrite.
What this module decides, per finding:

- where the code runs: functions matched by ``not-on-loop`` are not run by an asyncio loop
  (a driver steps them with ``coro.send(None)``), so they get no findings at all;
- which library the advice and the fix spell (``flavour.Flavours``, ``target-version``
  below py39 and ``executor``: ``run_in_executor``); an unknown library means no fix;
- test files: blocking there is often deliberate (a test that blocks the loop on purpose),
  so plain ``--fix`` never rewrites them: a safe fix becomes unsafe.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Dict, Optional, Sequence

from detector.analysis import unittests
from detector.analysis.flavour import Flavours
from detector.analysis.summary import FIRST_ITEM, KEYWORDS, CallRecord, FunctionSummary, ModuleSummary
from detector.config import Config, has_to_thread, loop_getter
from detector.display import one_line
from detector.model import Applicability, Fix

if TYPE_CHECKING:
    from detector.analysis.project import Project

STREAM = "io.IOBase"
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py", "conftest.py")
TEST_DIRECTORIES = frozenset({"tests", "test"})


@dataclass(frozen=True)
class Spelling:
    """How one module offloads and sleeps: ``library`` None means it cannot be known.

    Advice is spelled as the rewrite of ``detector.rewrite`` writes it, arguments included:
    ``await asyncio.to_thread(f, a, k=v)``; anyio's and trio's ``to_thread.run_sync`` and
    ``run_in_executor`` take no keyword arguments, so those go through ``functools.partial``."""

    library: Optional[str]
    reason: str = ""
    executor: Optional[str] = None  # the executor expression, for run_in_executor (before 3.9)
    loop: str = "get_running_loop"  # how the coroutine gets its loop, for run_in_executor

    def call(self, args: str) -> str:
        """``await asyncio.to_thread(<args>)`` in this module's library (asyncio's when unknown)."""
        if self.executor is not None:
            return f"await asyncio.{self.loop}().run_in_executor({self.executor}, {args})"
        return f"await {self.runner()}({args})"

    def runner(self) -> str:
        """The function that runs a sync callable in a worker thread."""
        if self.executor is not None:
            return "loop.run_in_executor"
        return "asyncio.to_thread" if self.library in (None, "asyncio") else f"{self.library}.to_thread.run_sync"

    def rewrite(self, function: str, args: str = "", keywords: bool = False, in_context: bool = False) -> str:
        """``function(args)`` run in a worker thread, as the fix writes it; ``in_context``: through
        ``contextvars.copy_context().run`` when ``run_in_executor`` runs it (``Fix.in_context``)."""
        target = joined(function, args)
        if keywords and (self.executor is not None or self.library not in (None, "asyncio")):
            target = f"functools.partial({target})"
        if in_context and self.executor is not None:
            target = f"contextvars.copy_context().run, {target}"
        return self.call(target)

    def offload(self, call: CallRecord) -> str:
        """The advice to offload ``call``, spelled as its rewrite."""
        function = one_line(call.text)
        if self.library is None:
            return f"run `{function}({call.args})` in a worker thread"
        return f"offload it with `{self.rewrite(function, call.args, bool(call.flags & KEYWORDS))}`"

    def consume(self, call: CallRecord) -> str:
        """A lazy result consumed in the thread: ``lambda: list(f(a))``; its first item only, for
        ``next(f(a))``: ``next, f(a)``."""
        made = f"{one_line(call.text)}({call.args})"
        return f"`{self.call(f'next, {made}' if call.flags & FIRST_ITEM else f'lambda: list({made})')}`"

    def sleep(self, args: str = "") -> str:
        if self.library is None:
            return "sleep with the event loop's own non-blocking sleep"
        return f"use `{self.sleep_call(args)}`"

    def sleep_call(self, args: str) -> str:
        return f"await {self.library or 'asyncio'}.sleep({args})"

    def title(self, remedy: str, call: Optional[CallRecord] = None, in_context: bool = False) -> str:
        """The fix's title: the rewrite of ``call`` (or its shape, without one)."""
        if remedy == "asyncio.sleep":
            return f"Replace with `{self.sleep_call(call.args if call is not None else '')}`"
        if call is None:
            return f"Wrap in `{self.runner()}`"
        return f"Wrap in `{self.rewrite(one_line(call.text), call.args, bool(call.flags & KEYWORDS), in_context)}`"


def joined(function: str, args: str) -> str:
    """``f`` and ``a, k=v`` as the arguments of an offload call: ``f, a, k=v``."""
    return f"{function}, {args}" if args else function


class Policy:
    def __init__(self, project: Project, config: Config):
        self.config = config
        self.catalog = project.catalog
        self.flavours = Flavours(project.own_summaries)
        self.patterns = tuple(getattr(config, "not_on_loop", ()) or ())
        self._spellings: Dict[int, Spelling] = {}
        self._tests: Dict[str, bool] = {}
        self._never_run = unittests.never_run(project)

    # -- where code runs ---------------------------------------------------------------------
    def on_loop(self, function: FunctionSummary) -> bool:
        """False for functions ``not-on-loop`` names (itself, its class or module, or a glob),
        and for coroutine test methods plain ``unittest`` never awaits."""
        if id(function) in self._never_run:
            return False
        name = function.qualname
        for pattern in self.patterns:
            if fnmatch.fnmatchcase(name, pattern) or name.startswith(pattern + "."):
                return False
        return True

    def is_test_file(self, path: str) -> bool:
        found = self._tests.get(path)
        if found is None:
            found = self._tests[path] = _is_test_file(path, self.config.root)
        return found

    def returns_stream(self, target: str) -> bool:
        """The call returns a file object, whose reads happen later, where it is used."""
        return self.catalog.result_type(target) == STREAM

    # -- spelling and fixes --------------------------------------------------------------------
    def spelling(self, module: ModuleSummary) -> Spelling:
        found = self._spellings.get(id(module))
        if found is None:
            library = self.flavours.of(module)
            executor = None
            if library.name == "asyncio" and (self.config.executor or not has_to_thread(self.config.target_version)):
                executor = self.config.executor.split(":", 1)[1] if self.config.executor else "None"
            found = self._spellings[id(module)] = Spelling(library.name, library.reason, executor,
                                                           loop_getter(self.config.target_version))
        return found

    def fix(self, module: ModuleSummary, applicability: Applicability, title: str,
            reason: str = "", call: Optional[CallRecord] = None, in_context: bool = False) -> Optional[Fix]:
        """The fix record of a finding in ``module``; ``reason`` (why a rewrite is unsafe) makes it a
        suggestion, as does a rewritten ``call`` inside a ``with`` block that may hold what other
        coroutines use, or between a test of shared state and its change."""
        spelling = self.spelling(module)
        if not reason and call is not None and call.held and applicability is not Applicability.SUGGESTION:
            reason = (f"inside `with {call.held}:` an `await` lets other coroutines run while it is entered: "
                      "one that enters it too would block the loop (a lock), or see what it changes (a redirect, "
                      "a patch)")
        if not reason and call is not None and call.checked and applicability is not Applicability.SUGGESTION:
            reason = (f"an `await` here would come between the test of `{call.checked}` and the change of it that "
                      "follows: "
                      "other coroutines could pass the same test meanwhile (offload before the test, or hold an "
                      "`asyncio.Lock` around both)")
        if applicability is Applicability.SUGGESTION or reason:
            return Fix(Applicability.SUGGESTION, title, reason=reason or None)
        if spelling.library is None:
            return Fix(Applicability.SUGGESTION, title, reason=spelling.reason)
        if applicability is Applicability.SAFE and self.is_test_file(module.path):
            applicability = Applicability.UNSAFE  # a test may block on purpose
        library = "executor" if spelling.executor is not None else spelling.library
        return Fix(applicability, title, library=library, in_context=in_context and library == "executor")


def _is_test_file(path: str, root: Path) -> bool:
    try:
        parts = Path(path).resolve().relative_to(root.resolve()).parts
    except (ValueError, OSError):
        parts = PurePath(path).parts
    return is_test_path(PurePath(path).name, parts[:-1])


def is_test_path(name: str, directories: Sequence[str]) -> bool:
    """A test module by its name (``test_*.py``, ``conftest.py``) or a directory (``tests/``)."""
    return (any(fnmatch.fnmatchcase(name, p) for p in TEST_FILE_PATTERNS)
            or any(part in TEST_DIRECTORIES for part in directories))
