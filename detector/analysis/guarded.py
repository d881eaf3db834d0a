"""What a call site's arguments decide in the helper it calls: the helper's calls under an
``isinstance`` test on a parameter (``FunctionSummary.guards``) that the argument passed fails do
not run for that call site, and neither do those of a helper it passes the argument on to as it is
(``FunctionSummary.forwards``): ``Photo(photo=data)`` with ``data`` bytes never reaches the
``Path(photo).is_file()`` that ``parse(photo)`` makes under ``if isinstance(photo, str | Path):``.
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Set, Tuple

from detector.analysis.chains import Chain, hop, reached, union_chain
from detector.analysis.handed import handed_chain
from detector.analysis.project import Project, RuleTarget, callee
from detector.analysis.summary import (
    ACCESS, AWAITED, NONE, STATEMENT_FORM, UNION, CallRecord, Construction, FunctionSummary, Given, Guard,
    ModuleSummary, Subject,
)

# How many helpers deep an argument is followed as it is passed on.
_MAX_FORWARDS = 8
# What ``isinstance(None, ...)`` is true for.
_NONE_TYPES = frozenset({"None", "NoneType", "types.NoneType", "object", "builtins.object", "typing.Any"})
# What no function or class object is an instance of: the values an ``isinstance`` test tells a
# callable apart from (``if isinstance(func, str): func = import_string(func)``).
_VALUE_TYPES = frozenset({
    "str", "bytes", "bytearray", "memoryview", "int", "float", "complex", "bool", "list", "tuple", "dict", "set",
    "frozenset", "range", "os.PathLike", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath",
    "pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "io.IOBase", "io.RawIOBase",
    "io.BufferedIOBase", "io.TextIOBase", "io.BytesIO", "io.StringIO",
})
# Methods called through their class as through an instance: ``C.configure(level)``.
_CLASS_LEVEL = frozenset({"classmethod", "staticmethod"})


def blocks(project: Project, call: CallRecord, chains: Dict[int, Chain]) -> bool:
    """Whether a call in a sync function is one of the blocking calls ``blocking_chains`` followed."""
    if call.flags & (AWAITED | ACCESS) == 0:
        if isinstance(project.resolve(call.target), RuleTarget):
            return True
    target = callee(project, call)
    return target is not None and id(target) in chains


def guarded_chain(project: Project, module: ModuleSummary, call: CallRecord, target: FunctionSummary,
                  chains: Dict[int, Chain], inner: Chain) -> Optional[Chain]:
    """The chain ``call`` (in ``module``) leads down ``target`` for what it passes: ``inner`` when no
    ``isinstance`` test rules out a blocking call; None when the tests rule out every one; else the
    shortest chain through the calls they leave."""
    if not target.guards and not target.forwards and not target.spreads and not target.needs:
        return inner
    site = project.passed_at(module.path, call.row, call.col)
    if site is None and not call.args and not call.flags & (ACCESS | STATEMENT_FORM):
        site = Construction(call.target)  # ``configure()`` passes nothing: every parameter at its default
    if site is None or not site.complete:
        return inner
    below = _Walk(project, chains).below(target, site, 0)
    return inner if below.chain is not None and not below.skipped else below.chain


class _Below(NamedTuple):
    """What a function does for one call site's arguments: the chain down to a blocking call it
    still makes (None: none), and whether a test ruled out any of its blocking calls on the way."""
    chain: Optional[Chain]
    skipped: bool


class _Walk:
    """One call site's descent into the helpers its arguments reach; each (function, what it is
    passed) is walked once, so forwarding cycles and wide call trees cost linear time."""

    def __init__(self, project: Project, chains: Dict[int, Chain]):
        self.project, self.chains = project, chains
        self.seen: Dict[Tuple[int, Tuple[str, ...], Tuple[Tuple[str, str], ...]], _Below] = {}

    def below(self, target: FunctionSummary, site: Construction, depth: int) -> _Below:
        key = (id(target), tuple(site.args), tuple(sorted(site.keywords.items())))
        if key not in self.seen:
            own = self.chains.get(id(target))
            self.seen[key] = _Below(own, False)  # a cycle: what the function does for any caller
            self.seen[key] = self._walk(target, site, depth, own)
        return self.seen[key]

    def _walk(self, target: FunctionSummary, site: Construction, depth: int, own: Optional[Chain]) -> _Below:
        project = self.project
        guards: Dict[int, List[Guard]] = {}
        for guard in target.guards:
            guards.setdefault(guard.call, []).append(guard)
        module = project.module_of[id(target)]
        switched = _switched_off(project, target, site)
        skipped, best = False, None
        for index, inner in enumerate(target.calls):
            if not blocks(project, inner, self.chains):
                if self._other_link(module, inner):
                    return _Below(own, False)  # a link this walk does not follow: as for any caller
                continue
            if index in switched or any(_fails(project, site, guard) for guard in guards.get(index, ())):
                skipped = True
                continue
            link: Chain = (hop(module, target, inner),)
            helper = callee(project, inner) if not isinstance(project.resolve(inner.target), RuleTarget) else None
            if helper is not None:
                passed = _passed_on(project, target, index, inner, helper, site) if depth < _MAX_FORWARDS else None
                below = self.below(helper, passed, depth + 1) if passed is not None else None
                if below is not None and below.skipped:
                    skipped = True
                    if below.chain is None:
                        continue
                    link += below.chain
                else:
                    # What this call passes itself decides too (``reload(load_tiers=False)``), and
                    # what it passes on: a class's constructor tests what it is given.
                    rest = reached(project, module, inner, helper, self.chains, given=passed)
                    if rest is None:
                        skipped = True
                        continue
                    link += rest
            if best is None or len(link) < len(best):
                best = link
        return _Below(best if skipped else own, skipped)

    def _other_link(self, module: ModuleSummary, call: CallRecord) -> bool:
        """A call that blocks the way ``blocking_chains`` finds after its search: on a name of
        several types, or through project code it hands the callee."""
        if UNION in call.target:
            return union_chain(self.project, self.chains, module, call) is not None
        return call.flags & (AWAITED | ACCESS) == 0 and handed_chain(self.project, self.chains, module, call) is not None


def _switched_off(project: Project, target: FunctionSummary, site: Construction) -> Set[int]:
    """The calls of ``target`` under a test of a parameter with a false default that ``site``
    decides against them (``if filename:`` for a call leaving ``filename`` out), also when the body
    assigns the parameter under ``isinstance`` tests that ``site``'s arguments fail."""
    found = set()
    for need in target.needs:
        if need.subject is not Subject.PARAMETER:
            continue
        if not all(any(_fails(project, site, guard) for guard in around) for around in need.rebound):
            continue  # an assignment of the parameter may run for these arguments
        if site.skips(need):
            found.add(need.call)
    return found


def _fails(project: Project, site: Construction, guard: Guard) -> bool:
    """What ``site`` passes for the guarded parameter is known to fail the guard's ``isinstance`` test."""
    passed = site.argument(guard.position, guard.name)
    if not passed and guard.none_default and site.leaves_out(Given(guard.name, guard.position)):
        passed = NONE  # ``read_text()`` leaves ``source=None`` as it is
    if not passed:
        return False
    if site.reference(guard.position, guard.name):
        taken = _reference_is_instance(project, passed, guard.types)
    elif passed == NONE:  # None is an instance of no class but its own and ``object``
        taken = not _NONE_TYPES.isdisjoint(guard.types)
    else:
        taken = project.is_instance(passed, guard.types)
    return taken is not None and taken != guard.when


def _reference_is_instance(project: Project, passed: str, types: List[str]) -> Optional[bool]:
    """``isinstance(f, types)`` for a function or class ``f`` passed by name: false when every
    type is a value type; None (unknown) for any other test, or any other reference."""
    if not types or not all(_unqualified(name) in _VALUE_TYPES for name in types):
        return None
    name = project.expand(passed)
    return False if name is not None and (name in project.functions or name in project.classes) else None


def _unqualified(name: str) -> str:
    return name[len("builtins."):] if name.startswith("builtins.") else name


def _passed_on(project: Project, target: FunctionSummary, index: int, inner: CallRecord, helper: FunctionSummary,
               site: Construction) -> Optional[Construction]:
    """What the call ``target.calls[index]`` passes to ``helper``, as far as it passes on ``target``'s
    own parameters, by name or through its ``**`` parameter (the rest as the call's own record
    says, or unknown); None when it passes on none."""
    forwards = [forward for forward in target.forwards if forward.call == index]
    spread = next((each for each in target.spreads if each.call == index), None)
    plain_method = helper.qualname.rpartition(".")[0] in project.classes \
        and not _CLASS_LEVEL.intersection(name.rpartition(".")[2] for name in helper.decorators)
    if not forwards and spread is None or plain_method and any(forward.through_name for forward in forwards):
        return None  # ``C.method(obj, x)``: the arguments do not line up with the parameters
    positional, keywords = (spread.positional, spread.keywords) if spread is not None \
        else (forwards[0].positional, forwards[0].keywords)
    passed = Construction(inner.target, [""] * positional, dict.fromkeys(keywords, ""))
    own = project.passed_at(project.module_of[id(target)].path, inner.row, inner.col)
    if own is not None and len(own.args) == positional:  # what the call passes itself (``reload=False``)
        passed.args = list(own.args)
        passed.keywords.update((name, value) for name, value in own.keywords.items() if name in passed.keywords)
        passed.ref_args = [position for position in own.ref_args if position < positional]
        passed.ref_keywords = [name for name in own.ref_keywords if name in passed.keywords]
    for forward in forwards:
        value = site.argument(forward.param.position, forward.param.name)
        if site.reference(forward.param.position, forward.param.name):
            value = ""  # a function handed on, not a value of its own type
        elif forward.default and site.leaves_out(forward.param):
            value = forward.default
        if forward.keyword:
            passed.keywords[forward.keyword] = value
            passed.ref_keywords = [name for name in passed.ref_keywords if name != forward.keyword]
        else:
            passed.args[forward.position] = value
            passed.ref_args = [position for position in passed.ref_args if position != forward.position]
    if spread is not None:
        for name, value in site.keywords.items():
            if name not in spread.params:
                passed.keywords[name] = "" if name in site.ref_keywords else value
    return passed
