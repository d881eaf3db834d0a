"""Can a sync helper move to a worker thread? The screening behind BLK200 and BLK301 fixes.

``await asyncio.to_thread(helper)`` runs the helper, and everything it calls, in another thread.
That keeps the program working only when nothing it reaches is bound to the loop's thread or
raced by the coroutines that keep running meanwhile. A rewrite is refused when the helper:

- is a generator: the thread only creates it, iterating it still runs on the loop;
- touches event-loop objects (asyncio Event/Queue/Future/Lock..., ``loop.call_soon``,
  ``create_task``): they are not thread-safe; or makes one that takes the calling thread's
  loop when it is made (a future; before Python 3.10 also an event, lock or queue);
- uses sqlite3 (connections and cursors work only in the thread that created them), unless it
  opens its own connection and lets nothing of it out;
- reads the exception the calling thread is handling (``traceback.format_exc()``: a worker
  thread handles none), or its stack (``sys._getframe()``: python-dotenv's ``find_dotenv()``
  looks beside the caller's file, and a worker thread's stack has no caller);
- sets a context variable (the thread runs in a copy of the caller's context), installs a
  signal handler (main thread only) or reads a ``threading.local``;
- imports a module named at run time (``importlib.import_module(name)``), or runs one's code
  again (``importlib.reload``): that top-level code would run in the worker thread;
- touches a Tornado request handler (``self.render()``, ``self.write()``), or is handed one
  (``respond_zip(self, ...)``) or another loop-bound object: Tornado objects are used on the
  IOLoop's thread only;
- shares state with the rest of its class: it reads an attribute of ``self`` that code the
  thread does not run changes in place (a dict filled while the thread pickles it), or writes
  one that such code also writes (a sync callback of the loop pops what the thread adds).
  A constructor's ``self`` is a new object, not shared, and so is an object the coroutine
  constructs and only calls methods of (``t = Translator(); t.translate(x)``). Library code
  counts only where the project's calls reach it: a library method nothing calls runs nowhere.
  A call on ``self`` runs whichever method the object's class has: every subclass's is read.

The same holds for what the call hands over: ``to_thread(self._dump, self.user_data)`` gives
the thread the very dict that other coroutines of the class fill meanwhile
(``asyncio.gather`` of several updates), even when the helper never names ``self``.

Module-level variables are shared the same way: ``to_thread(dump, path, CACHE)`` while a
coroutine fills ``CACHE``, or a helper that changes a module-level variable that code outside
the thread also changes.
"""
from __future__ import annotations

from collections import deque
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from detector.analysis import offload
from detector.analysis.project import FunctionTarget, Project, RuleTarget, callee
from detector.analysis.summary import (
    ACCESS, ARGUMENT, ASSIGNS, IN_HANDLER, MUTATES, STORED, CallRecord, FunctionSummary, ModuleSummary, short_name,
)

# Objects that belong to the loop that created them.
LOOP_BOUND_TYPES = (
    "asyncio.Event", "asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "asyncio.Future",
    "asyncio.Task", "asyncio.Lock", "asyncio.Condition", "asyncio.Semaphore", "asyncio.BoundedSemaphore",
    "asyncio.Barrier", "asyncio.AbstractEventLoop", "asyncio.BaseEventLoop", "asyncio.StreamWriter",
    "asyncio.StreamReader", "asyncio.Transport",
    "tornado.web.RequestHandler", "tornado.websocket.WebSocketHandler", "tornado.web.UIModule",
)
# Loop-bound objects that take the calling thread's event loop when they are made: a worker
# thread has none (RuntimeError). Futures always do; the rest did before Python 3.10.
BIND_WHEN_MADE = frozenset({"asyncio.Future"})
BIND_WHEN_MADE_BEFORE_310 = frozenset({
    "asyncio.Event", "asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "asyncio.Lock",
    "asyncio.Condition", "asyncio.Semaphore", "asyncio.BoundedSemaphore",
})
# Calls that work with the calling thread's event loop: a worker thread has none, or its own
# (Tornado's ``IOLoop.current()`` makes one there, which never runs: what is registered on it
# never happens).
CURRENT_LOOP = frozenset({
    "asyncio.create_task", "asyncio.ensure_future", "asyncio.get_running_loop", "asyncio.get_event_loop",
    "asyncio.current_task", "asyncio.all_tasks", "tornado.ioloop.IOLoop.current",
})
# Loop methods, on whatever receiver: the thread-safe variant is call_soon_threadsafe.
LOOP_METHODS = frozenset({"call_soon", "call_later", "call_at", "create_task", "create_future"})
# What a loop-bound object offers other threads: calling it from a worker thread is its purpose.
THREAD_SAFE_METHODS = frozenset({"call_soon_threadsafe"})
THREAD_AFFINE_PREFIXES = ("sqlite3.",)
SQLITE_CONNECT = "sqlite3.connect"
SQLITE_ROWS = (".fetchall", ".fetchone", ".fetchmany")  # what these return is plain data
THREAD_LOCAL = "threading.local."
MAIN_THREAD_ONLY = frozenset({"signal.signal", "signal.set_wakeup_fd"})
# ``to_thread`` runs the function in a copy of the caller's context.
CONTEXT_WRITES = frozenset({"contextvars.ContextVar.set", "contextvars.ContextVar.reset"})
CONTEXT_READS = frozenset({"contextvars.ContextVar.get"})
# What the calling thread is handling: in a worker thread there is no exception.
CURRENT_EXCEPTION = frozenset({"traceback.format_exc", "traceback.print_exc", "inspect.trace", "sys.exc_info",
                               "sys.exception"})
# The calling thread's stack: in a worker thread it holds the thread's frames, not the caller's
# (python-dotenv's find_dotenv() looks for .env beside the file that called it).
CALLER_FRAMES = frozenset({"sys._getframe", "inspect.currentframe", "inspect.stack", "inspect.getouterframes",
                           "traceback.extract_stack", "traceback.format_stack", "traceback.print_stack"})
_MAX_REACHED = 500
# Shared state is compared on the object itself: ``self.attr`` in the helper and in coroutines.
SELF = "self."
CONSTRUCTORS = frozenset({"__init__", "__post_init__", "__new__"})

Writer = Tuple[ModuleSummary, FunctionSummary, CallRecord]
GlobalWriter = Tuple[ModuleSummary, FunctionSummary, bool]  # True: changes it in place, False: rebinds it


class ThreadSafety:
    def __init__(self, project: Project, oldest_minor: int = 9):
        """``oldest_minor``: the oldest Python 3 the program runs on (``target-version``)."""
        self.project = project
        self._binding_when_made = BIND_WHEN_MADE | (BIND_WHEN_MADE_BEFORE_310 if oldest_minor < 10 else frozenset())
        self._memo: Dict[Tuple[int, bool], Optional[str]] = {}
        self._context_reads: Dict[int, Optional[str]] = {}
        self._writers: Optional[Dict[str, List[Writer]]] = None
        self._global_writers: Optional[Dict[str, List[GlobalWriter]]] = None
        self._run_by_project: Optional[FrozenSet[int]] = None
        self._derived: Optional[Dict[str, List[str]]] = None  # class -> the classes that name it as a base
        self._descendants: Dict[str, List[str]] = {}  # class -> every class deriving from it

    def hazard(self, function: FunctionSummary, fresh: bool = False) -> Optional[str]:
        """Why running ``function`` in a worker thread may break the program; None when nothing is
        known against it. ``fresh``: it runs on an object nothing else can reach (``fresh_receiver``)."""
        module = self.project.module_of.get(id(function))
        if function.is_generator and module is not None:
            return (f"`{short_name(function, module)}` is a generator: a thread would only create it, "
                    "and iterating it still runs on the loop")
        key = (id(function), fresh)
        if key not in self._memo:
            self._memo[key] = self._reached_hazard(function, fresh)
        return self._memo[key]

    def reads_context(self, function: FunctionSummary) -> Optional[str]:
        """Where ``function`` (or what it runs) reads a context variable: ``loop.run_in_executor``,
        unlike ``asyncio.to_thread``, runs it in no copy of the caller's context, so a fix must make
        one (Red's per-guild locale would read the default)."""
        if id(function) not in self._context_reads:
            self._context_reads[id(function)] = self._context_read(function)
        return self._context_reads[id(function)]

    def _context_read(self, function: FunctionSummary) -> Optional[str]:
        for each in self._reached(function):
            module = self.project.module_of.get(id(each))
            for call in each.calls:
                if module is not None and not call.flags & ACCESS and self._name(call.target) in CONTEXT_READS:
                    return f"`{call.text}()` at {module.path}:{call.row}"
        return None

    def fresh_receiver(self, call: CallRecord) -> bool:
        """A method called on an instance its coroutine constructed and uses only to call methods
        (``t = Translator(); t.translate(text)``): no other code reaches that object."""
        return bool(call.made_by) and self.project.constructed(call.made_by) is not None

    def call_hazard(self, module: ModuleSummary, function: FunctionSummary, call: CallRecord) -> Optional[str]:
        """The same screening for one call moved to a thread (``to_thread(conn.execute, ...)``)."""
        if call.flags & ACCESS:
            return self._shared_state(module, function, call, f"{module.path}:{call.row}", frozenset())
        return self._thread_bound(module, call)

    def argument_hazard(self, module: ModuleSummary, function: FunctionSummary, call: CallRecord) -> Optional[str]:
        """Why the objects ``call`` (made by ``function``) receives must not go to a thread: an
        argument is an object of the loop's thread (``respond(self)`` in a Tornado handler), or an
        attribute of ``self`` that code of the project changes in place."""
        site = self.project.passed_at(module.path, call.row, call.col)
        if site is not None:
            instances = [text for index, text in enumerate(site.args) if index not in site.ref_args]
            instances += [text for name, text in site.keywords.items() if name not in site.ref_keywords]
            for instance in instances:
                bound = self._loop_bound(instance) if instance else None
                if bound is not None:
                    return (f"it is handed an object of type `{instance.rpartition('.')[2]}` "
                            f"({module.path}:{call.row}): `{bound}` objects are used on the event loop's thread only")
        for passed in _arguments(function, call):
            if not passed.text.startswith(SELF):
                continue
            for w_module, w_function, w_call in self.writers().get(passed.target, ()):
                if w_call.flags & MUTATES:
                    return (f"`{passed.text}` ({module.path}:{passed.row}) is handed to the thread as it is, and "
                            f"`{short_name(w_function, w_module)}` changes it in place ({w_module.path}:{w_call.row}): "
                            "the thread would race with it (pass a copy, or keep the call on the loop)")
        for variable in call.shares:
            for w_module, w_function, in_place in self.global_writers().get(variable, ()):
                if in_place:
                    return (f"the module-level `{_short(variable)}` ({module.path}:{call.row}) is handed to the thread "
                            f"as it is, and `{short_name(w_function, w_module)}` ({w_module.path}) changes it in "
                            "place: the thread would race with it (pass a copy, or keep the call on the loop)")
        return None

    def _loop_bound(self, type_name: str) -> Optional[str]:
        """The loop-bound type (``LOOP_BOUND_TYPES``) an object of ``type_name`` is, or derives from."""
        seen: Set[str] = set()
        pending = [self.project.expand(type_name) or type_name]
        while pending:
            name = pending.pop()
            if name in LOOP_BOUND_TYPES:
                return name
            cls = self.project.classes.get(name)
            if cls is None or name in seen or len(seen) > _MAX_REACHED:
                continue
            seen.add(name)
            pending.extend(base_name for base_name in (self.project.expand(base.name) for base in cls.bases if base)
                           if base_name is not None)
        return None

    # -- what the helper reaches ------------------------------------------------------------
    def _reached(self, function: FunctionSummary, handlers: bool = True) -> List[FunctionSummary]:
        """What running ``function`` runs; without ``handlers``, not through calls in ``except``
        handlers (what runs only while the thread handles an exception)."""
        seen = {id(function)}
        order = [function]
        queue = deque([function])
        while queue and len(order) < _MAX_REACHED:
            caller = queue.popleft()
            for call in caller.calls:
                if not handlers and call.flags & IN_HANDLER:
                    continue
                target = callee(self.project, call)
                for each in ([target] if target is not None else []) + self._overrides(caller, call):
                    if id(each) not in seen:
                        seen.add(id(each))
                        order.append(each)
                        queue.append(each)
        return order

    def _overrides(self, function: FunctionSummary, call: CallRecord) -> List[FunctionSummary]:
        """What ``self.m()`` in ``function`` runs on an object of a class deriving from its own:
        each such class's ``m`` (``FileStore._save`` calls ``self.serialize()``, which the
        store's other base defines)."""
        name = call.text[len(SELF):]
        if call.flags & ACCESS or not call.text.startswith(SELF) or "." in name:
            return []
        found = []
        for subclass in self._subclasses(function.qualname.rpartition(".")[0]):
            member = self.project.class_member(subclass, name, 0, set())
            found += [each for each in self.project.functions.get(member or "", ()) if not each.is_async]
        return found

    def _subclasses(self, qualname: str) -> List[str]:
        """The classes of the model that derive from ``qualname``, directly or not."""
        if self._derived is None:
            self._derived = {}
            for name, cls in self.project.classes.items():
                for base in cls.bases if cls is not None else ():
                    base_name = self.project.expand(base.name) if base is not None else None
                    if base_name is not None:
                        self._derived.setdefault(base_name, []).append(name)
        found = self._descendants.get(qualname)
        if found is None:
            seen: Dict[str, None] = {}  # in the order met
            pending = list(self._derived.get(qualname, ()))
            while pending and len(seen) < _MAX_REACHED:
                name = pending.pop()
                if name not in seen:
                    seen[name] = None
                    pending.extend(self._derived.get(name, ()))
            found = self._descendants[qualname] = list(seen)
        return found

    def _reached_hazard(self, function: FunctionSummary, fresh: bool = False) -> Optional[str]:
        # A constructor's ``self`` (and what its methods do to it) is a new object: not shared yet.
        fresh = fresh or function.qualname.rpartition(".")[2] in CONSTRUCTORS
        reached = [(module, each) for each in self._reached(function)
                   for module in (self.project.module_of.get(id(each)),) if module is not None]
        own_connection = self._own_connection(function, reached)
        # ``sys.exc_info()`` run by an ``except`` handler (or what one calls) reads the exception the
        # thread handles there, in a worker thread too: only the rest reads the caller's.
        exposed = {id(each) for each in self._reached(function, handlers=False)}
        # What breaks in any thread (an object of the loop's thread, the caller's stack) is said
        # before what breaks only when the timing is wrong (a race).
        for module, each in reached:
            for call in each.calls:
                handling = id(each) not in exposed or bool(call.flags & IN_HANDLER)
                found = self._thread_bound(module, call, own_connection, handling)
                if found:
                    return found
        inside = frozenset(id(each) for _, each in reached)  # what the thread itself runs races with nothing
        for module, each in reached:
            found = self._global_state(module, each, inside)
            if found:
                return found
            for call in each.calls:
                if call.flags & ACCESS and not fresh:
                    found = self._shared_state(module, each, call, f"{module.path}:{call.row}", inside)
                    if found:
                        return found
        return None

    def _own_connection(self, function: FunctionSummary, reached: List[Tuple[ModuleSummary, FunctionSummary]]) -> bool:
        """The helper opens its own sqlite3 connection and nothing of it leaves the thread: it
        is kept nowhere (``self.db = sqlite3.connect(...)``) and returned by neither the helper
        nor the function that opens it (``g.db = connect_db()`` keeps what ``connect_db``
        returns), so the thread that made it is the only one that uses it."""
        connects = [(each, call) for _, each in reached for call in each.calls
                    if self._name(call.target) == SQLITE_CONNECT]
        return bool(connects) and not any(call.flags & STORED or self._returns_connection(each) for each, call in connects) \
            and not self._returns_connection(function)

    def _returns_connection(self, function: FunctionSummary) -> bool:
        """Whether ``function`` returns a sqlite3 connection or cursor (rows are plain data)."""
        returned = (self.project.expand(function.returns) or function.returns) if function.returns else ""
        return returned.startswith("sqlite3.") and not returned.endswith(SQLITE_ROWS)

    def _thread_bound(self, module: ModuleSummary, call: CallRecord, own_connection: bool = False,
                      handling: bool = False) -> Optional[str]:
        """What ``call`` (or attribute access) does that works on the calling thread only
        (``own_connection``: sqlite3 calls on anything but ``self`` use the thread's own;
        ``handling``: the call runs while the thread handles an exception of its own)."""
        where = f"{module.path}:{call.row}"
        name = self._name(call.target)
        if name.startswith(THREAD_LOCAL):
            return (f"`{call.text}` at {where} is an attribute of a `threading.local`: a worker thread has its own "
                    "values, not the caller's")
        if call.flags & ACCESS:
            return None
        if name in MAIN_THREAD_ONLY:
            return f"`{call.text}()` at {where} works in the main thread only (a worker thread gets a ValueError)"
        module_code = offload.module_code_reason(name, call.args)
        if module_code:
            return f"`{call.text}()` at {where}: {module_code}"
        if name in CONTEXT_WRITES:
            return (f"`{call.text}()` at {where} sets a context variable: a worker thread runs in a copy of the "
                    "caller's context, so the caller never sees the value")
        if name.startswith(THREAD_AFFINE_PREFIXES) and not (own_connection and not call.text.startswith(SELF)):
            return (f"`{call.text}()` at {where} uses a sqlite3 connection, which works only in the thread "
                    "that created it")
        if name in CURRENT_EXCEPTION and not handling:
            return (f"`{call.text}()` at {where} reads the exception the calling thread is handling: a worker "
                    "thread handles none")
        if name in CALLER_FRAMES:
            return (f"`{call.text}()` at {where} reads the calling thread's stack: in a worker thread it finds "
                    "the thread's own frames, not its caller's")
        if name in self._binding_when_made:
            before = " before Python 3.10" if name in BIND_WHEN_MADE_BEFORE_310 else ""
            return (f"`{call.text}()` at {where} makes an event-loop object, which{before} takes the calling "
                    "thread's event loop: a worker thread has none (RuntimeError)")
        if name in CURRENT_LOOP:
            return (f"`{call.text}()` at {where} works with the calling thread's event loop: a worker thread "
                    "has none, or one that never runs (keep the call on the loop and offload only the blocking part)")
        method = offload.method_name(call.target)
        if method in THREAD_SAFE_METHODS:
            return None
        if name.startswith(tuple(t + "." for t in LOOP_BOUND_TYPES)) or method in LOOP_METHODS:
            return (f"`{call.text}()` at {where} uses an event-loop object, which is not thread-safe "
                    "(keep it on the loop and offload only the blocking part)")
        return None

    def _name(self, target: str) -> str:
        resolved = self.project.resolve(target)
        if isinstance(resolved, RuleTarget):
            return resolved.name
        if isinstance(resolved, FunctionTarget):
            return resolved.function.qualname
        return self.project.expand(target) or target

    # -- shared state ------------------------------------------------------------------------
    def _shared_state(self, module: ModuleSummary, function: FunctionSummary, call: CallRecord,
                      where: str, inside: FrozenSet[int]) -> Optional[str]:
        if function.qualname.rpartition(".")[2] in CONSTRUCTORS or not call.text.startswith(SELF):
            return None  # a new object is not shared yet; another object is not this one
        helper_writes = call.flags & (ASSIGNS | MUTATES)
        for w_module, w_function, w_call in self.writers().get(call.target, ()):
            if id(w_function) in inside:
                continue
            if not (w_call.flags & MUTATES or helper_writes):
                continue  # the loop rebinds it, the thread only reads it: each sees one object
            did = "writes" if helper_writes else "reads"
            kind = "async " if w_function.is_async else ""
            return (f"`{short_name(function, module)}` {did} `{call.text}` ({where}), which {kind}"
                    f"`{short_name(w_function, w_module)}` also changes ({w_module.path}:{w_call.row}): "
                    "the thread would race with it (copy the data on the loop and offload only the I/O)")
        return None

    def _global_state(self, module: ModuleSummary, function: FunctionSummary, inside: FrozenSet[int]) -> Optional[str]:
        """``function`` (run by the thread) changes a module-level variable that code outside the
        thread also changes, or hands one to a call while such code changes it in place."""
        used = [(variable, True) for variable in function.global_changes + function.global_rebinds]
        used += [(variable, False) for call in function.calls for variable in call.shares]
        for variable, writes in used:
            for w_module, w_function, in_place in self.global_writers().get(variable, ()):
                if id(w_function) in inside or not (in_place or writes):
                    continue  # the loop rebinds it, the thread only reads it: each sees one object
                kind = "async " if w_function.is_async else ""
                return (f"`{short_name(function, module)}` {'changes' if writes else 'reads'} the module-level "
                        f"`{_short(variable)}`, which {kind}`{short_name(w_function, w_module)}` ({w_module.path}) also "
                        "changes: the thread would race with it (copy the data on the loop and offload only the I/O)")
        return None

    def global_writers(self) -> Dict[str, List[GlobalWriter]]:
        """Module-level variables (``pkg.mod.CACHE``) and the functions that change them, in place
        or under ``global``; coroutines and in-place changes first."""
        if self._global_writers is None:
            self._global_writers = {}
            for module, function in self._may_run():
                for variable in function.global_changes:
                    self._global_writers.setdefault(variable, []).append((module, function, True))
                for variable in function.global_rebinds:
                    self._global_writers.setdefault(variable, []).append((module, function, False))
            for found in self._global_writers.values():
                found.sort(key=lambda w: (not w[1].is_async, not w[2]))
        return self._global_writers

    def writers(self) -> Dict[str, List[Writer]]:
        """Attributes of project classes (``pkg.C.attr``) and the functions that change them
        through ``self`` (constructors left out: their object is new), coroutines and in-place
        changes first."""
        if self._writers is None:
            self._writers = {}
            for module, function in self._may_run():
                if function.qualname.rpartition(".")[2] in CONSTRUCTORS:
                    continue
                for call in function.calls:
                    if call.flags & ACCESS and call.flags & (ASSIGNS | MUTATES) and call.text.startswith(SELF):
                        self._writers.setdefault(call.target, []).append((module, function, call))
            for found in self._writers.values():
                found.sort(key=lambda w: (not w[1].is_async, not w[2].flags & MUTATES))
        return self._writers

    def _may_run(self) -> Iterator[Tuple[ModuleSummary, FunctionSummary]]:
        """Every function of the project, and the library functions its code calls: a library
        function nothing of the program calls (``Workbook.move_sheet`` of a workbook the project
        only loads and saves) runs neither on the loop nor anywhere else, so it races with nothing."""
        if self._run_by_project is None:
            self._run_by_project = self._called_from_project()
        for module in self.project.summaries:
            library = self.project.is_library(module)
            for function in module.functions:
                if not library or id(function) in self._run_by_project:
                    yield module, function

    def _called_from_project(self) -> FrozenSet[int]:
        """The library functions the project's calls and callbacks reach, in any branch, in turn."""
        project = self.project
        pending = [function for module in project.summaries if not project.is_library(module)
                   for function in module.functions]
        reached: Set[int] = set()
        while pending:
            function = pending.pop()
            for call in (*function.calls, *function.callbacks):
                resolved = project.resolve(call.target)
                if isinstance(resolved, FunctionTarget) and id(resolved.function) not in reached \
                        and project.in_library(resolved.function.qualname):
                    reached.add(id(resolved.function))
                    pending.append(resolved.function)
        return frozenset(reached)


def _short(variable: str) -> str:
    return variable.rpartition(".")[2]


def _arguments(function: FunctionSummary, call: CallRecord) -> Iterator[CallRecord]:
    """The attributes ``function`` passes to ``call`` itself (not to a call inside its arguments)."""
    calls = [c for c in function.calls if not c.flags & ACCESS]
    for passed in function.calls:
        if passed.flags & ARGUMENT and _within(passed, call):
            owner = min((c for c in calls if _within(passed, c)), key=_extent, default=None)
            if owner is call:
                yield passed


def _within(inner: CallRecord, outer: CallRecord) -> bool:
    return (outer.row, outer.col) <= (inner.row, inner.col) and (inner.end_row, inner.end_col) <= (outer.end_row, outer.end_col)


def _extent(call: CallRecord) -> Tuple[int, int, int, int]:
    """Orders spans that contain one point: the innermost (latest start, earliest end) first."""
    return (-call.row, -call.col, call.end_row, call.end_col)
