"""The project model: every module's summary, and resolution of dotted call targets across them.

A call target such as ``pkg.mod.Client.session.get`` is resolved one attribute at a time:
``pkg.mod`` is a module, ``Client`` a class in it, ``session`` an attribute its ``__init__``
assigns (a ``requests.Session``), so the call is ``requests.Session.get``. Names outside the
project stay as they are and are matched against the catalogue. When any step is ambiguous
(two definitions, a name bound to different things) resolution gives up: silence over guesses.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, Iterator, List, NamedTuple, Optional, Protocol, Set, Tuple, Union

from detector.analysis import protocols
from detector.analysis.summary import (
    ACCESS, ASSIGNS, AWAITED, CONDITIONAL, FALSE, INDEX, ITER, ITERATED, NO_ELEMENTS, NONE, NONE_TYPE, ON_SELF,
    STATEMENT_FORM, TRUE, UNION, WITH_ITEM, CallRecord, ClassSummary, Construction, Elements, EnvironmentRead, FunctionSummary,
    Given, ModuleSummary, Subject, packages, union_members,
)
from detector.catalog import IN_MEMORY, Catalog, Rule

_MAX_DEPTH = 12
# What some standard classes derive from (every base listed): ``isinstance`` tests on arguments.
_KNOWN_BASES = {
    "io.BytesIO": ("io.IOBase", "io.BufferedIOBase", "object"),
    "io.StringIO": ("io.IOBase", "io.TextIOBase", "object"),
    "io.IOBase": ("io.IOBase", "object"),  # a file object (the catalogue's type for ``open()``)
    "str": ("object",), "bytes": ("object",), "bytearray": ("object",), "int": ("object",),
    "bool": ("int", "object"), "float": ("object",), "NoneType": ("object",), "dict": ("object",),
    "list": ("object",), "tuple": ("object",), "set": ("object",),
    "pathlib.Path": ("pathlib.PurePath", "os.PathLike", "object"),
    "object": (),
}
_ROOT_CLASSES = ("object", "typing.Generic", "abc.ABC")
_SUPER_INIT = ".<super>.__init__"


def _merge(head: List[str], orders: List[List[str]]) -> Optional[List[str]]:
    """Python's C3 merge: ``head`` followed by the merged ``orders``; None when they conflict."""
    result = list(head)
    pending = [list(order) for order in orders if order]
    while pending:
        for order in pending:
            candidate = order[0]
            if not any(candidate in other[1:] for other in pending):
                break
        else:
            return None
        result.append(candidate)
        pending = [rest for rest in (order[1:] if order[0] == candidate else order for order in pending) if rest]
    return result


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


class LibrarySource(Protocol):
    """Installed libraries' modules, summarised when resolution first reaches them."""

    def provides(self, root: str) -> bool: ...

    def load(self, module: str) -> Optional[ModuleSummary]: ...

    def distribution(self, shown: str) -> Optional[str]: ...

    def prefetch(self, modules: Iterable[str]) -> None: ...


class Project:
    def __init__(self, summaries: Iterable[ModuleSummary], catalog: Catalog,
                 libraries: Optional[LibrarySource] = None):
        self.catalog = catalog
        self.summaries: List[ModuleSummary] = list(summaries)  # the project's files, then library modules read
        self.own_summaries: List[ModuleSummary] = list(self.summaries)  # the project's files only
        self.modules: Dict[str, ModuleSummary] = {}
        self.functions: Dict[str, List[FunctionSummary]] = {}
        self.classes: Dict[str, Optional[ClassSummary]] = {}
        self.module_of: Dict[int, ModuleSummary] = {}  # id(FunctionSummary) -> its module
        duplicates: Set[str] = set()
        for summary in self.summaries:
            if summary.module in self.modules:
                duplicates.add(summary.module)
            self._register(summary)
        # Two files claiming one module name: nothing resolves through that name.
        for name in duplicates:
            del self.modules[name]
        self.roots = frozenset(name.split(".", 1)[0] for name in self.modules)
        self.own_roots = self.roots  # the project's own top-level names (libraries add theirs)
        self._libraries = libraries
        self._library_roots: Set[str] = set()
        self._library_labels: Dict[str, str] = {}  # display path -> "distribution version"
        self._tried: Set[str] = set()
        self._reading = True  # False: resolution uses the modules read so far and reads no more
        # Packages the catalogue models whole (requests, httpx, ...) are known by their entries, not
        # read; one with a few entries only (tornado's render()) is read, its entries matched first.
        self._catalogued = catalog.models
        # Modules some file imports at module level: an ``import`` of them in a function body
        # finds them in ``sys.modules`` (the program imported that file first, or will).
        self.imported: FrozenSet[str] = frozenset().union(*(summary.imports for summary in self.summaries))
        self._resolved: Dict[str, Resolved] = {}
        self._mros: Dict[str, Optional[List[str]]] = {}
        self._constructions: Optional[Dict[str, List[Construction]]] = None  # built when first needed
        self._derived: Set[str] = set()  # project classes some project class derives from
        self._passed: Optional[Dict[Tuple[str, int, int], Construction]] = None  # (path, row, col) -> arguments
        self._environment_set: Optional[FrozenSet[str]] = None  # variables some module sets
        self._unset: Dict[int, FrozenSet[int]] = {}  # id(function) -> its calls under an unset variable
        self._import_closure: Dict[str, List[ModuleSummary]] = {}  # module -> it and what it imports
        self._loaded: Optional[FrozenSet[str]] = None  # what ``imported`` loads, with its packages
        self._testing: Dict[int, bool] = {}  # id(function) -> ``tests_attributes``
        if libraries is not None:
            self._follow_libraries()
            self._libraries = None  # every later lookup sees the same, complete model

    def _register(self, summary: ModuleSummary) -> None:
        self.modules[summary.module] = summary
        for function in summary.functions:
            self.functions.setdefault(function.qualname, []).append(function)
            self.module_of[id(function)] = summary
        for qualname, cls in summary.classes.items():
            # Two classes with one name (e.g. per-platform variants) are ambiguous.
            self.classes[qualname] = None if qualname in self.classes else cls

    # -- installed libraries ------------------------------------------------------------------
    def _library_module(self, name: str) -> bool:
        """Whether ``name`` is a module of the model, reading it from an installed library first
        when it is one (its packages first, as an import runs them)."""
        if name in self.modules:
            return True
        libraries = self._libraries
        if libraries is None or not self._reading or name in self._tried or not self._followable(name):
            return False
        self._tried.add(name)
        root = name.split(".", 1)[0]
        parent = name.rpartition(".")[0]
        if parent and not self._library_module(parent):
            return False
        summary = libraries.load(name)
        if summary is None:
            return False
        self.summaries.append(summary)
        self._register(summary)
        label = libraries.distribution(summary.path)
        if label:
            self._library_labels[summary.path] = label
        if root not in self.roots:
            self.roots = self.roots | {root}
        self._library_roots.add(root)
        return True

    def _followable(self, name: str) -> bool:
        """Whether ``name`` is under a root of an installed library the run reads, and not in a
        package the catalogue models (``google.cloud.storage``, not the rest of ``google``)."""
        root = name.split(".", 1)[0]
        return (root not in self.own_roots and self._libraries is not None and self._libraries.provides(root)
                and not any(package in self._catalogued for package in packages(name)))

    def _follow_libraries(self) -> None:
        """Read every library module the project's calls reach, and what those modules' sync
        functions and classes reach in turn, before anything is computed from the model."""
        assert self._libraries is not None
        # What the project imports is almost always read: summarised ahead, side by side.
        self._libraries.prefetch(package for name in sorted(self.imported) if self._followable(name)
                                 for package in packages(name))
        # A library function is followed only once a followed call reaches it: a library module
        # read for one function does not bring in what its other functions would call.
        followed: List[FunctionSummary] = []
        reached: Set[int] = set()
        classes: Set[str] = set()  # library classes whose bases were expanded
        for summary in list(self.summaries):
            for cls in summary.classes.values():
                self._expand_bases(cls, classes)
            followed.extend(summary.functions)
        pending = list(followed)
        while True:
            while pending:
                for call in self._followed_calls(pending.pop()):
                    callee = self._reached(call.target, reached, classes)
                    if callee is not None:
                        followed.append(callee)
                        pending.append(callee)
            if not self._library_roots:
                return
            # Resolved while the model grew: computed again on the complete one, where a call
            # may reach a library function it did not reach before (then followed in turn).
            read = len(self.summaries)
            self._forget()
            for function in list(followed):
                for call in self._followed_calls(function):
                    callee = self._reached(call.target, reached, classes)
                    if callee is not None:
                        followed.append(callee)
                        pending.append(callee)
            if not pending and len(self.summaries) == read:
                break
        self._forget()

    def _forget(self) -> None:
        """Drop what was computed from the model while it grew."""
        self._resolved.clear()
        self._mros.clear()
        self._constructions = None
        self._derived.clear()
        self._passed = None
        self._environment_set = None
        self._unset.clear()
        self._testing.clear()

    def _followed_calls(self, function: FunctionSummary) -> List[CallRecord]:
        """The calls a chain may take: in a library, those outside its branches (``chains``)."""
        if not self.in_library(function.qualname):
            return function.calls
        return [call for call in function.calls if not call.flags & CONDITIONAL]

    def _reached(self, target: str, reached: Set[int], classes: Set[str]) -> Optional[FunctionSummary]:
        """The sync library function a call reaches for the first time, its class's bases read."""
        resolved = self.resolve(target)
        if not isinstance(resolved, FunctionTarget) or id(resolved.function) in reached:
            return None
        callee = resolved.function
        if not self.in_library(callee.qualname):
            return None  # the project's own functions are all followed already
        reached.add(id(callee))
        owner = callee.qualname.rpartition(".")[0]
        cls = self.classes.get(owner)
        if cls is not None and owner not in classes:
            classes.add(owner)
            self._expand_bases(cls, classes)
        return None if callee.is_async else callee  # an awaited library coroutine is not followed into

    def _expand_bases(self, cls: ClassSummary, done: Set[str]) -> None:
        """Read the modules of a class's bases, and of their bases in turn in libraries."""
        for base in cls.bases:
            name = self.expand(base.name) if base is not None else None
            found = self.classes.get(name) if name is not None and name not in done else None
            if found is not None and name is not None and self.in_library(name):
                done.add(name)
                self._expand_bases(found, done)

    def is_library(self, module: ModuleSummary) -> bool:
        """Whether a module was read from an installed library rather than the project."""
        return self.in_library(module.module)

    def in_library(self, name: str) -> bool:
        """Whether a canonical dotted name is defined in an installed library read into the model."""
        return name.split(".", 1)[0] in self._library_roots

    def distribution(self, path: str) -> Optional[str]:
        """``"name version"`` of the installed distribution a module's display path is in."""
        return self._library_labels.get(path)

    # -- dotted names -----------------------------------------------------------------------
    def expand(self, name: str, depth: int = 0) -> Optional[str]:
        """The canonical dotted name ``name`` denotes: a definition, a module, or an external name."""
        if depth > _MAX_DEPTH:
            return None
        if name in self.functions or name in self.classes or name in self.modules:
            return name
        root = name.split(".", 1)[0]
        if root not in self.roots and not self._library_module(root):
            return self.catalog.canonical(name)  # outside the project: taken as spelled
        head, _, attr = name.rpartition(".")
        if not head:
            return None
        if attr in (ITER, INDEX):
            element = self.elements(head, depth + 1)[attr == INDEX]
            return self.expand(element, depth + 1) if element else None
        owner = self.expand(head, depth + 1)
        found = self.member(owner, attr, depth + 1) if owner is not None else None
        if found is None and root in self._library_roots:
            # Unresolved inside a library (a star import, a computed name): an external name, as
            # it was before the library was read.
            return self.catalog.canonical(name)
        return found

    def member(self, owner: str, attr: str, depth: int) -> Optional[str]:
        """``owner.attr`` where ``owner`` is already canonical."""
        if owner in self.modules:
            module = self.modules[owner]
            submodule = f"{owner}.{attr}"
            if attr in module.bindings:
                value = module.bindings[attr]
                if value is None:
                    return None
                if value.name != submodule or value.name in self.functions or value.name in self.classes:
                    return self.expand(value.name, depth + 1)
                # ``from pkg import sub`` in pkg/__init__.py names the submodule: read it, not the
                # binding again (a library's submodule is not in the model until read).
            return submodule if self._library_module(submodule) else None
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

    def elements(self, container: str, depth: int) -> Elements:
        """What iterating and indexing ``container`` gives, from the annotation that declares it: a
        function's return (``-> list[Path]``), a class attribute or field, a module variable."""
        if depth > _MAX_DEPTH:
            return NO_ELEMENTS
        found = self.functions.get(container)
        if found:
            return found[0].elements if len(found) == 1 else NO_ELEMENTS
        holder, _, attr = container.rpartition(".")
        owner = self.expand(holder, depth + 1) if holder else None
        if owner in self.functions:
            owner = self.returned(owner, depth + 1)  # ``self.settings.paths``: a property's type
        if owner in self.modules:
            module = self.modules[owner]
            value = module.bindings.get(attr)
            if value is not None and value.kind == "ref" and attr not in module.elements:
                return self.elements(value.name, depth + 1)  # a function, or a name imported from elsewhere
            return module.elements.get(attr, NO_ELEMENTS)
        if owner in self.classes:
            for name in self.mro(owner) or [owner]:
                cls = self.classes.get(name)
                if cls is None or attr not in cls.attrs and attr not in cls.elements:
                    continue
                value = cls.attrs.get(attr)
                if value is not None and value.kind == "ref" and value.name in self.functions:
                    return self.elements(value.name, depth + 1)  # a method or property
                return cls.elements.get(attr, NO_ELEMENTS)
        return NO_ELEMENTS

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
        """Look ``attr`` up on a project class and its bases: in Python's method resolution order
        when it can be computed, else depth-first in definition order."""
        order = self.mro(qualname) if not seen else None
        if order is not None:
            for name in order:
                cls = self.classes.get(name)
                if cls is not None and attr in cls.attrs:
                    return self._attribute(name, cls, attr, depth)
                if cls is None and name not in self.classes and name not in _ROOT_CLASSES:
                    return self.expand(f"{name}.{attr}", depth + 1)  # an external base
                if cls is not None and name != qualname and self.in_library(name) and self.mro(name) is None:
                    return self.class_member(name, attr, depth + 1, set())  # a library leaf: its own lookup
            return None
        cls = self.classes.get(qualname)
        if cls is None or qualname in seen:
            return None
        seen.add(qualname)
        if attr in cls.attrs:
            return self._attribute(qualname, cls, attr, depth)
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
            elif base_name not in _ROOT_CLASSES:
                return self.expand(f"{base_name}.{attr}", depth + 1)
        return None

    def _attribute(self, qualname: str, cls: ClassSummary, attr: str, depth: int) -> Optional[str]:
        value = cls.attrs[attr]
        if value is None and attr in cls.from_params:
            return self.argument_type(qualname, cls.from_params[attr], depth + 1)
        return self.expand(value.name, depth + 1) if value else None

    def calls_instance(self, target: str, depth: int = 0) -> bool:
        """Whether the last step of ``target`` is an attribute or module variable bound to an
        instance (``self.factory = make(cls)``, ``worker = Worker()``): calling it calls that value,
        not the function or class its type is spelled with."""
        head, _, attr = target.rpartition(".")
        owner = self.expand(head, depth + 1) if head and depth <= _MAX_DEPTH else None
        if owner in self.modules:
            value = self.modules[owner].bindings.get(attr)
        elif owner in self.classes:
            defining = self._defining_class(owner, attr)
            if defining is None:
                return False
            value = defining.attrs[attr]
            if value is None and attr in defining.from_params:
                return self._passes_instance(defining.qualname, defining.from_params[attr])
        else:
            return False
        if value is None:
            return False
        if value.kind == "inst":
            return True
        return value.name != target and self.calls_instance(value.name, depth + 1)

    def _defining_class(self, qualname: str, attr: str) -> Optional[ClassSummary]:
        """The class along ``qualname``'s method resolution order that binds ``attr``."""
        found = (self.classes.get(name) for name in self.mro(qualname) or [qualname])
        return next((cls for cls in found if cls is not None and attr in cls.attrs), None)

    def bound_in_memory(self, method: FunctionSummary, attr: str) -> bool:
        """Whether ``self.attr`` in ``method`` is an in-memory buffer (``io.BytesIO``): what every
        binding of it by the method's class, or the base that binds it, gives."""
        defining = self._defining_class(method.qualname.rpartition(".")[0], attr)
        value = defining.attrs[attr] if defining is not None else None
        return value is not None and value.kind == "inst" and self.catalog.canonical(value.name) in IN_MEMORY

    def _passes_instance(self, qualname: str, param: Tuple[int, str]) -> bool:
        """Whether a construction of ``qualname`` passes an instance, not a reference, for ``param``."""
        position, name = param
        return any(site.argument(position, name) not in ("", NONE) and not site.reference(position, name)
                   for site in self._indexed().get(qualname, ()))

    def _called_instance(self, name: str) -> Resolved:
        """What calling an instance of ``name`` runs: its class's ``__call__``; for the result of
        a function, that of the class the function returns; None when unknown."""
        cls = self.returned(name) if name in self.functions else name
        if cls is None or cls not in self.classes:
            return None
        method = self.class_member(cls, "__call__", 0, set())
        found = self.functions.get(method) if method is not None else None
        return FunctionTarget(found[0]) if found and len(found) == 1 else None

    def mro(self, qualname: str) -> Optional[List[str]]:
        """C3 linearisation of a project class (external bases are leaves); None when a base is
        unknown, a class ambiguous, or the hierarchy inconsistent."""
        if qualname in self._mros:
            return self._mros[qualname]
        self._mros[qualname] = None  # a cycle ends here
        cls = self.classes.get(qualname)
        result = None
        if cls is not None:
            expanded = [self.expand(base.name) if base else None for base in cls.bases]
            names = [name for name in expanded if name is not None]
            if len(names) == len(expanded):
                # A library class whose own order is unknown is a leaf, as an external base was.
                orders = [self._library_leaf(name, self.mro(name)) if name in self.classes else [name] for name in names]
                known = [order for order in orders if order is not None]
                if len(known) == len(orders):
                    result = _merge([qualname], known + [names])
        self._mros[qualname] = result
        return result

    def constructed(self, target: str) -> Optional[str]:
        """The class of the model a call to ``target`` constructs (``Screen()``), if it is one."""
        if ".<super>." in target or self.calls_instance(target):
            return None
        name = self.expand(target)
        return name if name is not None and self.classes.get(name) is not None else None

    def falsy_attribute(self, qualname: str, attr: str) -> Optional[bool]:
        """What ``attr`` is on an instance of ``qualname`` that its methods have not changed, when
        the nearest class along the method resolution order binds it to a false literal in its
        body: True for None, False for another false literal; None when it may be anything else
        (another value, an assignment on ``self``, a class whose attributes are unknown)."""
        order = self.mro(qualname)
        if order is None:
            return None
        found: Optional[bool] = None
        for name in order:
            if name in _ROOT_CLASSES:
                continue
            cls = self.classes.get(name)
            if cls is None:
                return None  # a class outside the model may set it
            if attr in cls.on_instances:
                return None  # a method may set it before the call that reads it
            if found is None and attr in cls.attrs:
                if attr not in cls.falsy:
                    return None  # the nearest definition binds another value
                found = cls.falsy[attr]
        return found

    def tests_attributes(self, function: FunctionSummary, depth: int = 0) -> bool:
        """Whether a constructor's calls depend on the class constructed: ``function``, or what it
        runs on the same instance (a base's constructor, ``super().__init__()``, or a method called
        on ``self``), tests attributes of ``self``."""
        found = self._testing.get(id(function))
        if found is None:
            found = any(need.subject is Subject.ATTRIBUTE for need in function.needs)
            if not found and depth <= _MAX_DEPTH:
                self._testing[id(function)] = False  # a cycle of constructors tests nothing more
                inits = (callee(self, call) for call in function.calls if on_same_instance(call))
                found = any(init is not None and self.tests_attributes(init, depth + 1) for init in inits)
            self._testing[id(function)] = found
        return found

    def unset_calls(self, function: FunctionSummary) -> FrozenSet[int]:
        """The calls (indices) ``function`` makes only when an environment variable no module of
        the model sets is set (``environ``): not what the function always does."""
        found = self._unset.get(id(function))
        if found is None:
            if self._environment_set is None:
                self._environment_set = frozenset().union(*(summary.environment_set for summary in self.summaries))
            unset = set()
            for need in function.needs:
                if need.subject is Subject.ENVIRONMENT:
                    variable = need.attribute
                elif need.subject is Subject.VARIABLE:
                    read = self.environment_read(need.attribute)
                    if read is None or not need.failed_by(read.none):
                        continue
                    variable = read.variable
                else:
                    continue
                if variable not in self._environment_set:
                    unset.add(need.call)
            found = self._unset[id(function)] = frozenset(unset)
        return found

    def environment_read(self, name: str, depth: int = 0) -> Optional[EnvironmentRead]:
        """What the module variable ``name`` (``pkg.constants.DRIVER``) holds when its module binds
        it from the environment, through re-exports (``from .constants import DRIVER``)."""
        head, _, attr = name.rpartition(".")
        owner = self.expand(head) if head and depth <= _MAX_DEPTH else None
        module = self.modules.get(owner) if owner is not None else None
        if module is None:
            return None
        if attr in module.environment:
            return module.environment[attr]
        value = module.bindings.get(attr)
        if value is not None and value.kind == "ref" and value.name != name:
            return self.environment_read(value.name, depth + 1)
        return None

    def _library_leaf(self, name: str, order: Optional[List[str]]) -> Optional[List[str]]:
        return [name] if order is None and self.in_library(name) else order

    def argument_type(self, qualname: str, param: Tuple[int, str], depth: int) -> Optional[str]:
        """The type every construction of ``qualname`` in the project passes for ``param``
        (``None`` passed drops out); None when one disagrees, is unknown or hides its arguments,
        when there is none, or when a project class derives from it (its constructor may pass anything)."""
        sites = self._indexed().get(qualname)
        if not sites or qualname in self._derived:
            return None
        position, name = param
        types = set()
        for site in sites:
            passed = site.argument(position, name)
            if passed == NONE or site.bare:
                continue
            if not site.complete or not passed:
                return None
            found = self.expand(passed, depth + 1)
            if found is None:
                return None
            types.add(found)
        return types.pop() if len(types) == 1 else None

    def passed_value(self, qualname: str, attr: str, path: str, call: CallRecord,
                     given: Optional[Construction] = None) -> Optional[Passed]:
        """What ``self.<attr>`` is while the construction ``call`` (made in ``path``) of class
        ``qualname`` runs its constructor, when its ``__init__`` binds it from a parameter
        (``ParamValue``): what the call passes for the parameter (``given``, else its record), or
        the parameter's default."""
        cls = self.classes.get(qualname)
        bound = cls.param_values.get(attr) if cls is not None else None
        order = self.mro(qualname) if bound is not None else None
        if bound is None or order is None:
            return None
        for name in order[1:]:  # a base binding it too may change it
            base = self.classes.get(name)
            if name not in _ROOT_CLASSES and (base is None or attr in base.on_instances or attr in base.attrs):
                return None
        default = Passed(bound.default or None, bound.falsy)
        site = given or self.passed_at(path, call.row, call.col)
        if site is None:  # nothing recorded: a call passing nothing leaves every parameter at its default
            return default if not call.args and not call.flags & STATEMENT_FORM else None
        passed = site.given(Given(bound.name, bound.position))
        if passed is None:
            return default
        if not passed or site.reference(bound.position, bound.name):  # unknown, or a function or class
            return None
        return _LITERALS.get(passed) or Passed(passed, None)

    def property_of(self, qualname: str, attr: str) -> Optional[FunctionSummary]:
        """The property ``attr`` of class ``qualname`` (along its method resolution order), if it is one."""
        resolved = self.resolve(f"{qualname}.{attr}")
        if isinstance(resolved, FunctionTarget) and resolved.function.is_property:
            return resolved.function
        return None

    def passed_at(self, path: str, row: int, col: int) -> Optional[Construction]:
        """What the call recorded at ``path:row:col`` in a function passes, if it was recorded."""
        if self._passed is None:
            self._passed = {(summary.path, c.row, c.col): c for summary in self.summaries
                            for c in summary.constructions if c.row}
        return self._passed.get((path, row, col))

    def is_instance(self, passed: str, types: List[str]) -> Optional[bool]:
        """Whether what an argument evaluates to passes ``isinstance(x, types)``; None when unknown.
        A runtime-checkable Protocol among ``types`` is tested for its members (``protocols``)."""
        name = self.instance_type(passed)
        wanted = {self.expand(t) or t for t in types}
        if name is None:
            return None
        if name in wanted:
            return True
        bases = self._all_bases(name)
        if bases is not None and bases & wanted:
            return True
        structural = [protocols.has_members(name, members) for members in
                      (self._protocol_members(t) for t in wanted) if members is not None]
        if True in structural:
            return True
        return None if bases is None or None in structural else False

    def _protocol_members(self, name: str, depth: int = 0) -> Optional[Set[str]]:
        """What ``isinstance`` tests for when ``name`` is a Protocol class: the members its body and
        its protocol bases declare; None for any other class."""
        cls = self.classes.get(name)
        if cls is None or depth > _MAX_DEPTH:
            return None
        bases = [self.expand(base.name) if base is not None else None for base in cls.bases]
        if protocols.PROTOCOL_BASES.isdisjoint(bases):
            return None
        members = {attr for attr in cls.attrs if attr not in protocols.NOT_MEMBERS}
        for base in bases:
            if base in protocols.PROTOCOL_BASES or base == "typing.Generic":
                continue
            inherited = self._protocol_members(base, depth + 1) if base is not None else None
            if inherited is None:
                return None
            members |= inherited
        return members

    def instance_type(self, value: str) -> Optional[str]:
        """The class of a value spelled as a dotted name (not a reference): a class for its
        instance; a function, method or property for what calling or reading it gives
        (``pkg.data_file.read_bytes``: ``bytes``)."""
        name = self.expand(value)
        if name is None or name in self.classes or name in _KNOWN_BASES:
            return name
        if name in self.functions:
            return self.returned(name)
        result = self.catalog.result_type(name)
        return (self.expand(result) or result) if result else name

    def _all_bases(self, name: str, depth: int = 0) -> Optional[Set[str]]:
        """Every class ``name`` derives from, when all are known (project classes, a few stdlib ones)."""
        if name in _KNOWN_BASES:
            return set(_KNOWN_BASES[name])
        cls = self.classes.get(name)
        if cls is None or depth > _MAX_DEPTH:
            return None
        found = {"object"}
        for base in cls.bases:
            base_name = self.expand(base.name) if base else None
            inherited = self._all_bases(base_name, depth + 1) if base_name is not None else None
            if base_name is None or inherited is None:
                return None
            found |= inherited | {base_name}
        return found

    def has_subclass(self, qualname: str) -> bool:
        """Whether a class of the model derives from ``qualname``."""
        self._indexed()
        return qualname in self._derived

    def _indexed(self) -> Dict[str, List[Construction]]:
        if self._constructions is None:
            self._constructions = {}  # resolving the call sites below must not index them again
            self._constructions = self._index_constructions()
        return self._constructions

    def _index_constructions(self) -> Dict[str, List[Construction]]:
        """Project class -> every call that constructs it; also which classes have project subclasses.

        A library's own calls read no further module: a class constructed only in a module no
        followed call reached is outside the model."""
        sites: Dict[str, List[Construction]] = {}
        for summary in self.summaries:
            with self._reading_only(not self.is_library(summary)):
                for construction in summary.constructions:
                    name = self.expand(construction.target)
                    if name is not None and self.classes.get(name) is not None:
                        sites.setdefault(name, []).append(construction)
                for cls in summary.classes.values():
                    for base in cls.bases:
                        base_name = self.expand(base.name) if base else None
                        if base_name is not None:
                            self._derived.add(base_name)
        return sites

    @contextmanager
    def _reading_only(self, reading: bool) -> Iterator[None]:
        """Resolve with (or without) reading more library modules; class orders computed without
        are forgotten, as a later read may complete them."""
        if reading or not self._reading or self._libraries is None:
            yield
            return
        known = set(self._mros)
        self._reading = False
        try:
            yield
        finally:
            self._reading = True
            for name in set(self._mros) - known:
                del self._mros[name]

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

    def loaded_already(self, module: ModuleSummary, name: str) -> bool:
        """Whether the catalogued call ``name`` in ``module`` finds its database loaded: the module,
        one of its packages, or one they import at module level (and so on) loads it whenever it
        is imported."""
        loaders = self.catalog.loaded_by(name)
        return bool(loaders) and any(found.warmed & loaders for found in self._imported_with(module))

    def called_at_import(self, module: ModuleSummary, function: FunctionSummary) -> bool:
        """Whether importing ``module`` calls the plain function ``function``: the module, one of
        its packages, or one they import at module level calls it whenever it is imported."""
        return any(self.expand(name) == function.qualname for found in self._imported_with(module)
                   for name in found.called_at_import)

    def _imported_with(self, module: ModuleSummary) -> List[ModuleSummary]:
        """``module`` and the modules of the model its import runs first: its packages (importing
        ``a.b.c`` runs ``a`` and ``a.b`` first) and what each imports at module level."""
        found = self._import_closure.get(module.module)
        if found is None:
            seen, queue = {module.module}, [module]
            for current in queue:
                for name in (*packages(current.module)[:-1], *current.imports):
                    imported = self.modules.get(name)
                    if imported is not None and name not in seen:
                        seen.add(name)
                        queue.append(imported)
            found = self._import_closure[module.module] = queue
        return found

    def loaded_elsewhere(self, call: CallRecord) -> bool:
        """An ``import`` record whose every module another file of the project imports at module
        level, or is a package of one (importing ``a.b.c`` imports ``a`` and ``a.b``)."""
        if call.flags & STATEMENT_FORM == 0 or not call.detail:
            return False
        if self._loaded is None:
            self._loaded = frozenset(package for name in self.imported for package in packages(name))
        return all(module in self._loaded for module in call.detail.split(","))

    # -- calls --------------------------------------------------------------------------------
    def resolve(self, target: str) -> Resolved:
        """What a call to ``target`` runs: a catalogued blocking call, a project function, or None."""
        if target not in self._resolved:
            self._resolved[target] = self._resolve(target)
        return self._resolved[target]

    def _resolve(self, target: str) -> Resolved:
        if UNION in target:
            # A name of one of several types: a blocking call only when every member's is.
            each = [self.resolve(member) for member in union_members(target)]
            return each[0] if all(isinstance(member, RuleTarget) for member in each) else None
        rule = self.catalog.match(target)
        if rule is not None:
            return RuleTarget(rule, self.catalog.canonical(target))
        name = self.expand_super(target) if ".<super>." in target else self.expand(target)
        if name is None:
            return None
        if self.calls_instance(target):
            return self._called_instance(name)
        if name != target:
            rule = self.catalog.match(name)
            if rule is not None:
                return RuleTarget(rule, self.catalog.canonical(name))
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


def builds_same(call: CallRecord) -> bool:
    """``super().__init__(...)`` in a constructor: the base's constructor, on the instance being built."""
    return call.target.endswith(_SUPER_INIT) and call.flags & (ACCESS | AWAITED) == 0


class Passed(NamedTuple):
    """What a construction binds an attribute to: its type (None: unknown) and whether it is a
    false literal (True for None, False for another; None when not known to be one)."""
    type: Optional[str]
    falsy: Optional[bool]


_CONTEXT_MANAGERS = frozenset({"contextlib.contextmanager", "contextlib2.contextmanager"})
_LITERALS = {NONE: Passed(NONE_TYPE, True), TRUE: Passed("bool", None), FALSE: Passed("bool", False)}


def on_same_instance(call: CallRecord) -> bool:
    """A call that runs on the instance its caller runs on: a base's constructor (``builds_same``),
    or a method called on ``self`` (under a constructor, on the instance being built)."""
    return builds_same(call) or bool(call.flags & ON_SELF) and call.flags & (ACCESS | AWAITED) == 0


def enters_body(function: FunctionSummary) -> bool:
    """A ``@contextmanager`` generator: ``with f():`` runs its body, up to the ``yield`` on entering
    and the rest on leaving (a plain call only makes the context manager)."""
    return function.is_generator and not _CONTEXT_MANAGERS.isdisjoint(function.decorators)


def callee(project: Project, call: CallRecord) -> Optional[FunctionSummary]:
    """The sync project function a call runs on the spot, if it can be known."""
    if call.flags & ASSIGNS:
        return None
    resolved = project.resolve(call.target)
    if not isinstance(resolved, FunctionTarget):
        return None
    function = resolved.function
    if function.is_async or function.offloaded:
        return None
    if call.flags & ACCESS and not function.is_property:
        return None
    if function.is_generator and not call.flags & ITERATED and not (call.flags & WITH_ITEM and enters_body(function)):
        return None  # calling a generator function runs none of its body
    if call.flags & AWAITED and function.decorated:
        return None  # a decorator may have made it a coroutine function, or sent it to a thread
    # ``await send(f)`` with a plain sync ``send``: its body runs on the loop before it returns the awaitable.
    return function
