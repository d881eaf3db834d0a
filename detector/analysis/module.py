"""One file -> a ModuleSummary: every function, the calls it makes, classes and module names.

A single libcst visitor pass collects scopes, binding sources and call nodes; names are
resolved afterwards, when every binding of the module is known. Positions are computed
only when the module has calls worth recording.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple, Union, cast

import libcst as cst

from detector.analysis import (
    atomicity, attrtests, cstwalk, debugmode, diagnostics, drivers, environ, flavour, literals, offload, platforms,
    positions, pyversion, receivers, screen, startup,
)
from detector.analysis.names import (
    UNKNOWN_SOURCE, UNPACKED, Annotated, Assigned, Element, Known, Resolver, Scope, Source, Unknown,
    binding_scope, binds_none, conditioned_argument, dotted, identifier, inst, is_false, is_none, is_true,
    positional_argument, ref, resolve_relative, string_literal,
)
from detector.analysis.summary import (
    ACCESS,
    ARGUMENT,
    ASSIGNS,
    AWAITED,
    FAN_OUT,
    HANDED_ON,
    IN_LOOP,
    CONDITIONAL,
    ITERATED,
    KEYWORDS,
    MUTATES,
    OFFLOAD_ARG,
    ON_MISS,
    STATEMENT,
    STATEMENT_FORM,
    ON_SELF,
    ON_UNSET,
    IN_HANDLER,
    FIRST_ITEM,
    STORED,
    SUSPENDS,
    THREAD_ARG,
    WITH_ITEM,
    NO_FLAGS,
    CallFlag,
    CallRecord,
    NONE,
    NONE_TYPE,
    TRUE,
    FALSE,
    ClassSummary,
    Construction,
    FunctionSummary,
    AttributeNeed,
    Forward,
    Spread,
    Given,
    Guard,
    Subject,
    ModuleSummary,
    Value,
    NO_ELEMENTS,
    Elements,
    ParamCall,
    ParamValue,
    packages,
)
from detector.analysis.astindex import Located
from detector.analysis.cstwalk import is_node
from detector.analysis.receivers import Position
from detector.catalog import IN_MEMORY, ArgumentCondition, CallbackSlot, Catalog
from detector.display import one_line
from detector.suppress import has_skip_file, parse_noqa

# Decorators that make a method a getter run on every read (``cached_property``: on the first).
_PROPERTIES = frozenset({"property", "cached_property", "abstractproperty"})
# Decorators that leave a function an ordinary sync function called in place.
_PLAIN_DECORATORS = _PROPERTIES | {"staticmethod", "classmethod", "abstractmethod", "override", "final",
                                   "wraps", "setter", "getter", "deleter"}
IMPORT = "import"  # the catalogue's name for an ``import`` statement (BLK180)
_MAX_TEXT = 80
_GENERIC = ref("typing.Generic")
_MAX_ARGS = 60  # arguments shown in advice: longer ones end with "…"
# Methods that change a container in place: ``self.items.append(x)`` writes ``self.items``.
_MUTATORS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem",
    "add", "discard", "difference_update", "intersection_update", "symmetric_difference_update",
    "appendleft", "extendleft", "popleft", "rotate", "sort", "reverse",
})

# The collector walks node fields directly, in libcst's own order (``cstwalk``), never
# entering whitespace or punctuation.
_SKIP = frozenset({"lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer",
                   "comma", "semicolon", "newline", "trailing_whitespace"})
_ORDER: Dict[type, Tuple[str, ...]] = {}
_MISSING: Any = object()  # a sentinel, compared by identity only
_NOWHERE: Position = (-1, -1)  # outside the body of a function
_PARAMETERS: Position = (-1, 0)  # bound before the body runs


def _fields(node: cst.CSTNode) -> Tuple[str, ...]:
    kind = type(node)
    if kind not in _ORDER:
        _ORDER[kind] = tuple(n for n in cstwalk.fields(node) if n not in _SKIP and not n.startswith("whitespace"))
    return _ORDER[kind]


# What a function's record list holds: calls, attribute reads and writes, and the statements
# that block (a ``for`` over a file, an ``import``).
_Recorded = Union[cst.Call, cst.Attribute, cst.For, cst.Import, cst.ImportFrom]


class PlatformGuard(NamedTuple):
    """An ``if`` around code: its test, the scope of the test, and whether the code is in its ``else``."""

    test: cst.BaseExpression
    scope: Scope
    in_else: bool


PlatformGuards = Tuple[PlatformGuard, ...]


class _TypeTest(NamedTuple):
    """``isinstance(param, T)`` on a parameter (``position`` among a call's arguments, -1:
    keyword-only), coming out as ``when`` for the code it is around."""
    position: int
    name: str
    types: cst.BaseExpression
    when: bool
    scope: Scope


class _Condition(NamedTuple):
    """A test around code (an ``if``, ``x if t else y``, ``t and x``, an early return) and the
    outcome the code needs; what that needs of ``self``'s attributes is read as the walk passes
    (``attrtests``), what it needs of the environment once names resolve (``environ``)."""

    test: cst.BaseExpression
    scope: Scope
    outcome: bool
    attributes: attrtests.Needs


_Conditions = Tuple[_Condition, ...]


class _Opened(NamedTuple):
    """A call in the block of ``with opener(...) as name:`` that uses ``name``."""
    opener: int  # id() of the opener's call node
    name: str


class _FunctionInfo:
    __slots__ = ("scope", "is_async", "node", "calls", "is_generator", "is_property", "returned", "decorated",
                 "bound", "offloaded", "outer", "with_items", "fallbacks", "switches", "augmented")

    def __init__(self, scope: Scope, is_async: bool, node: cst.FunctionDef, decorators: List[str], outer: Scope):
        self.scope = scope
        self.outer = outer  # where the ``def`` runs: its decorators resolve there
        self.is_async = is_async
        self.node = node
        self.calls: List[Tuple[_Recorded, Scope, int]] = []
        self.is_generator = False
        self.is_property = any(d.rsplit(".", 1)[-1] in _PROPERTIES for d in decorators)
        self.decorated = any(d.rsplit(".", 1)[-1] not in _PLAIN_DECORATORS for d in decorators)
        self.offloaded = any(_offloads(d) for d in node.decorators)
        self.returned: List[Tuple[Optional[cst.BaseExpression], Scope]] = []  # every ``return`` of its body
        # A method called on an instance or a class: calls pass their arguments after ``self``/``cls``.
        self.bound = bool(scope.class_qualname) and "staticmethod" not in decorators
        self.with_items: List[cst.BaseExpression] = []  # ``with x:`` items that are not calls (held locks)
        owner = _first_param(node) if self.bound else None
        # ``css_path = css_path or self.CSS_PATH``: locals standing for an attribute (``attrtests``).
        self.fallbacks = attrtests.fallbacks(node, owner) if owner else {}
        # ``watch_css=False``: parameters a test may need a call to pass (kept when bound nowhere else).
        self.switches = attrtests.switches(node.params, self.bound, required=True)
        self.augmented: Set[str] = set()  # names ``x += ...`` rebinds in its own frame


@dataclasses.dataclass
class _Pending:
    """A call (or attribute access) worth recording, before its position is known."""

    function: FunctionSummary
    node: _Recorded  # an Attribute: read or written; a For or an import: a statement that blocks
    index: int  # in _Collector.ordered
    target: str
    flags: CallFlag


class _ClassInfo:
    __slots__ = ("scope", "bases", "instance_attrs", "param_attrs", "init_params", "literals", "customised")

    def __init__(self, scope: Scope, bases: List[Tuple[cst.BaseExpression, Scope]], customised: bool):
        self.scope = scope
        self.bases = bases
        self.customised = customised  # a class decorator or a metaclass may change its methods
        self.instance_attrs: Dict[str, List[Source]] = {}
        # ``self.x = param`` in ``__init__`` (param unannotated): x -> (position after self, name)
        self.param_attrs: Dict[str, Tuple[int, str]] = {}
        # ``self.x = param`` in ``__init__``, annotated or not: x -> (position, the parameter, the
        # scope its default is evaluated in)
        self.init_params: Dict[str, Tuple[int, cst.Param, Scope]] = {}
        # ``NAME = value`` in the class body: NAME -> for each, whether value is a false literal
        # (``attrtests.falsy_literal``: True for None, False for another, None for anything else).
        self.literals: Dict[str, List[Optional[bool]]] = {}


class _Collector(cst.CSTVisitor):
    """Walks the tree once, building scopes and remembering calls per function."""

    def __init__(self, module_name: str, is_package: bool):
        super().__init__()
        self.module_name = module_name
        self.is_package = is_package
        self.module_scope = Scope("module", module_name, None)
        self.scope = self.module_scope
        self.function: Optional[_FunctionInfo] = None
        self.functions: List[_FunctionInfo] = []
        self.classes: Dict[str, _ClassInfo] = {}
        self.flags: Dict[int, CallFlag] = {}  # id(call node) -> flags set by its parent
        self.not_accesses: Set[int] = set()  # ids of attributes that are called or assigned to
        self.assigned: Dict[int, str] = {}  # id(value) -> the plain name it is assigned to
        self.loops = 0  # loops of the current function around the code being walked
        self.branches = 0  # branches of the current function around the code being walked
        self.arms: Optional[List[List[cst.Call]]] = None  # the calls of each arm of a top-level if/else
        self.rebound: Set[int] = set()  # ids of attributes assigned to (``obj.attr = v``)
        self.mutated: Set[int] = set()  # ids of attributes whose value is changed in place
        self.libraries: Set[str] = set()  # async libraries imported (offload.LIBRARIES)
        self.module_calls: List[Tuple[cst.Call, Scope]] = []  # calls outside any function
        self.import_time: Set[int] = set()  # id() of those that run whenever the module is imported
        self.argument_of: Dict[int, int] = {}  # id(attribute passed as an argument) -> id(the call)
        self.stepping = 0  # ``try`` bodies around the code being walked that catch StopIteration
        self.polling = 0  # ``try`` bodies around it that catch BlockingIOError (``_WOULD_BLOCK``)
        self.on_miss = 0  # ``except KeyError:`` handlers of a cache look-up around it (``ON_MISS``)
        self.on_unset = 0  # ``if self.x is None: self.x = ...`` bodies around it (``ON_UNSET``)
        self.handling = 0  # ``except`` handlers around it (``IN_HANDLER``)
        self.polled: Set[int] = set()  # ids of the calls made there
        self.stepped: List[cst.Call] = []  # ``gen.send(value)`` under such a ``try``: a driver's step, maybe
        # ``if isinstance(param, T):`` tests around the code being walked (their sides, or an early
        # return after one), innermost last; and per call.
        self.guard: Tuple[_TypeTest, ...] = ()
        self.guards: Dict[int, Tuple[_TypeTest, ...]] = {}
        # (id(scope), name) -> the tests around each assignment of the name in a function
        self.binding_tests: Dict[Tuple[int, str], List[Tuple[_TypeTest, ...]]] = {}
        # What the code being walked needs of ``self``'s attributes to run (``attrtests``), and per call.
        self.needs: _Conditions = ()
        self.call_needs: Dict[int, _Conditions] = {}
        self.module_imports: Set[str] = set()  # modules the file imports at module level
        self.imports: Dict[int, List[str]] = {}  # id(import statement in an async body) -> its modules
        # Every Call and Attribute in source order: positions.spans maps them to ast's.
        self.ordered: List[cst.CSTNode] = []
        # The ``if`` tests around the code being walked.
        self.platform_guards: PlatformGuards = ()
        self.call_platforms: Dict[int, PlatformGuards] = {}  # id(call) -> the ``if`` tests around it
        # ``with opener(...) as name:`` blocks being walked in the current function: name -> opener;
        # the id() of every call a ``with`` item makes there, and those whose block awaits or yields.
        self.openers: Dict[str, cst.Call] = {}
        self.item_index: Dict[int, int] = {}  # id(``with`` item) -> the index of its node in ``ordered``
        self.entered: Tuple[int, ...] = ()
        self.suspending: Set[int] = set()
        # id(a call of a method of name, or a call passed name) -> the opener and name
        self.opened_by: Dict[int, _Opened] = {}
        # Under a debug-mode test (``if loop.get_debug():``, ``debugmode``): code that does not
        # run in normal operation, and the records made there (never findings, never chain links).
        self.debug_only = False
        self.in_debug: Set[int] = set()
        self.conditional: Set[int] = set()  # id(record that is not a call) in a branch of its function
        # Names a function may share with other code through the module (thread-safety):
        # ``global`` declarations per function scope, names changed in place or rebound there
        # (name, scope, in place?, function), and names passed as they are to a call.
        self.declared_global: Dict[int, Set[str]] = {}
        self.name_changes: List[Tuple[str, Scope, bool, _FunctionInfo]] = []
        self.name_arguments: List[Tuple[str, Scope, int]] = []  # (name, scope, id(call))
        # Straight-line order in the current function: (statement of its body, small statement
        # of a simple line); ``straight`` while walking a simple statement of the body itself.
        self.position: Position = _NOWHERE
        self.straight = False
        self.bound_at: Dict[int, Position] = {}  # id(binding source of a function local) -> where
        self.environment_set: Set[str] = set()  # environment variables the module sets (``environ.written``)
        self.annotated_values: Dict[int, cst.BaseExpression] = {}  # id(Annotated source) -> the value assigned
        self.used_at: Dict[int, Position] = {}  # id(call in a function's own frame) -> where
        # The items of the sync ``with`` statements of the current function around the code being
        # walked (an ``await`` added there runs other coroutines while they are entered), and per call.
        self.held: Tuple[Tuple[cst.BaseExpression, Scope], ...] = ()
        self.call_held: Dict[int, Tuple[Tuple[cst.BaseExpression, Scope], ...]] = {}
        # The ``if``s of the current coroutine around the code being walked whose test reads
        # shared state (``atomicity``), and per call made between such a test and a change of
        # what it read: that state.
        self.checks: Tuple[atomicity.Check, ...] = ()
        self.checked_then_set: Dict[int, str] = {}
        # Parameters of the current function whose ``if param is None:`` body is being walked,
        # and (id(scope), name) of every name bound anywhere else in a function.
        self.none_tested: Tuple[str, ...] = ()
        self.bound_outside_none_test: Set[Tuple[int, str]] = set()

    # -- helpers -------------------------------------------------------------------------------
    def _qualname(self, name: str) -> str:
        return f"{self.scope.qualname}.{name}" if self.scope.qualname else name

    def _bind_target(self, target: cst.BaseExpression, source: Source) -> None:
        self.not_accesses.add(id(target))
        if isinstance(target, cst.Name):
            self.scope.bind(identifier(target), source)
            if self.function is not None:
                self.binding_tests.setdefault((id(self.scope), identifier(target)), []).append(self.guard)
                if identifier(target) not in self.none_tested:
                    self.bound_outside_none_test.add((id(self.scope), identifier(target)))
            self.openers.pop(identifier(target), None)  # rebound: no longer the opened object
            if self.function is not None and identifier(target) in self.declared_global.get(id(self.scope), ()):
                self.name_changes.append((identifier(target), self.scope, False, self.function))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, UNKNOWN_SOURCE)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, UNKNOWN_SOURCE)
        elif isinstance(target, cst.Attribute):
            self.rebound.add(id(target))
            self._bind_instance_attr(target, source)
        elif isinstance(target, cst.Subscript):
            self._mark_mutated(target.value)

    def _mark_mutated(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Attribute):
            self.mutated.add(id(node))
        elif isinstance(node, cst.Name) and self.function is not None:
            self.name_changes.append((identifier(node), self.scope, True, self.function))

    def _bind_instance_attr(self, target: cst.Attribute, source: Source) -> None:
        """``self.x = value`` inside a method records ``x`` as an attribute of the class."""
        scope = self.scope.function_scope()
        if not scope.class_qualname or not isinstance(target.value, cst.Name):
            return
        if self.function is None or identifier(target.value) != _first_param(self.function.node):
            return
        info = self.classes.get(scope.class_qualname)
        if info is not None:
            info.instance_attrs.setdefault(identifier(target.attr), []).append(source)
            if isinstance(source, Assigned) and isinstance(source.node, cst.Name) and scope is self.function.scope \
                    and identifier(self.function.node.name) == "__init__":
                param = _init_param(self.function.node.params, identifier(source.node))
                if param is not None:
                    info.init_params[identifier(target.attr)] = (*param, self.function.outer)
                    if param[1].annotation is None:
                        info.param_attrs[identifier(target.attr)] = (param[0], identifier(source.node))

    def _mark(self, node: cst.BaseExpression, flag: CallFlag) -> None:
        if isinstance(node, cst.Call):
            self.flags[id(node)] = self.flags.get(id(node), NO_FLAGS) | flag

    def _record(self, node: _Recorded, index: int) -> None:
        """A call, attribute access or blocking statement of the function being walked."""
        assert self.function is not None
        self.function.calls.append((node, self.scope, index))
        if isinstance(node, cst.Call):
            for check in self.checks:
                if not check.suspended:
                    check.calls.append(node)
        if self.debug_only:
            self.in_debug.add(id(node))
        if self.branches and not isinstance(node, cst.Call):
            self.conditional.add(id(node))  # a property read, a ``for``, a ``with`` in a branch

    def _visit_all(self, nodes: Iterable[cst.CSTNode]) -> None:
        for node in nodes:
            self._walk(node)

    _dispatch: Dict[type, Optional[Callable[[_Collector, Any], Optional[bool]]]] = {}  # node type -> its visit_ method

    def _walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        method = self._dispatch.get(kind, _MISSING)
        if method is _MISSING:
            method = self._dispatch[kind] = getattr(type(self), "visit_" + kind.__name__, None)
        if method is not None and method(self, node) is False:
            return
        for name in _ORDER.get(kind) or _fields(node):
            value = getattr(node, name)
            held = type(value)
            if held is tuple or held is list:
                for item in value:
                    if is_node(item):
                        self._walk(item)
            elif is_node(value):
                self._walk(value)

    # -- imports -------------------------------------------------------------------------------
    def _note_import(self, node: Union[cst.Import, cst.ImportFrom], modules: List[str]) -> None:
        """Module-level imports load modules for the whole file; one in an async body runs the
        import machinery on the loop (``STATEMENT_FORM`` records, kept in source order for positions)."""
        self.ordered.append(node)
        if self.scope is self.module_scope:
            self.module_imports.update(modules)
        elif self.function is not None and self.function.is_async and modules:
            self.imports[id(node)] = modules
            self._record(node, len(self.ordered) - 1)

    def visit_Import(self, node: cst.Import) -> bool:
        self._note_import(node, [name for name in (dotted(alias.name) for alias in node.names) if name])
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            self._note_library(name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.scope.bind(identifier(alias.asname.name), Known(ref(name)))
            else:
                root = name.split(".", 1)[0]
                self.scope.bind(root, Known(ref(root)))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = dotted(node.module) if node.module is not None else None
        base = resolve_relative(self.module_name, self.is_package, len(node.relative), module)
        self._note_import(node, [base] if base else [])
        if isinstance(node.names, cst.ImportStar) or base is None:
            return False
        if not node.relative:
            self._note_library(base)
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            if self.scope is self.module_scope:
                self.module_imports.add(f"{base}.{name}")  # ``from pkg import sub`` imports a submodule
            asname = alias.asname.name if alias.asname is not None else None  # a Name in an import
            local = identifier(asname) if isinstance(asname, cst.Name) else name
            self.scope.bind(local, Known(ref(f"{base}.{name}")))
        return False

    def _note_library(self, name: str) -> None:
        library = offload.LIBRARIES.get(name.split(".", 1)[0])
        if library is not None:
            self.libraries.add(library)

    # -- definitions ---------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        decorators = [_decorator_name(d) for d in node.decorators]
        self._visit_all(node.decorators)
        self._visit_params_outside(node.params)
        if node.returns is not None:
            self._walk(node.returns)
        if "overload" in decorators or "typing.overload" in decorators:
            return False
        name = identifier(node.name)
        # A property setter shares the getter's name; keep it apart so the getter stays unambiguous.
        suffix = next((":" + d.rsplit(".", 1)[1] for d in decorators if d.endswith((".setter", ".deleter"))), "")
        qualname = self._qualname(name) + suffix
        if not suffix:
            self.scope.bind(name, Known(ref(qualname)))
        in_class = self.scope.kind == "class"
        is_async = node.asynchronous is not None
        scope = Scope("async" if is_async else "def", qualname, self.scope,
                      class_qualname=self.scope.qualname if in_class else "")
        info = _FunctionInfo(scope, is_async, node, decorators, outer=self.scope)
        self.functions.append(info)
        self._bind_params(node.params, scope, in_class, decorators)
        outer = (self.scope, self.function, self.loops, self.guard, self.openers, self.entered, self.branches,
                 self.needs, self.position, self.straight, self.held, self.checks, self.none_tested, self.on_miss,
                 self.on_unset, self.handling)
        self.scope, self.function, self.loops, self.guard, self.openers, self.entered, self.branches, self.needs = \
            scope, info, 0, (), {}, (), 0, ()
        self.position, self.straight, self.held, self.checks, self.none_tested = _NOWHERE, False, (), (), ()
        self.on_miss = self.on_unset = self.handling = 0  # the body runs when called, not where it is defined
        self._walk(node.body)
        (self.scope, self.function, self.loops, self.guard, self.openers, self.entered, self.branches, self.needs,
         self.position, self.straight, self.held, self.checks, self.none_tested, self.on_miss, self.on_unset,
         self.handling) = outer
        return False

    def _visit_params_outside(self, params: cst.Parameters) -> None:
        """Defaults and annotations run where the ``def`` statement runs, not in the body."""
        for param in _params_in_source_order(params):
            if param.annotation is not None:
                self._walk(param.annotation)
            if param.default is not None:
                self._walk(param.default)

    def _bind_params(self, params: cst.Parameters, scope: Scope, in_class: bool, decorators: List[str]) -> None:
        outer = self.scope
        ordered = _all_params(params)
        for index, param in enumerate(ordered):
            name = identifier(param.name)
            source: Source
            if param.annotation is not None:
                source = Annotated(param.annotation.annotation, outer)
            elif index == 0 and in_class and "staticmethod" not in decorators and param in (*params.params, *params.posonly_params):
                owner = outer.qualname
                source = Known(ref(owner) if "classmethod" in decorators else inst(owner))
            else:
                source = Unknown()  # its own, so that it has a place (before the body)
            scope.bind(name, source)
            self.bound_at[id(source)] = _PARAMETERS

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._visit_all(node.decorators)
        self._visit_all(arg.value for arg in node.bases)
        self._visit_all(arg.value for arg in node.keywords)
        qualname = self._qualname(identifier(node.name))
        self.scope.bind(identifier(node.name), Known(ref(qualname)))
        scope = Scope("class", qualname, self.scope)
        self.classes[qualname] = _ClassInfo(scope, [(arg.value, self.scope) for arg in node.bases],
                                            bool(node.decorators or node.keywords))
        outer_scope, outer_function = self.scope, self.function
        # Code in a class body is not part of any function: it never runs on the loop.
        self.scope, self.function = scope, None
        self._walk(node.body)
        self.scope, self.function = outer_scope, outer_function
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._visit_params_outside(node.params)
        scope = Scope("lambda", self._qualname("<lambda>"), self.scope)
        for param in _all_params(node.params):
            scope.bind(identifier(param.name), UNKNOWN_SOURCE)
        outer_scope, outer_function = self.scope, self.function
        # A lambda's body runs whenever it is called, typically in a thread or a callback.
        self.scope, self.function = scope, None
        self._walk(node.body)
        self.scope, self.function = outer_scope, outer_function
        return False

    # -- comprehensions run in their own scope, but in the enclosing function's frame ---------
    def _enter_comprehension(self, node: Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp]) -> bool:
        scope = Scope("comp", self.scope.qualname, self.scope)
        outer, outer_needs = self.scope, self.needs
        self.needs = outer_needs + self._iterated_needs(node.for_in.iter)
        self.scope = scope
        self.loops += 1  # the element runs once per item
        for part in ("elt", "key", "value"):  # source order: the element comes first
            child = getattr(node, part, None)
            if child is not None:
                self._walk(child)
        self.loops -= 1
        self.needs = outer_needs
        self._walk(node.for_in)
        self.scope = outer
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._enter_comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._enter_comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._enter_comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._enter_comprehension(node)

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        if node.asynchronous is not None:
            self._suspends()
        self._mark(node.iter, ITERATED)
        self._walk(node.iter)  # the first iterable is evaluated once; the conditions and inner loops per item
        self._bind_target(node.target, Element(node.iter, self.scope)
                          if isinstance(node.target, cst.Name) else UNKNOWN_SOURCE)
        self.loops += 1
        self._visit_all(node.ifs)
        if node.inner_for_in is not None:
            self._walk(node.inner_for_in)
        self.loops -= 1
        return False

    # -- bindings ------------------------------------------------------------------------------
    def _in_straight_line(self, target: cst.BaseExpression, source: Source) -> None:
        """A plain name bound by a simple statement of the function body itself: its place decides
        which binding later code of the body sees (``f = open(p)``; ``await x``; ``f = BytesIO()``)."""
        if self.straight and isinstance(target, cst.Name) and self.function is not None \
                and self.scope is self.function.scope:
            self.bound_at[id(source)] = self.position

    def visit_Assign(self, node: cst.Assign) -> None:
        self.environment_set.update(environ.written(node))
        for target in node.targets:
            self._note_class_literal(target.target, node.value)
            source = Assigned(node.value, self.scope)
            self._in_straight_line(target.target, source)
            self._bind_target(target.target, source)
            if isinstance(target.target, (cst.Attribute, cst.Subscript)):
                self._mark(node.value, STORED)
            elif isinstance(target.target, cst.Name):
                self.assigned[id(node.value)] = identifier(target.target)
            self._changes(target.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        target = node.target
        if isinstance(target, cst.Name) and self.function is not None:
            self.function.augmented.add(identifier(target))
        self._mark_mutated(target.value if isinstance(target, cst.Subscript) else target)
        self._changes(target, node.value)

    def visit_Del(self, node: cst.Del) -> None:
        for target in _flatten(node.target):
            if isinstance(target, cst.Subscript):
                self._mark_mutated(target.value)
            self._changes(target, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._note_class_literal(node.target, node.value)
        source = Annotated(node.annotation.annotation, self.scope)
        if node.value is not None:
            self.annotated_values[id(source)] = node.value
        self._in_straight_line(node.target, source)
        self._bind_target(node.target, source)

    def _note_class_literal(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """``CSS_PATH = None`` in a class body: a value ``attrtests`` may rule calls out with."""
        if self.scope.kind == "class" and isinstance(target, cst.Name):
            info = self.classes[self.scope.qualname]
            info.literals.setdefault(identifier(target), []).append(attrtests.falsy_literal(value))

    def visit_For(self, node: cst.For) -> bool:
        if node.asynchronous is None:
            self._mark(node.iter, ITERATED)
            # ``for line in f``: iterating a file reads it (a record when ``f`` is a catalogued type).
            self.ordered.append(node)
            if self.function is not None:
                self._record(node, len(self.ordered) - 1)
            if self.openers:
                self._note_opened(node, [node.iter])
        else:
            self._suspends()
        self._bind_target(node.target, Element(node.iter, self.scope) if isinstance(node.target, cst.Name)
                          else UNKNOWN_SOURCE)
        self._walk(node.target)
        self._walk(node.iter)  # evaluated once, before the loop
        outer_needs = self.needs
        self.needs = outer_needs + self._iterated_needs(node.iter)
        self._loop_body(node.body)
        self.needs = outer_needs
        if node.orelse is not None:
            self._walk(node.orelse)
        return False

    def visit_While(self, node: cst.While) -> bool:
        self._loop_body(node.test, node.body)
        if node.orelse is not None:
            self._walk(node.orelse)
        return False

    def _loop_body(self, *parts: cst.CSTNode) -> None:
        self.loops += 1
        self._visit_all(parts)
        self.loops -= 1

    def visit_With(self, node: cst.With) -> bool:
        if node.asynchronous is not None:
            self._suspends()
        self._visit_all(node.items)
        protocol = self._enter_and_exit(node.items) if node.asynchronous is None and self.function is not None else []
        opened = {identifier(item.asname.name): item.item for item in node.items
                  if isinstance(item.item, cst.Call) and item.asname is not None
                  and isinstance(item.asname.name, cst.Name)}
        outer, entered, held = self.openers, self.entered, self.held
        self.openers = {**outer, **opened}
        self.entered = entered + tuple(id(item.item) for item in node.items if isinstance(item.item, cst.Call)) \
            + tuple(map(id, protocol))
        if node.asynchronous is None and self.function is not None:
            self.held = held + tuple((item.item, self.scope) for item in node.items)
        self._walk(node.body)
        self.openers, self.entered, self.held = outer, entered, held
        return False

    def _enter_and_exit(self, items: Sequence[cst.WithItem]) -> List[cst.Call]:
        """The calls a sync ``with`` makes of what each item gives, recorded where the item is:
        ``item.__enter__()`` on entering, ``item.__exit__(None, None, None)`` on leaving without an
        exception. They are not in the tree: each takes the item's place in ``ordered``."""
        made = []
        for item in items:
            index = self.item_index.get(id(item))
            if index is None:
                continue  # an item whose position offload does not take (a subscript, a lambda)
            for method, arguments in _PROTOCOL:
                call = cst.Call(cst.Attribute(item.item, cst.Name(method)), arguments)
                self._mark(call, WITH_ITEM)
                self._in_context(call)
                self._record_call(call, index)
                made.append(call)
        return made

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if isinstance(node.item, (cst.Call, cst.Attribute, cst.Name)):
            # The item is the next node ``ordered`` gets (a Name is put there for this alone).
            self.item_index[id(node)] = len(self.ordered)
            if isinstance(node.item, cst.Name):
                self.ordered.append(node.item)
        self._mark(node.item, WITH_ITEM)
        if node.asname is not None:
            self._bind_target(node.asname.name, Assigned(node.item, self.scope))
        elif self.function is not None and not isinstance(node.item, cst.Call):
            self.function.with_items.append(node.item)

    def _note_opened(self, node: cst.CSTNode, names: List[cst.BaseExpression]) -> None:
        """``f.read()``, ``json.dump(data, f)`` or ``for line in f`` (``node``, using ``names``) in
        the block of ``with open(p) as f:``."""
        for name in names:
            if isinstance(name, cst.Name) and identifier(name) in self.openers:
                self.opened_by[id(node)] = _Opened(id(self.openers[identifier(name)]), identifier(name))
                return

    def _suspends(self) -> None:
        """The code being walked awaits or yields: so does every ``with`` block around it, and a
        check-then-set around it is no longer one step."""
        self.suspending.update(self.entered)
        for check in self.checks:
            check.suspended = True

    def _none_test(self, test: cst.BaseExpression) -> Tuple[str, ...]:
        """``(param,)`` for ``if param is None:`` on a parameter of the function, in its own frame."""
        function = self.function
        if function is None or self.scope is not function.scope or not isinstance(test, cst.Comparison) \
                or len(test.comparisons) != 1 or not isinstance(test.left, cst.Name):
            return ()
        operator, comparator = test.comparisons[0].operator, test.comparisons[0].comparator
        name = identifier(test.left)
        return (name,) if isinstance(operator, cst.Is) and is_none(comparator) and name in function.switches else ()

    def _shared_check(self, test: cst.BaseExpression) -> Optional[atomicity.Check]:
        """A check of shared state by the ``if`` ``test``, in a coroutine's own body."""
        function = self.function
        if function is None or not function.is_async or self.scope is not function.scope:
            return None
        owner = _first_param(function.node) if function.bound else None
        reads = atomicity.shared_reads(test, owner, self._module_variable)
        return atomicity.Check(reads) if reads else None

    def _module_variable(self, name: str) -> bool:
        """A name the current function reads from the module that the module assigns a value
        (``CACHE = {}``), not one an import, a ``def`` or a ``class`` binds (``os``)."""
        assert self.function is not None
        sources = self.module_scope.sources.get(name) or []
        return name not in self.function.scope.sources and bool(sources) \
            and all(isinstance(source, (Assigned, Annotated)) for source in sources)

    def _changes(self, target: cst.BaseExpression, value: Optional[cst.CSTNode]) -> None:
        """``target`` (with ``value``, what is assigned to it or passed to change it) is changed:
        the calls made since a test that read it, with no ``await`` between, take part in a
        check-then-set."""
        state = atomicity.written(target) if self.checks else None
        if state is None:
            return
        calls, awaits = atomicity.calls_and_awaits(value) if value is not None else ([], False)
        for check in self.checks:
            if not check.suspended and not awaits and atomicity.changes(check.reads, state):
                for call in check.calls + calls:
                    self.checked_then_set.setdefault(id(call), state)

    def visit_If(self, node: cst.If) -> bool:
        """The test of an ``if`` around calls: ``isinstance(param, T)`` decides which calls run for
        which arguments; every test may decide the platforms they run on (``_place``), or that
        they run in debug mode only (``debugmode``). A test every Python 3 decides alike
        (``pyversion``) is no branch: only its live side is part of the program."""
        self._walk(node.test)
        decided = pyversion.outcome(node.test)
        if decided is not None:
            live = node.body if decided else node.orelse
            if live is not None:
                self._walk(live)
            return False
        typed = self._isinstance_guard(node.test)
        outer_guard, outer_platforms, outer_debug = self.guard, self.platform_guards, self.debug_only
        if typed is not None:
            self.guard = outer_guard + (typed._replace(when=not typed.when),)
        self.platform_guards = outer_platforms + (PlatformGuard(node.test, self.scope, False),)
        self.debug_only = outer_debug or debugmode.only_when_true(node.test)
        outer_needs = self.needs
        self.needs = outer_needs + self._needs(node.test, True)
        self.branches += 1
        outer_arms = self.arms
        # ``if``/``else`` at the top of its function: a call both sides make runs on every call.
        self.arms = [[]] if self.branches == 1 and isinstance(node.orelse, cst.Else) else None
        check, outer_checks = self._shared_check(node.test), self.checks
        if check is not None:
            self.checks = outer_checks + (check,)
        outer_none = self.none_tested
        self.none_tested += self._none_test(node.test)
        memo = _keeps_what_it_makes(node, self.declared_global.get(id(self.scope.function_scope()), set()))
        self.on_unset += memo
        self._walk(node.body)
        self.on_unset -= memo
        self.none_tested = outer_none
        if node.orelse is not None:
            if typed is not None:
                self.guard = outer_guard + (typed,)
            self.platform_guards = outer_platforms + (PlatformGuard(node.test, self.scope, True),)
            self.debug_only = outer_debug or debugmode.only_when_false(node.test)
            self.needs = outer_needs + self._needs(node.test, False)
            if self.arms is not None:
                self.arms.append([])
            self._walk(node.orelse)
        self.checks = outer_checks
        if self.arms is not None:
            self._unconditional(self.arms)
        self.arms = outer_arms
        self.branches -= 1
        self.guard, self.platform_guards, self.debug_only, self.needs = outer_guard, outer_platforms, outer_debug, outer_needs
        return False

    def _unconditional(self, arms: List[List[cst.Call]]) -> None:
        """The calls of a callee that each arm makes outside any further branch are made on every
        call of the function: not conditional (websocket-client resolving a host either way)."""
        called = [{dotted(call.func) for call in arm} - {None} for arm in arms]
        for arm in arms:
            for call in arm:
                if all(dotted(call.func) in names for names in called):
                    self.flags[id(call)] = self.flags.get(id(call), NO_FLAGS) & ~CONDITIONAL

    def _needs(self, test: cst.BaseExpression, outcome: bool) -> _Conditions:
        """``test`` coming out as ``outcome``, with what that needs of ``self``'s attributes."""
        return (_Condition(test, self.scope, outcome, self._attribute_needs(test, outcome)),)

    def _attribute_needs(self, test: cst.BaseExpression, outcome: bool) -> attrtests.Needs:
        """What ``test`` coming out as ``outcome`` needs of ``self``'s attributes, in a method's own
        body, and of the function's parameters with a false default, in its own frame."""
        function = self.function
        if function is None or self.scope.function_scope() is not function.scope:
            return ()
        owner = _first_param(function.node) if function.bound else None
        # A fallback local counts in the method's own frame (not a comprehension's, whose target
        # may reuse its name), in statements after the one that binds it.
        fallbacks = {local: fallback for local, fallback in function.fallbacks.items()
                     if self.scope is function.scope and fallback.statement < self.position[0]}
        switches = function.switches if self.scope is function.scope else {}
        return attrtests.needs(test, owner, outcome, fallbacks, switches)

    def _iterated_needs(self, iterable: cst.BaseExpression) -> _Conditions:
        """What a loop over ``iterable`` needs of ``self``'s attributes to run its body at all."""
        if isinstance(iterable, cst.IfExp):
            for outcome, side in ((True, iterable.orelse), (False, iterable.body)):
                if attrtests.empty(side):
                    return self._needs(iterable.test, outcome)
        return ()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        """After ``if not loop.get_debug(): return``, the rest of the block runs in debug mode only;
        after ``if self.path is None: return``, only when ``self.path`` is set."""
        outer_debug, outer_needs, outer_guard = self.debug_only, self.needs, self.guard
        body = self.function is not None and node is self.function.node.body
        for index, statement in enumerate(node.body):
            if body and isinstance(statement, cst.SimpleStatementLine):
                self.straight = True
                for small, part in enumerate(statement.body):
                    self.position = (index, small)
                    self._walk(part)
                self.straight = False
            else:
                if body:
                    self.position = (index, 0)
                self._walk(statement)
            if isinstance(statement, cst.If) and statement.orelse is None and debugmode.exits(statement.body):
                if debugmode.only_when_false(statement.test):
                    self.debug_only = True
                self.needs += self._needs(statement.test, False)
                typed = self._isinstance_guard(statement.test)  # ``if isinstance(x, bytes): return ...``
                if typed is not None:
                    self.guard += (typed,)
        self.debug_only, self.needs, self.guard = outer_debug, outer_needs, outer_guard
        return False

    def visit_IfExp(self, node: cst.IfExp) -> bool:
        """``format_exc() if loop.get_debug() else None``: each side under the test, as an ``if``
        (walked in source order, which ``ordered`` keeps); each side runs on some calls only."""
        decided = pyversion.outcome(node.test)
        if decided is not None:  # the live side and the test, in source order
            self._visit_all((node.body, node.test) if decided else (node.test, node.orelse))
            return False
        outer_debug, outer_needs = self.debug_only, self.needs
        self.branches += 1
        self.debug_only = outer_debug or debugmode.only_when_true(node.test)
        self.needs = outer_needs + self._needs(node.test, True)
        self._walk(node.body)
        self.debug_only, self.needs = outer_debug, outer_needs
        self.branches -= 1
        self._walk(node.test)
        self.branches += 1
        self.debug_only = outer_debug or debugmode.only_when_false(node.test)
        self.needs = outer_needs + self._needs(node.test, False)
        self._walk(node.orelse)
        self.debug_only, self.needs = outer_debug, outer_needs
        self.branches -= 1
        return False

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool:
        """``DEBUG and dump()``: the right side runs only when the left one lets it."""
        self._walk(node.left)
        outer_debug, outer_needs = self.debug_only, self.needs
        decides = debugmode.only_when_true if isinstance(node.operator, cst.And) else debugmode.only_when_false
        self.debug_only = outer_debug or decides(node.left)
        self.needs = outer_needs + self._needs(node.left, isinstance(node.operator, cst.And))
        self._branch(node.right)
        self.debug_only, self.needs = outer_debug, outer_needs
        return False

    def _branch(self, *parts: Optional[cst.CSTNode]) -> None:
        """Code that runs on some calls of its function only."""
        self.branches += 1
        self._visit_all(part for part in parts if part is not None)
        self.branches -= 1

    def visit_MatchCase(self, node: cst.MatchCase) -> bool:
        self._walk(node.pattern)
        self._branch(node.guard, node.body)
        return False

    def _isinstance_guard(self, test: cst.BaseExpression) -> Optional[_TypeTest]:
        """``isinstance(param, T)`` (or its negation) on a parameter of the function being walked,
        in its own body, as it comes out false (the ``else`` side)."""
        found = _isinstance_test(test)
        if found is None or self.function is None or self.scope is not self.function.scope:
            return None
        name, types, negated = found
        position = _param_position(self.function.node.params, name, self.function.bound)
        return None if position is None else _TypeTest(position, name, types, negated, self.scope)

    def visit_Try(self, node: cst.Try) -> bool:
        catches = any(_catches_stop_iteration(handler) for handler in node.handlers)
        polls = any(_WOULD_BLOCK.intersection(_caught(handler)) for handler in node.handlers)
        self.stepping += catches
        self.polling += polls
        self._walk(node.body)
        self.stepping -= catches
        self.polling -= polls
        misses = _looks_up_a_cache(node)
        self.on_miss += misses
        self.handling += 1
        self._branch(*node.handlers)
        self.handling -= 1
        self.on_miss -= misses
        for part in (node.orelse, node.finalbody):
            if part is not None:
                self._walk(part)
        return False

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, UNKNOWN_SOURCE)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self.scope.function_scope().bind(identifier(node.target), Assigned(node.value, self.scope))

    def visit_Global(self, node: cst.Global) -> None:
        self._bind_unknown(node.names)
        self.declared_global.setdefault(id(self.scope), set()).update(identifier(item.name) for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self._bind_unknown(node.names)

    def _bind_unknown(self, names: Sequence[cst.NameItem]) -> None:
        for item in names:
            self.scope.bind(identifier(item.name), UNKNOWN_SOURCE)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.scope.bind(identifier(node.name), UNKNOWN_SOURCE)

    # -- calls ---------------------------------------------------------------------------------
    def visit_Expr(self, node: cst.Expr) -> None:
        self._mark(node.value, STATEMENT)

    def visit_Await(self, node: cst.Await) -> None:
        self._mark(node.expression, AWAITED)
        self._suspends()

    def visit_Return(self, node: cst.Return) -> None:
        if self.function is not None and self.scope.function_scope() is self.function.scope:
            self.function.returned.append((node.value, self.scope))

    def visit_Yield(self, node: cst.Yield) -> None:
        self._suspends()
        if self.function is not None and self.scope.function_scope() is self.function.scope:
            self.function.is_generator = True

    def visit_Call(self, node: cst.Call) -> None:
        self.not_accesses.add(id(node.func))
        self.environment_set.update(environ.written(node))
        if self.stepping and _sends(node):
            self.stepped.append(node)
        if isinstance(node.func, cst.Name) and node.func.value == "next" and len(node.args) == 1 \
                and not node.args[0].keyword and not node.args[0].star:
            self._mark(node.args[0].value, FIRST_ITEM)
        for arg in node.args:
            self._mark(arg.value, HANDED_ON)
            for value in _passed(arg.value):
                if isinstance(value, cst.Name):
                    self.name_arguments.append((identifier(value), self.scope, id(node)))
                else:
                    self.argument_of[id(value)] = id(node)
            if arg.keyword is not None or arg.star == "**":
                self._mark(node, KEYWORDS)
        self._in_context(node)
        if self.openers:
            receiver = [node.func.value] if isinstance(node.func, cst.Attribute) else []
            self._note_opened(node, receiver + [arg.value for arg in node.args if not arg.star])
        if isinstance(node.func, cst.Name) and node.func.value in _CONSUMERS and node.args and not node.args[0].star:
            self._mark(node.args[0].value, ITERATED)  # ``list(gen())`` runs the generator's body here
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _MUTATORS:
            self._mark_mutated(node.func.value)
            self._changes(node.func.value, node)
        if self.function is not None:
            self._record_call(node, len(self.ordered))
        else:
            self.module_calls.append((node, self.scope))
            if not self.branches and self.scope.function_scope().kind in ("module", "class"):
                self.import_time.add(id(node))  # not in a lambda, nor under an ``if``
        self.ordered.append(node)

    def _in_context(self, node: cst.Call) -> None:
        """Mark a call with what the code around it says of when it runs."""
        if self.loops:
            self._mark(node, IN_LOOP)
        if self.on_miss:
            self._mark(node, ON_MISS)
        if self.on_unset:
            self._mark(node, ON_UNSET)
        if self.handling:
            self._mark(node, IN_HANDLER)
        if self.branches:
            self._mark(node, CONDITIONAL)
            if self.branches == 1 and self.arms is not None:
                self.arms[-1].append(node)
        if self.platform_guards:
            self.call_platforms[id(node)] = self.platform_guards

    def _record_call(self, node: cst.Call, index: int) -> None:
        """Record a call of the function being walked, with the tests and blocks around it;
        ``index`` is where it is in ``ordered`` (its position)."""
        assert self.function is not None
        self._record(node, index)
        if self.position is not _NOWHERE and self.scope.function_scope() is self.function.scope:
            self.used_at[id(node)] = self.position
        if self.guard:
            self.guards[id(node)] = self.guard
        if self.needs:
            self.call_needs[id(node)] = self.needs
        if self.held:
            self.call_held[id(node)] = self.held
        if self.polling:
            self.polled.add(id(node))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # A read of ``obj.attr`` may run a property getter; the project resolver decides.
        # An assigned attribute is recorded too (as written, not read): thread-safety needs it.
        if self.function is not None and (id(node) not in self.not_accesses or id(node) in self.rebound):
            self._record(node, len(self.ordered))
        self.ordered.append(node)


def _rebound_under(collector: _Collector, resolver: Resolver, info: _FunctionInfo,
                   param: str) -> Optional[List[List[Guard]]]:
    """The ``isinstance`` tests around each assignment of a parameter (``filename = filename or
    guess(obj)`` in an ``else`` of ``isinstance(obj, bytes)``): [] when the body never rebinds it,
    None when it does elsewhere (or otherwise than by assignment, or under a test of unknown types)."""
    if _unchanged(info, param):
        return []
    tests = collector.binding_tests.get((id(info.scope), param), [])
    if param in info.augmented or len(tests) != len(info.scope.sources.get(param, ())) - 1:
        return None
    found = []
    for around in tests:
        guards = [Guard(-1, test.position, test.name, types, test.when)
                  for test in around for types in [_guard_types(resolver, test.types, test.scope)] if types]
        if not guards:
            return None
        found.append(guards)
    return found


def _defaults_to_none(params: cst.Parameters, name: str) -> bool:
    return any(identifier(param.name) == name and param.default is not None and is_none(param.default)
               for param in _all_params(params))


def _defaulted_in_place(collector: _Collector, info: _FunctionInfo, need: attrtests.Need) -> bool:
    """``if session is None: session = Session()``: a need that the parameter be None, on a
    parameter bound nowhere but in such bodies; what a call passes is what the test reads."""
    return need.falsy and need.none_only and (id(info.scope), need.attribute) not in collector.bound_outside_none_test


def _unchanged(info: _FunctionInfo, param: str) -> bool:
    """A parameter the function's body never rebinds: what the call passes is what a test reads."""
    return len(info.scope.sources.get(param, ())) == 1 and param not in info.augmented


def _environment_needs(conditions: _Conditions, environment: environ.Reader) -> attrtests.Needs:
    """What the tests around a call need of values read from the environment (``environ``)."""
    found: attrtests.Needs = ()
    for condition in conditions:
        scope = condition.scope

        def read(node: cst.BaseExpression, scope: Scope = scope) -> Optional[attrtests.Tested]:
            return environment.subject(node, scope)

        found += attrtests.read_needs(condition.test, condition.outcome, read)
    return found


def _truthy_needs(resolver: Resolver, info: _FunctionInfo) -> List[AttributeNeed]:
    """What a property's ``return <test>`` (its whole body) needs of ``self``'s attributes to be true."""
    body = info.node.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else ()
    line = statements[0] if len(statements) == 1 and isinstance(statements[0], cst.SimpleStatementLine) else None
    returned = line.body[0] if line is not None and len(line.body) == 1 else None
    if not isinstance(returned, cst.Return) or returned.value is None:
        return []
    found = []
    for need in attrtests.needs(returned.value, _first_param(info.node), True):
        tested = tuple(_guard_types(resolver, need.types, info.scope)) if need.types is not None else ()
        if need.subject is Subject.ATTRIBUTE and need.unless is None and (tested or need.types is None):
            found.append(AttributeNeed(-1, need.attribute, need.none_only, types=tested, instance=need.instance))
    return found


def _returns(resolver: Resolver, info: _FunctionInfo) -> str:
    """What calling the function gives: its return annotation, or else what every ``return`` agrees on."""
    if info.is_async or info.is_generator:
        return ""  # a coroutine or a generator, not the value written after ``return``
    annotation = info.node.returns
    if annotation is not None:
        value = resolver.annotation(annotation.annotation, info.scope.parent or info.scope)
    else:
        values = {resolver.value(node, scope) for node, scope in info.returned if node is not None and not is_none(node)}
        value = values.pop() if len(values) == 1 else None
    return value.name if value is not None else ""


def _returned_elements(resolver: Resolver, info: _FunctionInfo) -> Elements:
    """What iterating and indexing the function's result gives, from its return annotation."""
    annotation = info.node.returns
    if annotation is None or info.is_async or info.is_generator:
        return NO_ELEMENTS
    return resolver.elements([Annotated(annotation.annotation, info.scope.parent or info.scope)])


def _note_elements(elements: Dict[str, Elements], name: str, found: Elements) -> None:
    if found != NO_ELEMENTS:
        elements[name] = found


def _loop_method(node: cst.Call, catalog: Catalog) -> Optional[str]:
    """``loop.run_in_executor(...)`` on a receiver of unknown type: the method name is distinctive."""
    func = node.func
    if not isinstance(func, cst.Attribute):
        return None
    name = identifier(func.attr)
    if name in offload.LOOP_METHOD_NAMES or name in catalog.callback_method_names() or any(name == offload.method_name(w) for w in catalog.wrappers):
        return f"{offload.UNKNOWN}.{name}"
    return None


def _module_variable(collector: _Collector, resolver: Resolver, name: str, scope: Scope) -> Optional[str]:
    """The dotted name of the module-level variable ``name`` is in ``scope`` (``pkg.mod.CACHE``;
    imported: the name it was imported as, ``pkg.state.CACHE``); None for a local name, or a
    module-level function, class or module."""
    current: Optional[Scope] = scope
    while current is not None and current is not collector.module_scope:
        if name in collector.declared_global.get(id(current), ()):
            break
        if name in current.sources and (current.kind != "class" or current is scope):
            return None
        current = current.parent
    sources = collector.module_scope.sources.get(name)
    if not sources:
        return None
    if any(isinstance(source, (Assigned, Annotated)) for source in sources):
        return f"{collector.module_name}.{name}"
    value = resolver.lookup(name, collector.module_scope)
    if value is None or value.kind != "ref" or "." not in value.name:
        return None
    return value.name  # ``from pkg.state import CACHE``; a def or class never changes in place


def _passed(value: cst.BaseExpression) -> Iterator[Union[cst.Attribute, cst.Name]]:
    """Attributes and names whose objects an argument hands over as they are: ``self.x``,
    ``(self.x, y)``, ``CACHE``."""
    if isinstance(value, (cst.Attribute, cst.Name)):
        yield value
    elif isinstance(value, (cst.Tuple, cst.List, cst.Set)):
        for element in value.elements:
            yield from _passed(element.value)
    elif isinstance(value, cst.Dict):
        for entry in value.elements:
            if isinstance(entry, cst.DictElement):
                yield from _passed(entry.value)


def _sends(node: cst.Call) -> bool:
    """``x.send(value)``: one step of a generator or coroutine, when StopIteration ends it."""
    return isinstance(node.func, cst.Attribute) and node.func.attr.value == "send" and len(node.args) == 1


def _steps_coroutine(node: cst.CSTNode) -> bool:
    """``coro.send(None)``: a hand-written driver steps a coroutine (no event loop runs it), or
    a generator is started (``drivers`` tells them apart)."""
    return (isinstance(node, cst.Call) and _sends(node)
            and isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == "None")


def _catches_stop_iteration(handler: cst.ExceptHandler) -> bool:
    return "StopIteration" in _caught(handler)


def _caught(handler: cst.ExceptHandler) -> List[str]:
    """The exceptions a handler names, as written (``ssl.SSLWantReadError``)."""
    caught = handler.type
    names = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
    return [text for text in (dotted(name) for name in names if name is not None) if text]


def _keeps_what_it_makes(node: cst.If, kept: Set[str]) -> bool:
    """``if self._log is None: self._log = Logger(self)``: the body runs until it has bound what
    the test reads, an attribute or one of the ``kept`` names (the function's ``global`` ones); a
    local (``if session is None: session = Session()``) is made again on every call."""
    test = node.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 \
            or not isinstance(test.comparisons[0].operator, cst.Is) or not is_none(test.comparisons[0].comparator):
        return False
    tested = dotted(test.left)
    if tested is None or not (isinstance(test.left, cst.Attribute) or tested in kept):
        return False
    bound = _Bound()
    node.body.visit(bound)
    return tested in bound.names


class _Bound(cst.CSTVisitor):
    """The dotted names a block assigns, in nested blocks too (``with open(p) as f: x = load(f)``),
    not in functions or classes it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.names: Set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        self.names.update(name for name in (dotted(target.target) for target in node.targets) if name)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        name = dotted(node.target)
        if name:
            self.names.add(name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _looks_up_a_cache(node: cst.Try) -> bool:
    """``try: return cache[key]`` with an ``except KeyError:``: its handlers make what is missing."""
    body = node.body.body
    statement = body[0] if len(body) == 1 and isinstance(body[0], cst.SimpleStatementLine) else None
    returned = statement.body[0] if statement is not None and len(statement.body) == 1 else None
    return (isinstance(returned, cst.Return) and isinstance(returned.value, cst.Subscript)
            and any("KeyError" in _caught(handler) for handler in node.handlers))


_IMPORT_CALLS = frozenset({"__import__", "importlib.import_module"})


def _imported_already(node: cst.Call, loaded: Set[str]) -> bool:
    """``__import__("name")`` of a module the file imports at module level, or that is loaded
    before any code runs: the module is in ``sys.modules`` by then."""
    first = positional_argument(node, 0)
    name = first.evaluated_value if isinstance(first, cst.SimpleString) else None
    return isinstance(name, str) and (name in loaded or startup.already_loaded(name))


# What a sync ``with`` calls on what each item gives: ``__enter__()``, and ``__exit__(None, None,
# None)`` when the block ends without an exception.
_PROTOCOL: Tuple[Tuple[str, Tuple[cst.Arg, ...]], ...] = (
    ("__enter__", ()), ("__exit__", (cst.Arg(cst.Name("None")),) * 3))
# Builtins that iterate their first argument to the end (``next`` to its first item).
_CONSUMERS = frozenset({"list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "min", "max", "any", "all",
                        "next"})


# What a call on a non-blocking socket raises instead of waiting: a ``try`` that catches one
# of these around ``sock.recv()`` is the loop's own way of reading (anyio's, or a hand-written
# ``add_reader`` loop), not a wait.
_WOULD_BLOCK = frozenset({"BlockingIOError", "ssl.SSLWantReadError", "ssl.SSLWantWriteError", "SSLWantReadError",
                          "SSLWantWriteError"})
_SOCKETS = ("socket.socket.", "ssl.SSLSocket.")


def _handed_callbacks(call: cst.Call, slot: CallbackSlot) -> List[cst.BaseExpression]:
    """What a registration hands over as callbacks: the argument in ``slot`` (by keyword, or by
    position before any ``*args``), or each element of a list or tuple written there."""
    argument: Optional[cst.BaseExpression] = None
    for arg in call.args:
        if arg.keyword is not None and slot.keyword and identifier(arg.keyword) == slot.keyword:
            argument = arg.value
    if argument is None and slot.position is not None:
        known = list(itertools.takewhile(lambda arg: not arg.star and arg.keyword is None, call.args))
        argument = known[slot.position].value if slot.position < len(known) else None
    if isinstance(argument, (cst.List, cst.Tuple)):
        return [element.value for element in argument.elements if not isinstance(element, cst.StarredElement)]
    return [argument] if argument is not None else []


def _names_in(node: cst.CSTNode) -> List[str]:
    """Every name and attribute name written in an expression (``fcntl.LOCK_EX | fcntl.LOCK_NB``)."""
    found: List[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            found.append(identifier(current))
        elif isinstance(current, cst.Attribute):
            found.append(identifier(current.attr))
            stack.append(current.value)
        elif isinstance(current, (cst.BinaryOperation, cst.BooleanOperation)):
            stack.extend((current.left, current.right))
        elif isinstance(current, cst.UnaryOperation):
            stack.append(current.expression)
    return found


def _is_zero(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value == 0
    return False


def _arguments_say_nonblocking(node: cst.Call, target: str, resolver: Resolver, scope: Scope) -> bool:
    """The catalogue's argument condition for ``target`` says this call does not block:
    ``time.sleep(0)``, ``select.select(r, w, x, 0)``, ``json.load(io.StringIO(s))``,
    ``fcntl.flock(fd, LOCK_EX | LOCK_NB)``, ``zipfile.ZipFile(io.BytesIO(), "w")``."""
    condition = resolver.catalog.argument_condition(target)
    if condition is None:
        return False
    value = conditioned_argument(node, condition)
    if value is UNPACKED:
        return bool(condition.type)  # a type cannot be shown: silence
    if condition.not_zero and value is not None and _is_zero(value):
        return True
    if condition.unless and value is not None and (condition.unless in _names_in(value)
                                                   or string_literal(value) == condition.unless):
        return True
    if condition.type:
        found = resolver.value(value, scope) if value is not None else None
        return found is None or found.kind != "inst" or resolver.catalog.canonical(found.name) != condition.type
    if condition.path:
        return value is None or not _names_a_file(value, resolver, scope)
    if condition.in_memory:
        return value is not None and resolver.in_memory(value, scope)
    return False


def _memory_attribute(node: cst.Call, target: str, resolver: Resolver, scope: Scope) -> str:
    """``x`` when the argument an ``in-memory`` condition looks at is ``self.x`` in a method
    (``gzip.GzipFile(fileobj=self.buffer)``): the class's binding of it decides (``CallRecord``)."""
    condition = resolver.catalog.argument_condition(target)
    value = conditioned_argument(node, condition) if condition is not None and condition.in_memory else None
    if isinstance(value, cst.Attribute) and _on_self(resolver, value, scope):
        return identifier(value.attr)
    return ""


# What a ``path`` argument condition takes for a file: a path, or an open file object. An
# in-memory buffer (``io.BytesIO``), a list of lines or anything unknown is not.
_PATH_TYPES = frozenset({"str", "pathlib.Path", "pathlib.PurePath", "os.PathLike", "io.IOBase"})


def _names_a_file(node: cst.BaseExpression, resolver: Resolver, scope: Scope) -> bool:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return not (isinstance(node, cst.SimpleString) and "b" in node.prefix.lower())  # bytes are data
    found = resolver.value(node, scope)
    if found is None or found.kind != "inst":
        return False
    name = resolver.catalog.canonical(found.name)
    return name in _PATH_TYPES or name.startswith("os.path.")


def _iteration_target(resolver: Resolver, node: cst.For, scope: Scope) -> Optional[str]:
    """``for x in f``: ``<type of f>.__iter__`` when the catalogue says iterating that type blocks."""
    value = resolver.value(node.iter, scope)
    if value is None or value[0] != "inst":
        return None
    target = f"{value[1]}.__iter__"
    return target if resolver.catalog.match(target) is not None else None


def _header_span(span: Tuple[int, int, int, int], lines: List[str]) -> Tuple[int, int, int, int]:
    """A statement's span cut to its first line."""
    row, col = span[0], span[1]
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    return row, col, row, max(col, len(line.rstrip()) + 1)


def _statement_text(node: Union[cst.For, cst.Import, cst.ImportFrom], tree: cst.Module) -> str:
    """How a statement record is shown: ``for ... in f``, ``import a.b``, ``from a import b``."""
    if isinstance(node, cst.For):
        return f"for ... in {dotted(node.iter) or tree.code_for_node(node.iter)}"
    if isinstance(node, cst.Import):
        return "import " + ", ".join(dotted(alias.name) or "?" for alias in node.names)
    if isinstance(node, cst.ImportFrom):
        module = dotted(node.module) if node.module is not None else ""
        names = "*" if isinstance(node.names, cst.ImportStar) else ", ".join(
            dotted(alias.name) or "?" for alias in node.names)
        return f"from {'.' * len(node.relative)}{module} import {names}"
    return tree.code_for_node(node)


# Nodes whose code is their ``value`` when they have no parentheses.
_TOKENS = frozenset({cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString})


def _plain_code(node: cst.CSTNode) -> Optional[str]:
    """The code of a name, number or string, or of a name's attributes (``self.a.b``), written
    without parentheses or spaces: what ``Module.code_for_node`` gives, without its code
    generation (arguments are mostly such). None for anything else."""
    kind = type(node)
    if kind in _TOKENS:
        return None if node.lpar else node.value  # type: ignore[attr-defined]  # one of _TOKENS
    if kind is not cst.Attribute:
        return None
    attribute = cast(cst.Attribute, node)
    dot = attribute.dot
    if attribute.lpar or type(dot) is not cst.Dot or not _no_space(dot.whitespace_before) \
            or not _no_space(dot.whitespace_after) or attribute.attr.lpar:
        return None
    value = _plain_code(attribute.value)
    return None if value is None else f"{value}.{attribute.attr.value}"


def _no_space(whitespace: cst.BaseParenthesizableWhitespace) -> bool:
    return type(whitespace) is cst.SimpleWhitespace and not whitespace.value


def _arguments(tree: cst.Module, node: cst.Call) -> str:
    """``node``'s arguments as written, on one line: what a rewrite keeps."""
    if not node.args:
        return ""
    parts: List[str] = []
    size = 0
    for arg in node.args:
        keyword = f"{arg.keyword.value}=" if arg.keyword is not None else ""
        code = _plain_code(arg.value)
        part = one_line(f"{arg.star}{keyword}{tree.code_for_node(arg.value) if code is None else code}")
        size += len(part) + 2
        if size > _MAX_ARGS + 2:  # whole arguments only: a cut inside a string would not read as code
            parts.append("…")
            break
        parts.append(part)
    return ", ".join(parts)


# What a ``with`` item may hold that other coroutines use: an existing object (``with
# self._lock:``, ``with cond:``), or process-wide state a call changes until the block ends (a
# redirected stdout, a patched class, a frozen clock). A call that makes its own object (a
# file, a client, ``pytest.raises``) holds nothing they use.
_PROCESS_WIDE = frozenset({
    "contextlib.redirect_stdout", "contextlib.redirect_stderr", "contextlib.chdir", "warnings.catch_warnings",
    "decimal.localcontext", "numpy.errstate", "freezegun.freeze_time", "time_machine.travel",
    "pytest.MonkeyPatch.context",
})
_PATCHES = ("unittest.mock.patch", "mock.patch")
_PATCH_OBJECTS = ("unittest.mock.patch.object", "mock.patch.object")


def _clipped(text: str) -> str:
    """Code as a message shows it: at most ``_MAX_TEXT`` characters."""
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _held(items: Tuple[Tuple[cst.BaseExpression, Scope], ...], resolver: Resolver, tree: cst.Module) -> str:
    """The first ``with`` item of ``items`` that may hold what other coroutines use, on one line."""
    for item, scope in items:
        if isinstance(item, cst.Call):
            name = resolver.callee(item, scope) or ""
            if name not in _PROCESS_WIDE and not name.startswith(_PATCHES):
                continue
        text = one_line(dotted(item) or _plain_code(item) or tree.code_for_node(item))
        return _clipped(text)
    return ""


def _patched(items: Iterable[Tuple[cst.BaseExpression, Scope]], resolver: Resolver) -> Tuple[str, ...]:
    """What the ``mock.patch`` calls among ``items`` replace, by dotted name: ``patch("time.sleep")``,
    ``patch.object(time, "sleep")``."""
    found: List[str] = []
    for item, scope in items:
        if not isinstance(item, cst.Call) or not item.args:
            continue
        name = resolver.callee(item, scope) or ""
        first = item.args[0].value
        target = string_literal(first)
        if name in _PATCHES and target is not None:
            found.append(resolver.catalog.canonical(target))
        elif name in _PATCH_OBJECTS and len(item.args) >= 2:
            owner, attribute = resolver.value(first, scope), string_literal(item.args[1].value)
            if owner is not None and owner.kind == "ref" and attribute is not None:
                found.append(resolver.catalog.canonical(f"{owner.name}.{attribute}"))
    return tuple(found)


def _place(guards: PlatformGuards, resolver: Resolver) -> str:
    """Where code under these ``if`` tests runs, when they test the platform."""
    found: Optional[platforms.Platforms] = None
    for test, scope, in_else in guards:
        evaluate = lambda node, scope=scope: resolver.value(node, scope)  # noqa: E731
        here = (platforms.else_platforms if in_else else platforms.body_platforms)(test, evaluate)
        if here is None:
            continue
        found = here if found is None else found.both(here)
        if found is None:
            return ""  # contradicting tests: say nothing rather than something wrong
    return found.phrase() if found is not None else ""


def _catches_all(node: cst.FunctionDef) -> bool:
    """The body is one ``try`` (after a docstring) whose handler catches every exception
    (bare, ``BaseException`` or ``Exception``) and never raises: calls of it end normally."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    statements = list(body)
    if statements and isinstance(statements[0], cst.SimpleStatementLine) and len(statements[0].body) == 1 \
            and isinstance(statements[0].body[0], cst.Expr) and isinstance(statements[0].body[0].value, cst.SimpleString):
        statements = statements[1:]
    if len(statements) != 1 or not isinstance(statements[0], cst.Try):
        return False
    statement = statements[0]
    if statement.orelse is not None or statement.finalbody is not None:
        return False  # an exception raised in ``else`` or ``finally`` escapes
    every = any(handler.type is None or (isinstance(handler.type, cst.Name)
                                         and handler.type.value in ("BaseException", "Exception"))
                for handler in statement.handlers)
    return every and not any(_raises(handler.body) for handler in statement.handlers)


def _raises(node: cst.CSTNode) -> bool:
    """A ``raise`` statement in ``node``, outside nested functions and classes."""
    if isinstance(node, cst.Raise):
        return True
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    return any(_raises(child) for child in node.children)


def _flatten(target: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [leaf for element in target.elements for leaf in _flatten(element.value)]
    return [target]


def _mark_loop_usage(entry: _Pending, entries: Dict[int, _Pending], resolver: Resolver, catalog: Catalog,
                     callbacks: List[Tuple[_Pending, str, str]], info: _FunctionInfo, handed_to: Dict[int, str]) -> None:
    """Facts the BLK3xx rules need: what an offload API is handed, callbacks, fan-out."""
    node, target = entry.node, entry.target
    if not isinstance(node, cst.Call):
        return
    index = offload.offloaded_argument(target, catalog.wrappers)
    if index is not None:
        handed = positional_argument(node, index)
        for arg in node.args:
            if arg.value is not handed and id(arg.value) in entries:
                entries[id(arg.value)].flags |= THREAD_ARG  # made here, used by the thread
        if isinstance(handed, cst.Call) and id(handed) in entries:
            entries[id(handed)].flags |= OFFLOAD_ARG  # the call runs here, on the loop
        elif handed is not None:
            scope = next(scope for n, scope, _ in info.calls if n is node)
            value = resolver.value(handed, scope)
            if value is not None and value.kind == "ref":
                handed_to[id(node)] = value.name
        return
    registered = catalog.callback_argument(target)
    if registered is not None:
        slot, framework = registered
        scope = next(scope for n, scope, _ in info.calls if n is node)
        for callback in _handed_callbacks(node, slot):
            value = resolver.value(callback, scope)
            if value is not None and value.kind == "ref":
                callbacks.append((entry, value.name, framework))
        return
    if target in offload.GATHER:
        for arg in node.args:
            element = getattr(arg.value, "elt", None) if arg.star == "*" else None
            if isinstance(element, cst.Await):
                element = element.expression
            if isinstance(element, cst.Call) and id(element) in entries and \
                    offload.offloaded_argument(entries[id(element)].target, catalog.wrappers) is not None:
                entry.flags |= FAN_OUT


def _mark_shut_down_executors(entries: Dict[int, _Pending], assigned: Dict[int, str]) -> None:
    """``pool = ThreadPoolExecutor(); ...; pool.shutdown()``: the executor is managed here."""
    shut = {dotted(e.node.func) for e in entries.values() if isinstance(e.node, cst.Call) and e.target.endswith(".shutdown")}
    for entry in entries.values():
        name = assigned.get(id(entry.node))
        if entry.target in offload.EXECUTORS and name and f"{name}.shutdown" in shut:
            entry.flags |= STORED


def _access_target(resolver: Resolver, node: cst.Attribute, scope: Scope) -> Optional[str]:
    """``obj.attr`` on an instance of a non-catalogue type: a possible property getter. On an
    attribute of ``self`` (``self.db.size``), the path through the class (``pkg.Cog.db.size``),
    which the project resolves once it knows what its methods assign to ``self.db``."""
    base = resolver.value(node.value, scope)
    if base is not None and base.kind == "ref" and _on_self(resolver, node.value, scope):
        return f"{base.name}.{identifier(node.attr)}"
    if base is None or base.kind != "inst" or resolver.catalog.attribute_type(base.name, identifier(node.attr)):
        return None
    return f"{base.name}.{identifier(node.attr)}"


def _on_self(resolver: Resolver, node: cst.BaseExpression, scope: Scope) -> bool:
    """``self.x`` in a method: an attribute of an instance of the method's own class."""
    owner = scope.function_scope().class_qualname
    if not owner or not isinstance(node, cst.Attribute) or not isinstance(node.value, cst.Name):
        return False
    found = resolver.value(node.value, scope)
    return found is not None and found.kind == "inst" and found.name == owner


def _params_in_source_order(params: cst.Parameters) -> List[cst.Param]:
    found = list(params.posonly_params) + list(params.params)
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    found += list(params.kwonly_params)
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def _all_params(params: cst.Parameters) -> List[cst.Param]:
    found = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found


def _init_param(params: cst.Parameters, name: str) -> Optional[Tuple[int, cst.Param]]:
    """Parameter ``name`` of a method, not ``*args`` / ``**kwargs``: (its position after ``self``,
    or -1 if keyword-only; it)."""
    positional = list(params.posonly_params) + list(params.params)
    for index, param in enumerate(positional[1:]):
        if identifier(param.name) == name:
            return index, param
    for param in params.kwonly_params:
        if identifier(param.name) == name:
            return -1, param
    return None


_LITERAL_TYPES: Dict[type, str] = {
    cst.Dict: "dict", cst.DictComp: "dict", cst.List: "list", cst.ListComp: "list", cst.Set: "set",
    cst.SetComp: "set", cst.Tuple: "tuple", cst.Integer: "int", cst.Float: "float", cst.FormattedString: "str",
}


# A name bound as ``x: Dict[str, Any] = ...`` holds a dict.
_TYPING_ALIASES = {"typing.Dict": "dict", "typing.List": "list", "typing.Tuple": "tuple", "typing.Set": "set"}


def _literal_type(node: cst.BaseExpression) -> str:
    """The type of a literal or a display (``{}``: ``dict``, ``"x"``: ``str``); "" for anything else."""
    if isinstance(node, cst.SimpleString):
        return "bytes" if "b" in node.prefix.lower() else "str"
    return _LITERAL_TYPES.get(type(node), "")


def _default_type(resolver: Resolver, param: cst.Param, scope: Scope) -> str:
    """The type of a parameter's default: a literal's, ``NoneType``, or a class's instance."""
    if param.default is None:
        return ""
    if is_none(param.default):
        return NONE_TYPE
    value = None if _literal_type(param.default) else resolver.value(param.default, scope)
    name = value.name if value is not None and value.kind == "inst" else ""
    return _literal_type(param.default) or _TYPING_ALIASES.get(name, name)


_FILE_METHODS = ("io.IOBase.",)


def _received_param(node: cst.CSTNode, info: "_FunctionInfo") -> Optional[Tuple[int, str]]:
    """``param.method(...)``: the parameter's (position among a call's arguments, name)."""
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute) or not isinstance(node.func.value, cst.Name):
        return None
    name = identifier(node.func.value)
    position = _param_position(info.node.params, name, info.bound)
    return (position, name) if position is not None else None  # never ``self``: it is not an argument


# Decorators that run the function in a worker thread when it is called.
_OFFLOADING_DECORATORS = frozenset({"sync_to_async", "run_in_executor", "to_thread", "run_in_thread", "threaded",
                                    "asyncify", "run_sync", "in_executor", "in_thread"})


def _offloads(decorator: cst.Decorator) -> bool:
    """``@sync_to_async`` and friends, or ``@work(thread=True)``."""
    if _decorator_name(decorator).rsplit(".", 1)[-1] in _OFFLOADING_DECORATORS:
        return True
    call = decorator.decorator
    return isinstance(call, cst.Call) and any(
        arg.keyword is not None and arg.keyword.value == "thread" and isinstance(arg.value, cst.Name)
        and arg.value.value == "True" for arg in call.args)


def _isinstance_test(test: cst.BaseExpression) -> Optional[Tuple[str, cst.BaseExpression, bool]]:
    """``isinstance(name, T)`` or ``not isinstance(name, T)``: (name, T, negated)."""
    negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
    call = test.expression if isinstance(test, cst.UnaryOperation) and negated else test
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Name) or call.func.value != "isinstance":
        return None
    if len(call.args) != 2 or any(arg.keyword or arg.star for arg in call.args) or not isinstance(call.args[0].value, cst.Name):
        return None
    return identifier(call.args[0].value), call.args[1].value, negated


def _param_position(params: cst.Parameters, name: str, bound: bool) -> Optional[int]:
    """The position of parameter ``name`` among the arguments a call passes (-1: keyword-only)."""
    positional = list(params.posonly_params) + list(params.params)
    for index, param in enumerate(positional[1:] if bound else positional):
        if identifier(param.name) == name:
            return index
    return -1 if any(identifier(param.name) == name for param in params.kwonly_params) else None


def _guard_types(resolver: Resolver, node: cst.BaseExpression, scope: Scope) -> List[str]:
    """The classes an ``isinstance`` test names (``T``, ``(A, B)``, ``A | B``); empty when one
    of them is unknown."""
    elements = [e.value for e in node.elements] if isinstance(node, cst.Tuple) else [node]
    values = [resolver.value(side, scope) for element in elements for side in _alternatives(element)]
    names = [value.name for value in values if value is not None and value.kind == "ref"]
    return names if len(names) == len(values) else []


def _alternatives(node: cst.BaseExpression) -> List[cst.BaseExpression]:
    """``A | B | C``: [A, B, C]."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _alternatives(node.left) + _alternatives(node.right)
    return [node]


def _construction(resolver: Resolver, node: cst.Call, scope: Scope, target: Optional[str],
                  in_async: bool = False, in_function: bool = False) -> Optional[Construction]:
    """What a call passes, when it may construct a project class (``_constructs``, or ``cls``),
    call a helper from a coroutine (its ``isinstance`` tests may decide what the helper runs), or
    hand a function to a callee in a function (the callee may call it there and then). A
    construction without arguments is recorded too: it leaves every parameter at its default."""
    if not target or resolver.catalog.match(target):
        return None
    if not node.args and not _constructs(target):
        return None
    found = Construction(target)
    for arg in node.args:
        if arg.star:
            found.complete = False
            continue
        literal = NONE if is_none(arg.value) else TRUE if is_true(arg.value) else FALSE if is_false(arg.value) \
            else _literal_type(arg.value) or None
        value = resolver.value(arg.value, scope) if literal is None else None
        text = literal or (value.name if value is not None else "")
        is_ref = value is not None and value.kind == "ref"
        if arg.keyword is not None:
            found.keywords[identifier(arg.keyword)] = text
            if is_ref:
                found.ref_keywords.append(identifier(arg.keyword))
        else:
            if is_ref:
                found.ref_args.append(len(found.args))
            found.args.append(text)
    if in_async or _constructs(target):
        return found
    # A reference the callee may call; ``True`` or ``False`` for a switch the callee tests (``attrtests``).
    passes = found.ref_args or found.ref_keywords or any(
        switch in found.args or switch in found.keywords.values() for switch in (TRUE, FALSE))
    return found if in_function and passes else None


def _forwards(resolver: Resolver, node: cst.Call, scope: Scope, info: "_FunctionInfo",
              spread: Optional[Spread]) -> List[Forward]:
    """The arguments of ``node`` that are parameters of the function, passed on as they are (a
    parameter bound nowhere else); none when ``*args``, or ``**kwargs`` other than the function's
    own passed on as it came (``spread``), hide where they go."""
    if spread is None and any(arg.star for arg in node.args):
        return []
    through_name = False
    if isinstance(node.func, cst.Attribute):
        receiver = resolver.value(node.func.value, scope)
        through_name = receiver is None or receiver.kind == "ref" and not receiver.name.endswith(".<super>")
    found = []
    positional, keywords = _passes(node)
    for index, arg in enumerate(node.args):
        if arg.star or not isinstance(arg.value, cst.Name):
            continue
        name = identifier(arg.value)
        if binding_scope(name, scope) is not info.scope or len(info.scope.sources.get(name, ())) != 1:
            continue
        position = _param_position(info.node.params, name, info.bound)
        if position is not None:
            keyword = identifier(arg.keyword) if arg.keyword is not None else ""
            default = next((param.default for param in _all_params(info.node.params) if identifier(param.name) == name), None)
            found.append(Forward(0, -1 if keyword else index, keyword, Given(name, position), through_name,
                                 NONE if default is not None and is_none(default) else "", positional, keywords))
    return found


def _made_here(resolver: Resolver, node: cst.Call, scope: Scope, info: "_FunctionInfo",
               only_methods: Dict[Tuple[int, str], bool]) -> str:
    """``CallRecord.made_by`` of ``node``: the call that made its receiver, a local bound once by
    an assignment and used only to call its methods; "" for any other call."""
    if not isinstance(node.func, cst.Attribute) or not isinstance(node.func.value, cst.Name):
        return ""
    name = identifier(node.func.value)
    sources = info.scope.sources.get(name, ())
    if binding_scope(name, scope) is not info.scope or len(sources) != 1:
        return ""
    source = sources[0]
    if not isinstance(source, Assigned) or not isinstance(source.node, cst.Call):
        return ""
    key = (id(info.node), name)
    if key not in only_methods:
        only_methods[key] = _occurrences(info.node.body, name) <= {"receiver", "assigned"}
    return (resolver.callee(source.node, source.scope) or "") if only_methods[key] else ""


class _Occurrences(cst.CSTVisitor):
    """How a name occurs in a function's body: as the value of a ``**`` argument ("spread"), the
    object of a method call ("receiver"), the target of ``name = ...`` ("assigned"), or anywhere
    else ("other"). An attribute named like it (``other.name``) is not it."""

    def __init__(self, name: str):
        self.name = name
        self.kinds: Set[str] = set()
        self._placed: Dict[int, str] = {}  # id(Name node) -> its kind, set by the node around it

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.star == "**":
            self._placed[id(node.value)] = "spread"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute):
            self._placed[id(node.func.value)] = "receiver"

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._placed[id(node.target)] = "assigned"

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.kinds.add(self._placed.get(id(node), "other"))


def _occurrences(body: cst.BaseSuite, name: str) -> Set[str]:
    found = _Occurrences(name)
    body.visit(found)
    return found.kinds


def _passes(node: cst.Call) -> Tuple[int, Tuple[str, ...]]:
    """What a call passes besides ``*`` and ``**`` arguments: how many by position, and the keywords."""
    return (sum(arg.keyword is None and not arg.star for arg in node.args),
            tuple(identifier(arg.keyword) for arg in node.args if arg.keyword is not None))


def _spread(node: cst.Call, scope: Scope, info: "_FunctionInfo") -> Optional[Spread]:
    """``node`` passing on the function's own ``**`` parameter as it came: its only star argument,
    and a name the function neither binds again nor reads anywhere else (no ``settings.pop(...)``
    or ``settings["x"] = ...`` changes what goes on)."""
    stars = [arg for arg in node.args if arg.star]
    kwargs = info.node.params.star_kwarg
    if len(stars) != 1 or stars[0].star != "**" or not isinstance(kwargs, cst.Param) \
            or not isinstance(stars[0].value, cst.Name):
        return None
    name = identifier(kwargs.name)
    if identifier(stars[0].value) != name or binding_scope(name, scope) is not info.scope \
            or len(info.scope.sources.get(name, ())) != 1:
        return None
    if _occurrences(info.node.body, name) != {"spread"}:
        return None
    params = tuple(identifier(param.name) for param in _all_params(info.node.params)
                   if param is not kwargs and param is not info.node.params.star_arg)
    return Spread(0, params, *_passes(node))


def _constructs(target: str) -> bool:
    """A call that may construct a class: a capitalised name (``Screen``, ``_Loader``), or a base's
    constructor run on the instance being built (``super().__init__()``)."""
    return target.rsplit(".", 1)[-1].lstrip("_")[:1].isupper() or target.endswith(".<super>.__init__")


def _param_called(node: cst.Call, scope: Scope, info: "_FunctionInfo") -> Optional[Tuple[int, str]]:
    """``callback(data)`` on a parameter of the function, bound nowhere else: the parameter's
    (position among a call's arguments, name)."""
    if not isinstance(node.func, cst.Name):
        return None
    name = identifier(node.func)
    if binding_scope(name, scope) is not info.scope or len(info.scope.sources.get(name, ())) != 1:
        return None
    position = _param_position(info.node.params, name, info.bound)
    return (position, name) if position is not None else None


def _base(resolver: Resolver, node: cst.BaseExpression, scope: Scope) -> Value:
    """A class's base: ``Generic[T]`` is ``typing.Generic`` (it adds no attributes of its own)."""
    if isinstance(node, cst.Subscript):
        generic = resolver.value(node.value, scope)
        return generic if generic == _GENERIC else None
    return resolver.value(node, scope)


def _first_param(node: cst.FunctionDef) -> Optional[str]:
    params = list(node.params.posonly_params) + list(node.params.params)
    return identifier(params[0].name) if params else None


def _resolved_decorators(resolver: Resolver, info: _FunctionInfo) -> Tuple[str, ...]:
    """What each decorator names (``@callback`` -> ``homeassistant.core.callback``), when known."""
    names = []
    for decorator in info.node.decorators:
        target = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        value = resolver.value(target, info.outer)
        if value is not None and value[0] == "ref":
            names.append(resolver.catalog.canonical(value[1]))
    return tuple(names)


def _decorator_name(decorator: cst.Decorator) -> str:
    target = decorator.decorator
    if isinstance(target, cst.Call):
        target = target.func
    return dotted(target) or ""


def module_name_for(path: str) -> Tuple[str, bool]:
    """Fallback module name for a lone file: its stem (``pkg/__init__.py`` -> ``pkg``)."""
    from pathlib import PurePath

    pure = PurePath(path)
    if pure.name == "__init__.py":
        return pure.parent.name or "__init__", True
    return pure.stem, False


def summarize(
    source: bytes,
    path: str,
    catalog: Catalog,
    module_name: Optional[str] = None,
    is_package: Optional[bool] = None,
) -> ModuleSummary:
    """Analyse one file's bytes. Never raises for bad input: diagnostics say what went wrong."""
    if module_name is None or is_package is None:
        module_name, is_package = module_name_for(path)
    summary = ModuleSummary(path=path, module=module_name)
    screened = screen.screen(source, path)
    if screened.problem is not None:
        summary.diagnostics = [screened.problem]
        return summary
    data = literals.blank_data(source, screened.index.displays if screened.index is not None else None)
    parsed = diagnostics.parse(data, path, screened.syntax_error)
    if isinstance(parsed, list):
        summary.diagnostics = parsed
        return summary
    tree, text = parsed
    if data is not source:
        text = source.decode("utf-8")  # comments and columns as written (blanking is UTF-8 only)
    # CPython's tree locates the strings on a line that mentions a directive (row 1 after a BOM:
    # columns would not agree, every comment is tokenized instead).
    located_strings = screened.tree if not text.startswith("\ufeff") else None
    summary.noqa = parse_noqa(text, located_strings)
    summary.skip_file = has_skip_file(text, located_strings)
    try:
        _fill(summary, screened.index.located if screened.index is not None else None, text, tree, catalog,
              module_name, is_package)
    except RecursionError:
        summary.functions, summary.classes, summary.bindings = [], {}, {}
        summary.diagnostics = [diagnostics.too_deep(path)]
    return summary


def _fill(summary: ModuleSummary, located: Optional[List[Located]], text: str, tree: cst.Module, catalog: Catalog,
          module_name: str, is_package: bool) -> None:
    collector = _Collector(module_name, is_package)
    collector._walk(tree)
    order = receivers.Order(collector.bound_at, collector.used_at)
    resolver = Resolver(catalog, tree)

    pending: List[_Pending] = []
    passed: Dict[int, Construction] = {}  # id(call in a function) -> what it passes
    param_of: Dict[int, Tuple[int, str]] = {}  # id(call of a parameter) -> the parameter (position, name)
    forwarded: Dict[int, List[Forward]] = {}  # id(call in a sync function) -> the parameters it passes on
    spreads: Dict[int, Spread] = {}  # id(call in a sync function) -> the ``**`` parameter it passes on
    infos: Dict[int, _FunctionInfo] = {}  # id(FunctionSummary) -> what the walk collected
    details: Dict[int, str] = {}  # id(import statement) -> the modules it loads
    callbacks: List[Tuple[_Pending, str, str]] = []  # (registration, callback target, framework)
    handed: Dict[int, str] = {}  # id(offload call) -> the function it hands to the thread
    memory_attributes: Dict[int, str] = {}  # id(call) -> ``CallRecord.memory_attribute``
    made_by: Dict[int, str] = {}  # id(call) -> ``CallRecord.made_by``
    only_methods: Dict[Tuple[int, str], bool] = {}  # (id(function node), local) -> used only to call methods
    # What the module-level imports load: the modules, and the packages importing them runs first.
    loaded_here = {package for name in collector.module_imports for package in packages(name)}
    for info in collector.functions:
        function = FunctionSummary(
            qualname=info.scope.qualname,
            is_async=info.is_async,
            is_generator=info.is_generator,
            is_property=info.is_property,
            returns=_returns(resolver, info),
            elements=_returned_elements(resolver, info),
            decorated=info.decorated,
            offloaded=info.offloaded,
            decorators=_resolved_decorators(resolver, info),
            catches_all=_catches_all(info.node),
            locks=[text for text in (dotted(item) for item in info.with_items) if text],
        )
        if info.is_property:
            function.truthy = _truthy_needs(resolver, info)
        infos[id(function)] = info
        summary.functions.append(function)
        entries: Dict[int, _Pending] = {}
        for node, scope, index in info.calls:
            if isinstance(node, cst.Call):
                target = (resolver.callee(node, scope) or receivers.method(resolver, node, scope, order)
                          or _loop_method(node, catalog))
                flags = collector.flags.get(id(node), NO_FLAGS)
                construction = _construction(resolver, node, scope, target, info.is_async, in_function=True)
                if construction is not None:
                    summary.constructions.append(construction)
                    passed[id(node)] = construction
                if not info.is_async and target is not None:
                    spread = _spread(node, scope, info)
                    forwarded[id(node)] = _forwards(resolver, node, scope, info, spread)
                    if spread is not None:
                        spreads[id(node)] = spread
                param = _param_called(node, scope, info) if target is None else None
                if param is not None and id(node) not in collector.in_debug:
                    param_of[id(node)] = param
                    pending.append(_Pending(function, node, index, param[1], flags))
                    continue
            elif isinstance(node, cst.For):
                target = _iteration_target(resolver, node, scope)
                flags = ITERATED | STATEMENT_FORM
            elif isinstance(node, (cst.Import, cst.ImportFrom)):
                modules = collector.imports[id(node)]
                fresh = [m for m in modules if not startup.already_loaded(m) and m not in loaded_here]
                target = IMPORT if fresh else None
                flags = STATEMENT_FORM
                details[id(node)] = ",".join(fresh)
            else:
                target = _access_target(resolver, node, scope)
                flags = ACCESS
                if id(node) in collector.rebound:
                    flags |= ASSIGNS
                elif id(node) in collector.mutated:
                    flags |= MUTATES
                if collector.argument_of.get(id(node)) in entries:  # the call it goes to is recorded
                    flags |= ARGUMENT
            if target is None or ("." not in target and catalog.match(target) is None):
                continue  # unknown, or a builtin such as len() that never blocks
            if id(node) in collector.in_debug:
                continue  # runs in debug mode only: it does not block the loop in normal operation
            if isinstance(node, cst.Call) and _arguments_say_nonblocking(node, target, resolver, scope):
                continue  # ``time.sleep(0)`` only yields the thread; a zero timeout polls
            if isinstance(node, cst.Call):
                memory = _memory_attribute(node, target, resolver, scope)
                if memory:
                    memory_attributes[id(node)] = memory
                if info.is_async:
                    made = _made_here(resolver, node, scope, info, only_methods)
                    if made:
                        made_by[id(node)] = made
            if id(node) in collector.polled and target.startswith(_SOCKETS):
                continue  # a non-blocking socket: it raises BlockingIOError rather than wait
            if isinstance(node, cst.Call) and target in _IMPORT_CALLS and _imported_already(node, loaded_here):
                continue  # ``__import__("config")`` in a file that imports config: a sys.modules look-up
            if id(node) in collector.suspending:
                flags |= SUSPENDS
            if id(node) in collector.conditional:
                flags |= CONDITIONAL
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                    and _on_self(resolver, node.func, scope):
                flags |= ON_SELF
            entry = _Pending(function, node, index, target, flags)
            pending.append(entry)
            entries[id(node)] = entry
        for entry in list(entries.values()):
            _mark_loop_usage(entry, entries, resolver, catalog, callbacks, info, handed)
        _mark_shut_down_executors(entries, collector.assigned)

    summary.libraries = frozenset(collector.libraries)
    summary.imports = frozenset(collector.module_imports)
    runs = {offload.loop_runner(entry.target) for entry in pending}
    warmed = set()
    called = set()
    for node, scope in collector.module_calls:
        module_target = resolver.callee(node, scope)
        runs.add(offload.loop_runner(module_target or _loop_method(node, catalog) or ""))
        if module_target in catalog.warm_ups and id(node) in collector.import_time:
            warmed.add(module_target)
        if module_target and id(node) in collector.import_time:
            called.add(module_target)
        construction = _construction(resolver, node, scope, module_target)
        if construction is not None:
            summary.constructions.append(construction)
    sends = [node for info in collector.functions for node, _, _ in info.calls
             if isinstance(node, cst.Call) and _steps_coroutine(node)]
    sends += [node for node, _ in collector.module_calls if _steps_coroutine(node)]
    generators = frozenset(identifier(info.node.name) for info in collector.functions
                           if info.is_generator and not info.is_async)
    if drivers.steps_coroutines(tree, sends + collector.stepped, generators):
        runs.add(flavour.DRIVER)
    summary.runs = frozenset(r for r in runs if r)
    summary.warmed = frozenset(warmed)
    summary.called_at_import = frozenset(called)
    rebound = {name for name, _, in_place, _ in collector.name_changes if not in_place}
    environment = environ.Reader(resolver, collector.annotated_values)
    summary.environment = environment.note_module(collector.module_scope.sources, rebound)
    summary.environment_set = frozenset(collector.environment_set)
    for name, sources in collector.module_scope.sources.items():
        summary.bindings[name] = resolver.lookup(name, collector.module_scope)
        _note_elements(summary.elements, name, resolver.elements(sources))
    for qualname, class_info in collector.classes.items():
        cls = ClassSummary(qualname, bases=[_base(resolver, node, scope) for node, scope in class_info.bases],
                           customised=class_info.customised)
        for name in class_info.scope.sources:
            cls.attrs[name] = resolver.lookup(name, class_info.scope)
            literal = class_info.literals.get(name, [None])
            # One binding in the body (no ``def``, ``import`` or loop of that name), none on ``self``.
            if len(literal) == 1 and literal[0] is not None and len(class_info.scope.sources[name]) == 1 \
                    and name not in class_info.instance_attrs:
                cls.falsy[name] = literal[0]
        cls.on_instances = frozenset(class_info.instance_attrs)
        for name in dict.fromkeys([*class_info.scope.sources, *class_info.instance_attrs]):
            declared = class_info.scope.sources.get(name, []) + class_info.instance_attrs.get(name, [])
            _note_elements(cls.elements, name, resolver.elements(declared))
        for name, sources in class_info.instance_attrs.items():
            if name not in cls.attrs:
                cls.attrs[name] = resolver.agreed(sources)
            elif cls.attrs[name] is None:  # ``client = None`` in the class body, assigned in a method
                cls.attrs[name] = resolver.agreed(class_info.scope.sources[name] + sources)
            if cls.attrs[name] is None and name in class_info.param_attrs:
                bindings = class_info.scope.sources.get(name, []) + sources
                if sum(not binds_none(source) for source in bindings) == 1:  # the parameter, and None
                    cls.from_params[name] = class_info.param_attrs[name]
            if name in class_info.init_params and len(sources) == 1 and name not in class_info.scope.sources:
                position, init_param, outer = class_info.init_params[name]
                cls.param_values[name] = ParamValue(
                    position, identifier(init_param.name), _default_type(resolver, init_param, outer),
                    attrtests.falsy_literal(init_param.default) if init_param.default is not None else None)
        summary.classes[qualname] = cls
    by_info = {id(infos[id(function)]): function for function in summary.functions}
    for name, scope, in_place, info in collector.name_changes:
        variable = _module_variable(collector, resolver, name, scope)
        if variable is not None:
            changed = by_info[id(info)].global_changes if in_place else by_info[id(info)].global_rebinds
            if variable not in changed:
                changed.append(variable)

    if not pending:
        return
    # ``@mock.patch("time.sleep")`` on a test: what it replaces is a mock for every call in it.
    patched_by_decorators: Dict[int, Tuple[str, ...]] = {}
    for function in summary.functions:
        info = infos[id(function)]
        patched = _patched(((d.decorator, info.outer) for d in info.node.decorators), resolver)
        if patched:
            patched_by_decorators[id(function)] = patched
    where = positions.spans(located, text, tree, collector.ordered, [entry.index for entry in pending])
    records: Dict[int, CallRecord] = {}
    lines = text.splitlines()
    places: Dict[int, str] = {}  # id(guards) -> where the code under them runs
    environment_needs: Dict[int, attrtests.Needs] = {}  # id(conditions) -> what they need of the environment
    for entry in pending:
        node = entry.node
        if isinstance(node, (cst.For, cst.Import, cst.ImportFrom)):
            text_of_call = _statement_text(node, tree)
        else:
            callee = node.func if isinstance(node, cst.Call) else node
            text_of_call = dotted(callee) or _plain_code(callee) or tree.code_for_node(callee)  # ``"".join``
        text_of_call = _clipped(text_of_call)
        span = where[entry.index]
        if isinstance(node, cst.For):
            span = _header_span(span, lines)  # the ``for`` line, not the loop body (noqa, editors)
        records[id(node)] = record = CallRecord(entry.target, text_of_call, *span, entry.flags,
                                                detail=details.get(id(node), ""),
                                                memory_attribute=memory_attributes.get(id(node), ""),
                                                made_by=made_by.get(id(node), ""))
        function = entry.function
        if id(node) in param_of:
            position, name = param_of[id(node)]
            function.param_calls.append(ParamCall(position, name, record))
            continue
        tests = collector.guards.get(id(node), ())
        for test in tests:
            types = _guard_types(resolver, test.types, test.scope)
            if types:
                function.guards.append(Guard(len(function.calls), test.position, test.name, types, test.when,
                                             _defaults_to_none(infos[id(function)].node.params, test.name)))
        if not tests and isinstance(node, cst.Call) and entry.target.startswith(_FILE_METHODS) and not function.is_async:
            # ``value.read()`` on a parameter annotated as a file: a caller passing an
            # in-memory stream (``io.StringIO(text)``) does not wait for anything.
            received = _received_param(node, infos[id(function)])
            if received is not None:
                function.guards.append(Guard(len(function.calls), received[0], received[1], list(IN_MEMORY), False))
        function.forwards.extend(forward._replace(call=len(function.calls)) for forward in forwarded.get(id(node), ()))
        if id(node) in spreads:
            function.spreads.append(spreads[id(node)]._replace(call=len(function.calls)))
        conditions = collector.call_needs.get(id(node))
        if conditions:
            if id(conditions) not in environment_needs:
                environment_needs[id(conditions)] = _environment_needs(conditions, environment)
            info = infos[id(function)]
            for need, scope in itertools.chain(
                    ((need, condition.scope) for condition in conditions for need in condition.attributes),
                    ((need, info.scope) for need in environment_needs[id(conditions)])):
                assigned = _rebound_under(collector, resolver, info, need.attribute) \
                    if need.subject is Subject.PARAMETER and not _defaulted_in_place(collector, info, need) else []
                tested = tuple(_guard_types(resolver, need.types, scope)) if need.types is not None else ()
                if assigned is not None and (tested or need.types is None):
                    function.needs.append(AttributeNeed(len(function.calls), need.attribute, need.none_only,
                                                        need.unless, need.subject, need.falsy, assigned,
                                                        tested, need.instance, need.default_true))
        if id(node) in passed:
            passed[id(node)].row, passed[id(node)].col = record.row, record.col
        if isinstance(node, cst.Call):
            record.args = _arguments(tree, node)
            record.handed = handed.get(id(node), "")
            record.held = _held(collector.call_held.get(id(node), ()), resolver, tree)
            held_items = collector.call_held.get(id(node), ())
            if held_items or id(function) in patched_by_decorators:
                record.mocked = _patched(held_items, resolver) + patched_by_decorators.get(id(function), ())
            record.checked = collector.checked_then_set.get(id(node), "")
            platform_guards = collector.call_platforms.get(id(node))
            if platform_guards:
                if id(platform_guards) not in places:
                    places[id(platform_guards)] = _place(platform_guards, resolver)
                record.platform = places[id(platform_guards)]
        function.calls.append(record)
    for name, scope, call_id in collector.name_arguments:
        receiver = records.get(call_id)
        variable = _module_variable(collector, resolver, name, scope) if receiver is not None else None
        if receiver is not None and variable is not None and variable not in receiver.shares:
            receiver.shares.append(variable)
    for entry in pending:
        opened = collector.opened_by.get(id(entry.node))
        opener = records.get(opened.opener) if opened is not None else None
        if opened is not None and opener is not None:
            records[id(entry.node)].block_row, records[id(entry.node)].block_col = opener.row, opener.col
            opener.opened_as = opened.name
    for entry, callback, framework in callbacks:
        registration = records[id(entry.node)]
        entry.function.callbacks.append(CallRecord(callback, registration.text, registration.row, registration.col,
                                                   registration.end_row, registration.end_col, detail=framework))
