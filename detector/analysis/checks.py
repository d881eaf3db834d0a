"""Rules found by the analysis, not by call names (BLK200, BLK3xx): one check function per rule.

A check is registered under its rule code with ``@check("BLK302")``. Everything else about the
rule (name, message template, fix kind, opt-in, docs, examples) is its catalogue entry in
``rules/*.toml``: the finding's message is the entry's template filled with named fields, and
its fix kind is the entry's ``fix``. A check reads a ``Scan`` (the calls made where the loop
runs, the sync callbacks the loop runs) and yields its findings.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Tuple

from detector.analysis.chains import blocking_chains
from detector.analysis.handed import handed_chain
from detector.analysis.project import FunctionTarget, Project
from detector.analysis.summary import CallRecord, FunctionSummary, ModuleSummary, short_name
from detector.display import one_line
from detector.model import Applicability, Finding, Fix, Hop, Location

if TYPE_CHECKING:
    from detector.analysis.fixpolicy import Policy
    from detector.analysis.threadsafety import ThreadSafety

# Modules whose import registers the shipped checks.
CHECK_MODULES = ("detector.analysis.propagate", "detector.analysis.misuse")


@dataclass(frozen=True)
class CallSite:
    """A call made in a function the event loop runs."""

    module: ModuleSummary
    function: FunctionSummary
    name: str  # the function's short name (``Client.fetch``)
    call: CallRecord


@dataclass(frozen=True)
class Registration:
    """A project function handed to the loop as a callback (``loop.call_soon(target)``)."""

    target: FunctionSummary
    target_module: ModuleSummary
    call: CallRecord  # the registering call
    module: ModuleSummary  # where the registering call is
    function: FunctionSummary  # the function that makes it


class Scan:
    """What checks read: the project, where the loop runs, and the helpers that block."""

    def __init__(self, project: Project, policy: "Policy", safety: "ThreadSafety"):
        self.project = project
        self.policy = policy
        self.safety = safety
        self._named: Dict[int, Dict[str, List[FunctionSummary]]] = {}  # id(module) -> functions by short name

    @cached_property
    def chains(self) -> Dict[int, Tuple[Hop, ...]]:
        """id(sync function) -> its shortest chain down to a blocking call."""
        return blocking_chains(self.project, handed_chain)

    @cached_property
    def by_path(self) -> Dict[str, ModuleSummary]:
        """Each module of the model by its display path (what a chain's hops name)."""
        found: Dict[str, ModuleSummary] = {}
        for module in self.project.summaries:
            found.setdefault(module.path, module)  # the first, as a search of the list finds it
        return found

    def functions_at(self, hop: Hop) -> List[Tuple[ModuleSummary, FunctionSummary]]:
        """The functions a chain's hop is in (by its path and the function's short name)."""
        module = self.by_path.get(hop.filename)
        if module is None:
            return []
        named = self._named.get(id(module))
        if named is None:
            named = self._named[id(module)] = {}
            for function in module.functions:
                named.setdefault(short_name(function, module), []).append(function)
        return [(module, function) for function in named.get(hop.function, ())]

    @cached_property
    def sites(self) -> List[CallSite]:
        """Every call recorded in a function the loop runs, in a file that is not skipped."""
        return [CallSite(module, function, short_name(function, module), call)
                for module, function in self._functions_on_loop() for call in function.calls]

    @cached_property
    def registrations(self) -> List[Registration]:
        """Every registration of a project function as a loop callback, in source order. A project
        function with a loop method's name (an application's own ``call_later``) is not one: what
        it does with the function is in its body."""
        found: List[Registration] = []
        for module, function in self._functions_on_loop():
            for call in function.callbacks:
                if self._defined_here(function, call):
                    continue
                resolved = self.project.resolve(call.target)
                if isinstance(resolved, FunctionTarget):
                    target = resolved.function
                    found.append(Registration(target, self.project.module_of[id(target)], call, module, function))
        return found

    def _defined_here(self, function: FunctionSummary, callback: CallRecord) -> bool:
        """Whether the call that registers ``callback`` runs a function of the project."""
        for call in function.calls:
            if (call.row, call.col) == (callback.row, callback.col) and call.text == callback.text:
                resolved = self.project.resolve(call.target)
                if isinstance(resolved, FunctionTarget) and not self.project.in_library(resolved.function.qualname):
                    return True
        return False

    def _functions_on_loop(self) -> Iterable[Tuple[ModuleSummary, FunctionSummary]]:
        for module in self.project.own_summaries:
            if not module.skip_file:
                yield from ((module, f) for f in module.functions if self.policy.on_loop(f))

    def fix(self, code: str, title: str, reason: str = "") -> Optional[Fix]:
        """The fix of a ``code`` finding, as its catalogue entry allows; ``reason`` (why a rewrite
        would be wrong here) makes it a suggestion."""
        kind = self.project.catalog.rules[code].fix
        if kind == "none":
            return None
        if reason:
            return Fix(Applicability.SUGGESTION, title, reason=reason)
        return Fix(Applicability(kind), title)

    def finding(self, code: str, module: ModuleSummary, call: CallRecord, function: str,
                fix: Optional[Fix] = None, chain: Tuple[Hop, ...] = (), **fields: str) -> Finding:
        """A ``code`` finding at ``call``: its message is the rule's template, with ``call`` (on one
        line), its ``args`` (as written, on one line), ``function`` and ``fields`` filled in."""
        rule = self.project.catalog.rules[code]
        message = rule.render(**{"call": one_line(call.text), "args": call.args, "function": function, **fields})
        return Finding(code, rule.name, message, module.path, Location(call.row, call.col),
                       Location(call.end_row, call.end_col), fix, chain, call.text, function)


Check = Callable[[Scan], Iterable[Finding]]
CHECKS: Dict[str, Check] = {}


def check(code: str) -> Callable[[Check], Check]:
    """Register the check of rule ``code`` (one per code)."""
    def register(function: Check) -> Check:
        if code in CHECKS and CHECKS[code] is not function:
            raise ValueError(f"two checks registered for {code}")
        CHECKS[code] = function
        return function
    return register


def registered() -> Dict[str, Check]:
    """Every check: the shipped ones and any registered since."""
    for name in CHECK_MODULES:
        importlib.import_module(name)
    return CHECKS


def run(scan: Scan, selected: Callable[[str], bool]) -> List[Finding]:
    """The findings of every selected check whose rule the catalogue has."""
    rules = scan.project.catalog.rules
    found: List[Finding] = []
    for code, function in sorted(registered().items()):
        if code in rules and selected(code):
            found.extend(function(scan))
    return found
