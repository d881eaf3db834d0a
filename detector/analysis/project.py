"""The project model: every module's summary, and resolution of dotted call targets across them.

A call target such as ``pkg.mod.Client.session.get`` is resolved one attribute at a time:
``pkg.mod`` is a module, ``Client`` a class in it, ``session`` an attribute its ``__init__``
assigns (a ``requests.Session``), so the call is ``requests.Session.get``. Names outside the
project stay as they are and are matched against the catalogue. When any step is ambiguous
(two definitions, a name bound to different things) resolution gives up: silence over guesses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Union

from detector.analysis.summary import ClassSummary, FunctionSummary, ModuleSummary
from detector.catalog import Catalog, Rule

_MAX_DEPTH = 12
# Attributes every function object has: ``f.cache_clear()`` is not the result's ``cache_clear``.
_FUNCTION_ATTRIBUTES = frozenset({"cache_clear", "cache_info", "cache_parameters", "register", "dispatch",
                                  "registry", "setter", "getter", "deleter", "fget", "fset", "fdel"})


# Resolution results: what a call runs.
@dataclass(frozen=True)
class RuleTarget:
    """A catalogued call: ``rule`` matched the canonical dotted ``name``."""

    rule: Rule
    name: str


@dataclass(frozen=True)
class FunctionTarget:
    """A function of the project (for a class: its ``__init__`` or ``__post_init__``)."""

    function: FunctionSummary


Resolved = Union[RuleTarget, FunctionTarget, None]  # None: unknown, or not worth knowing


class Project:
    def __init__(self, summaries: Iterable[ModuleSummary], catalog: Catalog):
        self.catalog = catalog
        self.summaries: List[ModuleSummary] = list(summaries)
        self.modules: Dict[str, ModuleSummary] = {}
        self.functions: Dict[str, List[FunctionSummary]] = {}
        self.classes: Dict[str, Optional[ClassSummary]] = {}
        self.module_of: Dict[int, ModuleSummary] = {}  # id(FunctionSummary) -> its module
        duplicates: Set[str] = set()
        for summary in self.summaries:
            if summary.module in self.modules:
                duplicates.add(summary.module)
            self.modules[summary.module] = summary
            for function in summary.functions:
                self.functions.setdefault(function.qualname, []).append(function)
                self.module_of[id(function)] = summary
            for qualname, cls in summary.classes.items():
                # Two classes with one name (e.g. per-platform variants) are ambiguous.
                self.classes[qualname] = None if qualname in self.classes else cls
        # Two files claiming one module name: nothing resolves through that name.
        for name in duplicates:
            del self.modules[name]
        self.roots = frozenset(name.split(".", 1)[0] for name in self.modules)
        self._resolved: Dict[str, Resolved] = {}

    # -- dotted names -----------------------------------------------------------------------
    def expand(self, name: str, depth: int = 0) -> Optional[str]:
        """The canonical dotted name ``name`` denotes: a definition, a module, or an external name."""
        if depth > _MAX_DEPTH:
            return None
        if name in self.functions or name in self.classes or name in self.modules:
            return name
        if name.split(".", 1)[0] not in self.roots:
            return self.catalog.canonical(name)  # outside the project: taken as spelled
        head, _, attr = name.rpartition(".")
        if not head:
            return None
        owner = self.expand(head, depth + 1)
        if owner is None:
            return None
        return self.member(owner, attr, depth + 1)

    def member(self, owner: str, attr: str, depth: int) -> Optional[str]:
        """``owner.attr`` where ``owner`` is already canonical."""
        if owner in self.modules:
            module = self.modules[owner]
            if attr in module.bindings:
                value = module.bindings[attr]
                return self.expand(value.name, depth + 1) if value else None
            submodule = f"{owner}.{attr}"
            return submodule if submodule in self.modules else None
        if owner in self.classes:
            return self.class_member(owner, attr, depth, set())
        if owner in self.functions:
            # ``f().attr`` and ``obj.prop.attr`` are spelled ``f.attr``, ``C.prop.attr``: the
            # attribute of what the function returns (its annotation, or every ``return``).
            returned = self.returned(owner, depth + 1)
            if returned is None or attr in _FUNCTION_ATTRIBUTES or returned in self.functions:
                return None
            return self.member(returned, attr, depth + 1)
        return self.expand(f"{self.external_type(owner) or owner}.{attr}", depth + 1)

    def external_type(self, name: str) -> Optional[str]:
        """The type the catalogue gives an external attribute or call result (``pathlib.Path.parent``,
        ``pathlib.Path.joinpath``): reached through a project name, it was not typed in its file."""
        head, _, last = name.rpartition(".")
        return (self.catalog.attribute_type(head, last) if head else None) or self.catalog.result_type(name)

    def returned(self, qualname: str, depth: int = 0) -> Optional[str]:
        """The canonical type a project function's call (or a property's read) gives, if known."""
        found = self.functions.get(qualname)
        if not found or len(found) != 1 or not found[0].returns or depth > _MAX_DEPTH:
            return None
        return self.expand(found[0].returns, depth + 1)

    def class_member(self, qualname: str, attr: str, depth: int, seen: Set[str]) -> Optional[str]:
        """Look ``attr`` up on a project class and its bases, in definition order."""
        cls = self.classes.get(qualname)
        if cls is None or qualname in seen:
            return None
        seen.add(qualname)
        if attr in cls.attrs:
            value = cls.attrs[attr]
            return self.expand(value.name, depth + 1) if value else None
        for base in cls.bases:
            if base is None:
                return None  # an unknown base might define it
            base_name = self.expand(base.name, depth + 1)
            if base_name is None:
                return None
            if base_name in self.classes:
                found = self.class_member(base_name, attr, depth + 1, seen)
                if found is not None:
                    return found
            elif base_name not in ("object", "typing.Generic", "abc.ABC"):
                return self.expand(f"{base_name}.{attr}", depth + 1)
        return None

    def expand_super(self, target: str) -> Optional[str]:
        """``pkg.C.<super>.m``: ``m`` as found on the bases of ``pkg.C``."""
        owner, _, attr = target.partition(".<super>.")
        cls = self.classes.get(owner)
        if cls is None or "." in attr:
            return None
        for base in cls.bases:
            base_name = self.expand(base.name) if base else None
            if base_name is None:
                return None
            found = (self.class_member(base_name, attr, 0, set()) if base_name in self.classes
                     else self.expand(f"{base_name}.{attr}"))
            if found is not None:
                return found
        return None

    # -- calls --------------------------------------------------------------------------------
    def resolve(self, target: str) -> Resolved:
        """What a call to ``target`` runs: a catalogued blocking call, a project function, or None."""
        if target not in self._resolved:
            self._resolved[target] = self._resolve(target)
        return self._resolved[target]

    def _resolve(self, target: str) -> Resolved:
        rule = self.catalog.match(target)
        if rule is not None:
            return RuleTarget(rule, self.catalog.canonical(target))
        name = self.expand_super(target) if ".<super>." in target else self.expand(target)
        if name is None:
            return None
        if name != target:
            rule = self.catalog.match(name)
            if rule is not None:
                return RuleTarget(rule, name)
        if name in self.classes:
            # ``Foo()`` runs ``Foo.__init__`` (or a dataclass's ``__post_init__``).
            init = self.class_member(name, "__init__", 0, set())
            if init is None or init not in self.functions:
                init = self.class_member(name, "__post_init__", 0, set())
            name = init if init is not None else name
        found = self.functions.get(name)
        if found and len(found) == 1:
            return FunctionTarget(found[0])
        return None
