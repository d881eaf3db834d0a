"""Which project functions block, and by which path: the shortest chain of sync calls from each
down to a catalogued blocking call (see ``propagate`` for the call graph's edges)."""
from __future__ import annotations

import dataclasses
from collections import deque
from typing import Callable, Deque, Dict, Iterable, List, NamedTuple, Optional, Tuple

from detector.analysis.findings import suppressed
from detector.analysis.project import Project, RuleTarget, callee, on_same_instance
from detector.analysis.summary import (
    ACCESS, AWAITED, CONDITIONAL, STATEMENT_FORM, UNION, AttributeNeed, CallRecord, Construction, FunctionSummary, Given,
    ModuleSummary, Subject, short_name, union_members,
)
from detector.display import one_line
from detector.model import Hop

CODE = "BLK200"  # the chains stop at a noqa for this rule too
Chain = Tuple[Hop, ...]
_MAX_DEPTH = 12  # constructions inside constructors followed by ``reached``
# The longest chain found: far beyond any helper nesting written by hand (real chains have a
# few hops), short enough that a file of thousands of nested helpers costs linear time.
MAX_HOPS = 100
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


# What a chain's end waits for: a process, the network, a timer, a lock or the user (2); the
# content of files (1); a file-system lookup or change of one entry, microseconds on a local
# disk, or a load the first call makes only (0). A function that reaches several is shown with
# the heaviest (the ffmpeg run, not the ``isfile()`` checked before it).
_WAITS_ELSEWHERE = frozenset({"time", "console", "http", "network", "subprocess", "socket", "db", "sdk", "sync",
                              "custom"})
_FIRST_TIME = frozenset({"hidden", "importlib"})
_ENTRIES = frozenset({"os", "pathlib"})  # lookups and single-entry changes, but for these:
_CONTENT = frozenset({
    "os.walk", "os.fwalk", "os.read", "os.readv", "os.pread", "os.preadv", "os.write", "os.writev", "os.pwrite",
    "os.pwritev", "os.sendfile", "os.copy_file_range", "os.splice", "os.fsync", "os.fdatasync", "os.sync",
    "os.posix_fallocate", "tempfile.TemporaryDirectory.cleanup",
    *(f"pathlib.Path.{method}" for method in (
        "read_text", "read_bytes", "write_text", "write_bytes", "open", "glob", "rglob", "walk", "copy",
        "copy_into", "move", "move_into")),
})
_WEIGHTS = 3


def weight(target: object) -> int:
    """How heavy the wait of a chain's end is: 2, 1 or 0 (``_WAITS_ELSEWHERE``)."""
    if not isinstance(target, RuleTarget):
        return 1
    family = target.rule.family
    if family in _WAITS_ELSEWHERE:
        return 2
    if family in _FIRST_TIME or (family in _ENTRIES and target.name not in _CONTENT):
        return 0
    return 1


def hop(module: ModuleSummary, function: FunctionSummary, call: CallRecord) -> Hop:
    return Hop(module.path, call.row, call.col, short_name(function, module), one_line(call.text),
               access=bool(call.flags & ACCESS))


# The chain inside a call's callee through project code the call hands it (``handed.handed_chain``).
HandedChain = Callable[[Project, Dict[int, Chain], ModuleSummary, CallRecord], Optional[Chain]]


def blocking_chains(project: Project, handed: Optional[HandedChain] = None) -> Dict[int, Chain]:
    """id(sync function) -> the shortest chain from one of its calls down to a blocking call;
    with ``handed``, also through the callbacks and overrides the project's calls hand over."""
    chains: Dict[int, Chain] = {}
    callers: Dict[int, List[_Edge]] = {}
    queue: Deque[FunctionSummary] = deque()
    handing: List[Tuple[ModuleSummary, FunctionSummary, CallRecord]] = []  # the project's sync calls
    ends: List[_End] = []  # direct ends, in the order of the functions and their calls
    for module in project.summaries:
        library = project.is_library(module)
        for function in module.functions:
            if function.is_async:
                continue
            unset = project.unset_calls(function) if function.needs else frozenset()
            for index, call in enumerate(function.calls):
                if index in unset:
                    continue  # made only when the user sets an environment variable
                if not library and call.flags & (AWAITED | ACCESS) == 0:
                    handing.append((module, function, call))
                end = _end(project, module, function, call)
                if end is not None:
                    if end:
                        ends.append(_End(function, end, weight(project.resolve(call.target)),
                                         not call.flags & CONDITIONAL))
                    continue
                target = _followed(project, module, call)
                if target is not None:
                    callers.setdefault(id(target), []).append(_Edge(module, function, call, target))
    # A construction whose class rules out every blocking call found so far waits: a longer way
    # through its constructor may be found later.
    waiting: List[_Edge] = []
    # The heaviest waits first, along calls every run of their function makes: a function that
    # reaches several shows the heaviest, by the shortest chain among those. Then every other
    # end (those made on every run first) and call (in a branch, an ``except`` handler): a wait
    # made on some runs only does not stand for one made on every run.
    for level in range(_WEIGHTS - 1, 0, -1):
        _seed(chains, queue, (end for end in ends if end.weight == level and end.every_run))
        _spread(project, chains, callers, queue, waiting, every_run=True)
    linked = [function for module in project.summaries for function in module.functions if id(function) in chains]
    _seed(chains, queue, sorted(ends, key=lambda end: not end.every_run))
    queue.extend(linked)  # their callers in a branch are not linked yet
    _spread(project, chains, callers, queue, waiting)
    while handed is not None:
        # A call blocking through what it hands over makes its function block: new chains, which
        # may in turn be what other calls hand over.
        for module, function, call in handing:
            if id(function) not in chains and not suppressed(module, call, (CODE,)):
                found = union_chain(project, chains, module, call) if UNION in call.target else None
                inside = found[0] if found is not None else handed(project, chains, module, call)
                if inside is not None:
                    chains[id(function)] = (hop(module, function, call),) + inside
                    queue.append(function)
        if not queue:
            break
        _spread(project, chains, callers, queue, waiting)
    return chains


class _End(NamedTuple):
    """A catalogued blocking call a function makes itself."""
    function: FunctionSummary
    chain: Chain
    weight: int
    every_run: bool  # outside the function's branches


def _seed(chains: Dict[int, Chain], queue: Deque[FunctionSummary], ends: Iterable[_End]) -> None:
    """Each function without a chain yet gets its first end among ``ends``."""
    for end in ends:
        if id(end.function) not in chains:
            chains[id(end.function)] = end.chain
            queue.append(end.function)


def _spread(project: Project, chains: Dict[int, Chain], callers: Dict[int, List["_Edge"]],
            queue: Deque[FunctionSummary], waiting: List["_Edge"], every_run: bool = False) -> None:
    """Breadth-first from the functions in ``queue``: each caller gets its shortest chain (with
    ``every_run``, only callers calling outside their branches)."""
    while queue:
        function = queue.popleft()
        for edge in callers.get(id(function), ()):
            if every_run and edge.call.flags & CONDITIONAL:
                continue
            _link_edge(project, edge, chains, queue, waiting)
        if not queue and waiting:
            retry, waiting[:] = list(waiting), []
            for edge in retry:
                _link_edge(project, edge, chains, queue, waiting)


class _Edge(NamedTuple):
    module: ModuleSummary
    caller: FunctionSummary
    call: CallRecord
    target: FunctionSummary


def _link_edge(project: Project, edge: _Edge, chains: Dict[int, Chain], queue: Deque[FunctionSummary],
               waiting: List[_Edge]) -> None:
    if id(edge.caller) in chains:
        return
    inner = reached(project, edge.module, edge.call, edge.target, chains)
    if inner is None:
        waiting.append(edge)
        return
    if len(inner) >= MAX_HOPS:
        return  # generated or hostile code: each longer chain would copy the one below it
    chains[id(edge.caller)] = (hop(edge.module, edge.caller, edge.call),) + inner
    queue.append(edge.caller)


def _end(project: Project, module: ModuleSummary, function: FunctionSummary, call: CallRecord) -> Optional[Chain]:
    """A call of a sync function that is a catalogued blocking call: its one-hop chain, or ``()``
    when it is not followed (a library's guess, a noqa); None for any other call."""
    library = project.is_library(module)
    if library and call.flags & CONDITIONAL:
        return ()  # a library's branches run for some callers' data only: silence over a guess
    if call.flags & (AWAITED | ACCESS) == 0:
        resolved = project.resolve(call.target)
        if isinstance(resolved, RuleTarget):
            rule = resolved.rule
            if (library and _library_guess(resolved.name)) or project.loaded_already(module, resolved.name):
                return ()
            if call.memory_attribute and project.bound_in_memory(function, call.memory_attribute):
                return ()  # an in-memory buffer: no I/O
            # noqa on the blocking line silences every chain through it.
            if suppressed(module, call, (rule.code, CODE) + rule.peer_codes):
                return ()
            return (hop(module, function, call),)
    return None


def _followed(project: Project, module: ModuleSummary, call: CallRecord) -> Optional[FunctionSummary]:
    """The sync function a call (not a catalogued one) runs, unless a noqa stops chains there.
    In a library, a call in a branch is not followed either, as a blocking call there is not
    (``_end``): the branch may be for data the project never passes (a deprecated keyword)."""
    if call.flags & CONDITIONAL and project.is_library(module):
        return None
    target = callee(project, call)
    return None if target is None or suppressed(module, call, (CODE,)) else target


class Site(NamedTuple):
    """A construction: the call, and the module it is made in; ``given``, what it passes when a
    caller's arguments decide it (``guarded``), else what its record says."""
    module: ModuleSummary
    call: CallRecord
    given: Optional[Construction] = None


def reached(project: Project, module: ModuleSummary, call: CallRecord, target: FunctionSummary,
            chains: Dict[int, Chain], depth: int = 0, instance: Optional[str] = None,
            site: Optional[Site] = None, given: Optional[Construction] = None) -> Optional[Chain]:
    """The chain ``call`` (made in ``module``) leads down when it runs the sync function ``target``:
    target's shortest, or, when it constructs a class whose attributes rule out some of target's
    calls (``CSS_PATH = None`` and ``if self.CSS_PATH is not None: load()``; ``self.config =
    config`` and ``if isinstance(self.config, str): open(self.config)`` for a construction passing
    a dict), the shortest through the others; None when target does not block for that call.
    ``instance`` is the class being constructed, and ``site`` its construction, when ``call`` runs
    on the instance being built (``on_same_instance``). ``given``: what ``call`` passes, when a
    caller's arguments decide it."""
    chain = chains.get(id(target))
    if chain is None:
        return None
    cls = instance or project.constructed(call.target)
    if instance is None and cls is not None:
        site = Site(module, call, given)
    attributes = cls is not None and project.tests_attributes(target)
    if not attributes and not any(need.subject is Subject.PARAMETER for need in target.needs):
        return chain
    skipped = set()
    for need in target.needs:
        if need.subject is Subject.PARAMETER:
            # ``if watch_css:`` with ``watch_css=False``: a call that leaves it out skips it; after
            # ``if local_mode: return``, a call passing ``local_mode=True`` skips the rest. A
            # parameter the body assigns under ``isinstance`` tests: decided in ``guarded``.
            if need.rebound:
                continue
            if _skips(project, module, call, need, given):
                skipped.add(need.call)
            continue
        if need.types:
            if attributes and cls is not None and site is not None \
                    and _fails_test(project, cls, site, need.attribute, need.types, need.instance):
                skipped.add(need.call)
            continue
        value = project.falsy_attribute(cls, need.attribute) \
            if attributes and cls is not None and need.subject is Subject.ATTRIBUTE else None
        if value is not None and need.failed_by(value) and _left_out(project, module, call, need.unless, given):
            skipped.add(need.call)
        elif value is None and attributes and cls is not None and site is not None \
                and need.subject is Subject.ATTRIBUTE and need.unless is None and _left_false(project, cls, site, need):
            skipped.add(need.call)
    carried = [index for index, inner in enumerate(target.calls) if on_same_instance(inner)] if attributes else []
    if not skipped and not carried:
        return chain
    if depth > _MAX_DEPTH:
        return None
    inner_module = project.module_of[id(target)]
    unset = project.unset_calls(target)

    def through(index: int, inner: CallRecord) -> Optional[Chain]:
        link = _end(project, inner_module, target, inner)
        if link is None:
            followed = _followed(project, inner_module, inner)
            rest = reached(project, inner_module, inner, followed, chains, depth + 1,
                           *((cls, site) if index in carried else (None, None))) if followed is not None else None
            link = (hop(inner_module, target, inner),) + rest if rest is not None else None
        return link or None

    # The chain ``blocking_chains`` chose (the heaviest wait first) stands if this construction
    # leaves it as it is; otherwise the shortest of those left.
    first = next((index for index, inner in enumerate(target.calls)
                  if (inner.row, inner.col, one_line(inner.text)) == (chain[0].row, chain[0].column, chain[0].call)), None)
    if first is not None and first not in skipped and first not in unset \
            and (first not in carried or through(first, target.calls[first]) == chain):
        return chain
    found: Optional[Chain] = None
    for index, inner in enumerate(target.calls):
        if index in skipped or index in unset:
            continue
        link = through(index, inner)
        if link and (found is None or len(link) < len(found)):
            found = link
    return found


def union_chain(project: Project, chains: Dict[int, Chain], module: ModuleSummary, call: CallRecord,
                avoided: Optional[Callable[[FunctionSummary, CallRecord], bool]] = None,
                ) -> Optional[Tuple[Chain, FunctionSummary]]:
    """A call on a name of several types (``client.fetch()``, ``client: SyncA | SyncB``) blocks when
    every type's method does: the shortest chain through a project function among them, and that
    function. A member blocking directly counts; one that is unknown or does not block (or that
    ``avoided`` rules out for the call) keeps it silent, as does a union of catalogued calls only
    (a direct finding)."""
    best: Optional[Tuple[Chain, FunctionSummary]] = None
    for member in union_members(call.target):
        each = dataclasses.replace(call, target=member)
        if call.flags & (AWAITED | ACCESS) == 0 and isinstance(project.resolve(member), RuleTarget):
            continue
        target = callee(project, each)
        inner = reached(project, module, each, target, chains) if target is not None else None
        if target is None or inner is None or (avoided is not None and avoided(target, each)):
            return None
        if best is None or len(inner) < len(best[0]):
            best = (inner, target)
    return best


def _fails_test(project: Project, cls: str, site: Site, attribute: str, types: Tuple[str, ...],
               instance: bool) -> bool:
    """Whether ``isinstance(self.<attribute>, types)`` comes out other than ``instance`` on the
    instance ``site`` builds, as far as what it passes decides."""
    passed = project.passed_value(cls, attribute, site.module.path, site.call, site.given)
    found = project.is_instance(passed.type, list(types)) if passed is not None and passed.type else None
    return found is not None and found is not instance


def _left_false(project: Project, cls: str, site: Site, need: AttributeNeed, depth: int = 0) -> bool:
    """Whether the instance ``site`` builds fails ``need`` (that ``self.<attribute>`` be true, or
    not None): bound to what the construction passes (a false literal fails), or a property whose
    ``return <test>`` needs of the instance what it does not have (``if self.should_reload:`` with
    ``return isinstance(self.app, str) and self.reload``, for a construction leaving ``reload=False``)."""
    passed = project.passed_value(cls, need.attribute, site.module.path, site.call, site.given)
    if passed is not None:
        return passed.falsy is not None and need.failed_by(passed.falsy)
    prop = project.property_of(cls, need.attribute) if not need.none_only and depth < _MAX_DEPTH else None
    if prop is None:
        return False
    for inner in prop.truthy:
        if inner.types:
            if _fails_test(project, cls, site, inner.attribute, inner.types, inner.instance):
                return True
            continue
        value = project.falsy_attribute(cls, inner.attribute)
        if value is not None and inner.failed_by(value) or _left_false(project, cls, site, inner, depth + 1):
            return True
    return False


def _skips(project: Project, module: ModuleSummary, call: CallRecord, need: AttributeNeed,
           given: Optional[Construction] = None) -> bool:
    """Whether what ``call`` passes rules out the code under a parameter's ``need``."""
    site = given or project.passed_at(module.path, call.row, call.col)
    if site is None:  # nothing recorded: a call passing nothing leaves every parameter at its default
        left_out = _left_out(project, module, call, need.unless)
        return left_out and need.falsy if need.default_true else left_out and not need.falsy
    return site.skips(need)


def _left_out(project: Project, module: ModuleSummary, call: CallRecord, param: Optional[Given],
              given: Optional[Construction] = None) -> bool:
    """Whether ``call`` surely leaves ``param`` at its default None (``Construction.leaves_out``)."""
    if param is None:
        return True
    site = given or project.passed_at(module.path, call.row, call.col)
    if site is None:
        return not call.args and not call.flags & STATEMENT_FORM  # ``refresh()``: nothing passed
    return site.leaves_out(param)
