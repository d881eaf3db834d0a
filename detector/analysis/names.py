"""Lean name resolution: scopes, bindings and the symbolic value of an expression.

Values are :class:`~detector.analysis.summary.Symbol` tuples, so they compare by content:
``Symbol("ref", "os.path.exists")`` is a reference to something with that dotted name,
``Symbol("inst", "requests.Session")`` an instance of that type. ``None`` means unknown.

Names are resolved flow-insensitively, like a type checker: every binding of a name in a
scope is a *source*; when all sources agree the name has that value, otherwise it is
unknown (and still shadows outer scopes). Sources are evaluated lazily, so a module-level
import below the function that uses it still resolves.
"""
from __future__ import annotations

import unicodedata
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Set, Tuple, Union

import libcst as cst

from detector.analysis.summary import INDEX, ITER, Symbol, Value
from detector.catalog import IN_MEMORY, ArgumentCondition, Catalog


# Binding sources: what one binding of a name says about its value.
class Known(NamedTuple):
    """The value is known when the binding is made (an import, a def, ``self``)."""

    value: Value


class Assigned(NamedTuple):
    """``name = node`` (and ``with node as name``, ``name := node``), evaluated in ``scope``."""

    node: cst.BaseExpression
    scope: "Scope"


class Annotated(NamedTuple):
    """``name: node`` (a parameter or variable annotation), evaluated in ``scope``."""

    node: cst.BaseExpression
    scope: "Scope"


class Element(NamedTuple):
    """A ``for`` target: one element of what ``node`` (evaluated in ``scope``) iterates."""

    node: cst.BaseExpression
    scope: "Scope"


class Unknown(NamedTuple):
    """A binding whose value cannot be known (a loop target, an unannotated parameter)."""


Source = Union[Known, Assigned, Annotated, Element, Unknown]
UNKNOWN_SOURCE = Unknown()


class _Marker:
    """The memo's states besides a value: being evaluated (a cycle), or unknown."""


_UNKNOWN = _Marker()
_EVALUATING = _Marker()


def identifier(name: cst.Name) -> str:
    """The name Python binds: identifiers are NFKC-normalised (``ｔｉｍｅ`` is ``time``)."""
    value = name.value
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def ref(name: str) -> Symbol:
    return Symbol("ref", name)


def inst(name: str) -> Symbol:
    return Symbol("inst", name)


class Scope:
    """One Python scope: module, class, function (sync or async), lambda or comprehension."""

    __slots__ = ("kind", "qualname", "parent", "sources", "_memo", "class_qualname")

    def __init__(self, kind: str, qualname: str, parent: Optional["Scope"], class_qualname: str = ""):
        self.kind = kind
        self.qualname = qualname
        self.parent = parent
        self.sources: Dict[str, List[Source]] = {}
        self._memo: Dict[str, Union[Symbol, _Marker]] = {}
        # For a method scope: the class it belongs to (gives ``self`` and ``cls`` their type).
        self.class_qualname = class_qualname

    def bind(self, name: str, source: Source) -> None:
        self.sources.setdefault(name, []).append(source)

    def function_scope(self) -> "Scope":
        """The scope whose frame runs this code (comprehensions run in their function's frame)."""
        scope = self
        while scope.kind == "comp" and scope.parent is not None:
            scope = scope.parent
        return scope


class Resolver:
    """Evaluates expressions to symbolic values within a module's scopes."""

    def __init__(self, catalog: Catalog, module: cst.Module):
        self.catalog = catalog
        self.module = module

    # -- names -----------------------------------------------------------------------------
    def lookup(self, name: str, scope: Scope) -> Value:
        found = binding_scope(name, scope)
        # Builtins, and roots bound nowhere (a snippet, a star import): match as spelled.
        return self._evaluate_name(name, found) if found is not None else ref(name)

    def _evaluate_name(self, name: str, scope: Scope) -> Value:
        memo = scope._memo.get(name)
        if memo is _EVALUATING:
            return None  # a cycle such as ``p = p.parent``
        if isinstance(memo, Symbol):
            return memo
        if memo is _UNKNOWN:
            return None
        scope._memo[name] = _EVALUATING
        result = self.agreed(scope.sources[name])
        scope._memo[name] = _UNKNOWN if result is None else result
        return result

    def agreed(self, sources: List[Source]) -> Value:
        """The value every binding gives; ``x = None`` (a default, ``except ImportError: ssl = None``)
        says nothing of the others and drops out. Names the catalogue takes for one another agree
        (``from asyncio import Runner``, or else ``from taskgroup import Runner``: a backport)."""
        values = {self._evaluate_source(source) for source in sources if not binds_none(source)}
        if len(values) > 1 and None not in values:
            values = {Symbol(value.kind, self.catalog.canonical(value.name)) for value in values if value is not None}
        return values.pop() if len(values) == 1 else None

    def _evaluate_source(self, source: Source) -> Value:
        if isinstance(source, Known):
            return source.value
        if isinstance(source, Assigned):
            return self.value(source.node, source.scope)
        if isinstance(source, Annotated):
            return self.annotation(source.node, source.scope)
        if isinstance(source, Element):
            iterated = self.value(source.node, source.scope)
            element = self.catalog.element_type(iterated.name) if iterated is not None and iterated.kind == "inst" else None
            return inst(element) if element else (self.element(source.node, source.scope, iterated=True)
                                                  or stepped(iterated, ITER))
        return None

    def element(self, node: cst.BaseExpression, scope: Scope, iterated: bool) -> Value:
        """One element of a name every binding of which annotates it as a container of one
        type: ``list[X]``, ``Sequence[X]``, ``Iterable[X]``... iterated or indexed, ``dict[K, X]``
        indexed. The container's own value stays unknown, so its methods (``paths.pop()``)
        are never taken for the element's."""
        if not isinstance(node, cst.Name):
            return None
        name = identifier(node)
        found = binding_scope(name, scope)
        if found is None:
            return None
        values = {self._element_of(source, iterated) for source in found.sources[name] if not binds_none(source)}
        return values.pop() if len(values) == 1 else None

    def _element_of(self, source: Source, iterated: bool) -> Value:
        return self.contained(source.node, source.scope, iterated) if isinstance(source, Annotated) else None

    def elements(self, sources: List[Source]) -> Tuple[str, str]:
        """What iterating and indexing a name, attribute or result gives, from the annotations among
        its bindings (``paths: list[Path]``, ``-> dict[str, Path]``) when they agree: a field
        annotated in the class body and assigned in ``__init__`` is typed by its annotation."""
        annotated = [source for source in sources if isinstance(source, Annotated)]
        if not annotated:
            return ("", "")
        iterated = {self.contained(source.node, source.scope, True) for source in annotated}
        indexed = {self.contained(source.node, source.scope, False) for source in annotated}
        return (_name(iterated), _name(indexed))

    def contained(self, annotation: cst.BaseExpression, scope: Scope, iterated: bool) -> Value:
        """An element of a container annotated ``annotation``: ``list[X]`` iterated or indexed gives
        an ``X``, ``dict[K, X]`` iterated a ``K`` (its keys) and indexed an ``X``."""
        node = _written(annotation)
        while isinstance(node, cst.Subscript) and _typing_name(self.value(node.value, scope)) in ("Optional", "Union"):
            rest = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index) and not is_none(e.slice.value)]
            if len(rest) != 1:
                return None
            node = rest[0]
        if not isinstance(node, cst.Subscript):
            return None
        kind = _CONTAINERS.get(_typing_name(self.value(node.value, scope)))
        elements = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
        if kind is None or len(elements) != len(node.slice):
            return None
        if len(elements) != (2 if kind == _MAPPING else 1):
            return None
        value = self.annotation(elements[0 if iterated else -1], scope)
        return value if value is not None and value.kind == "inst" else None

    # -- expressions -----------------------------------------------------------------------
    def value(self, node: cst.BaseExpression, scope: Scope) -> Value:
        if isinstance(node, cst.Name):
            return self.lookup(identifier(node), scope)
        if isinstance(node, cst.Attribute):
            return self.attribute(self.value(node.value, scope), identifier(node.attr))
        if isinstance(node, cst.Call):
            target = self.callee(node, scope)
            if target == "functools.partial" and node.args and not node.args[0].keyword and not node.args[0].star:
                return self.value(node.args[0].value, scope)  # calling the partial calls its function
            if target == "super" and not node.args:
                owner = scope.function_scope().class_qualname
                return ref(f"{owner}.<super>") if owner else None
            return self._call_value(node, target, scope) if target else None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            return self.attribute(self.value(node.left, scope), "__truediv__", as_type=True)
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            # ``paths[0]``, ``files[name]``; ``self.paths[0]``, ``self.files()[0]`` as the project types them
            return self.element(node.value, scope, iterated=False) or stepped(self.value(node.value, scope), INDEX)
        if isinstance(node, cst.IfExp):
            # ``Path(p) if local else None``: the branches that are not ``None`` must agree.
            values = {self.value(branch, scope) for branch in (node.body, node.orelse) if not is_none(branch)}
            return values.pop() if len(values) == 1 else None
        return None

    def callee(self, call: cst.Call, scope: Scope) -> Optional[str]:
        """The dotted name a call invokes, or None when it cannot be known."""
        value = self.value(call.func, scope)
        if value is not None and value.kind == "ref":
            return self.catalog.canonical(value.name)
        return None

    def _call_value(self, node: cst.Call, target: str, scope: Scope) -> Value:
        """What calling ``target`` gives; the catalogue's in-memory type when handed an in-memory
        stream where that decides it (``zipfile.ZipFile(io.BytesIO())``)."""
        condition = self.catalog.argument_condition(target)
        if condition is not None and condition.memory_type:
            argument = conditioned_argument(node, condition)
            if argument is not UNPACKED and argument is not None and self.in_memory(argument, scope):
                return inst(condition.memory_type)
        return self.call_result(target)

    def in_memory(self, node: cst.BaseExpression, scope: Scope) -> bool:
        """``node`` is known to be an in-memory stream (``io.BytesIO()``, a name bound to one)."""
        value = self.value(node, scope)
        return value is not None and value.kind == "inst" and self.catalog.canonical(value.name) in IN_MEMORY

    def call_result(self, target: str) -> Value:
        return inst(self.catalog.result_type(target) or target)

    def attribute(self, base: Value, attr: str, as_type: bool = False) -> Value:
        if base is None:
            return None
        kind, name = base
        if kind == "inst":
            typed = self.catalog.attribute_type(name, attr)
            if typed:
                return inst(typed)
            if as_type:
                return None
        return ref(f"{name}.{attr}")

    def annotation(self, node: cst.BaseExpression, scope: Scope) -> Value:
        """The instance type an annotation declares: ``Path``, ``Optional[Path]``, ``Path | None``,
        ``"Path"``, ``Union[Path, None]``, ``Annotated[Path, ...]``, ``type[Path]``, ``Self``,
        ``IO[bytes]`` (a generic's origin)."""
        written = _written(node)
        if written is None:
            return None
        node = written
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return self._one_of([node.left, node.right], scope)
        if is_none(node):
            return None
        if isinstance(node, cst.Subscript):
            origin = _typing_name(self.value(node.value, scope))
            elements = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
            if not elements:
                return None
            if origin in ("Optional", "Union"):
                return self._one_of(elements, scope)
            if origin in _WRAPPERS or origin in _CLASS_OF:
                return self.annotation(elements[0], scope)
            if origin in _ANY_GENERIC:
                return None
            node = node.value  # ``IO[bytes]``, ``Session[T]``: the generic's own type
        value = self.value(node, scope)
        if value is None or value.kind != "ref":
            return None
        if _typing_name(value) == "Self":
            owner = _enclosing_class(scope)
            return inst(owner) if owner else None
        # A class the catalogue types by what its constructor gives (``io.FileIO``: a file object).
        return self.call_result(self.catalog.canonical(value.name))

    def members(self, sources: List[Source], depth: int = 0) -> Optional[FrozenSet[Symbol]]:
        """The types a name may have when its bindings (``sources``) disagree: each binding, each
        side of ``x if c else y`` and each member of a ``Union``/``X | Y`` annotation gives one
        (``None`` drops out). None when any of them is unknown or not an instance."""
        found: Set[Symbol] = set()
        for source in sources:
            if binds_none(source):
                continue
            if isinstance(source, Assigned):
                got = self._expression_members(source.node, source.scope, depth)
            elif isinstance(source, Annotated):
                got = self._annotation_members(source.node, source.scope, depth)
            else:
                got = _instance(self._evaluate_source(source))
            if got is None:
                return None
            found |= got
        return frozenset(found) if found else None

    def _expression_members(self, node: cst.BaseExpression, scope: Scope, depth: int) -> Optional[FrozenSet[Symbol]]:
        if isinstance(node, cst.IfExp) and depth < _MAX_MEMBER_DEPTH:
            sides = [self._expression_members(side, scope, depth + 1) for side in (node.body, node.orelse)
                     if not is_none(side)]
            return None if not sides or None in sides else frozenset().union(*sides)  # type: ignore[arg-type]
        return _instance(self.value(node, scope))

    def _annotation_members(self, node: cst.BaseExpression, scope: Scope, depth: int) -> Optional[FrozenSet[Symbol]]:
        written = _written(node)
        if written is None or depth >= _MAX_MEMBER_DEPTH:
            return None
        parts: Optional[List[cst.BaseExpression]] = None
        if isinstance(written, cst.BinaryOperation) and isinstance(written.operator, cst.BitOr):
            parts = [written.left, written.right]
        elif isinstance(written, cst.Subscript) and _typing_name(self.value(written.value, scope)) in ("Optional", "Union"):
            parts = [e.slice.value for e in written.slice if isinstance(e.slice, cst.Index)]
            if len(parts) != len(written.slice):
                return None
        if parts is None:
            return _instance(self.annotation(written, scope))
        rest = [self._annotation_members(part, scope, depth + 1) for part in parts if not is_none(part)]
        return None if not rest or None in rest else frozenset().union(*rest)  # type: ignore[arg-type]

    def _one_of(self, parts: List[cst.BaseExpression], scope: Scope) -> Value:
        """A union: ``None`` members drop out; one type left is the type, more are unknown."""
        rest = [p for p in parts if not is_none(p)]
        return self.annotation(rest[0], scope) if len(rest) == 1 else None


_MAX_MEMBER_DEPTH = 20  # nested unions and conditional expressions followed for members


def _instance(value: Value) -> Optional[FrozenSet[Symbol]]:
    return frozenset((value,)) if value is not None and value.kind == "inst" else None


# ``Annotated[X, ...]``, ``ClassVar[X]``, ``Final[X]``...: the type is the first argument.
_WRAPPERS = frozenset({"Annotated", "ClassVar", "Final", "Required", "NotRequired", "ReadOnly"})
_CLASS_OF = frozenset({"type", "Type"})  # a class and its instances resolve alike
# Generics whose subscript says nothing about the value's own blocking methods.
_ANY_GENERIC = frozenset({"Literal", "Callable", "Awaitable", "Coroutine", "Generator", "AsyncGenerator",
                          "Iterator", "AsyncIterator", "Iterable", "AsyncIterable", "TypeGuard", "Unpack"})


# Containers whose annotation names their elements' type: iterated or indexed, they give one.
_SEQUENCE, _MAPPING = "sequence", "mapping"
_CONTAINERS = {
    **dict.fromkeys(("list", "List", "Sequence", "MutableSequence", "Iterable", "Iterator", "Collection",
                     "set", "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet", "Deque"), _SEQUENCE),
    **dict.fromkeys(("dict", "Dict", "Mapping", "MutableMapping", "DefaultDict", "OrderedDict"), _MAPPING),
}


def _written(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """An annotation's expression, a string annotation parsed (None when it does not parse)."""
    if not isinstance(node, cst.SimpleString):
        return node
    try:
        written = node.evaluated_value
        # A bytes literal is parsed as UTF-8 source, as libcst does with bytes.
        return cst.parse_expression(written.decode("utf-8") if isinstance(written, bytes) else written)
    except Exception:
        return None


# Streams that hold their data in memory: reading and writing them waits for nothing.
UNPACKED = cst.Name("_")  # stands for an argument hidden in ``*args`` / ``**kwargs``


def positional_argument(call: cst.Call, index: int) -> Optional[cst.BaseExpression]:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index].value if index < len(positional) else None


def conditioned_argument(call: cst.Call, condition: ArgumentCondition) -> Optional[cst.BaseExpression]:
    """The argument a catalogue argument condition looks at: by keyword, else by position; ``UNPACKED``
    when ``*args`` / ``**kwargs`` may hide it, None when the call leaves it out."""
    if any(arg.star for arg in call.args):
        return UNPACKED
    for arg in call.args:
        if arg.keyword is not None and identifier(arg.keyword) == condition.keyword:
            return arg.value
    return positional_argument(call, condition.position) if condition.position is not None else None


def binding_scope(name: str, scope: Scope) -> Optional[Scope]:
    """The scope whose binding of ``name`` code in ``scope`` sees (None: bound nowhere)."""
    current: Optional[Scope] = scope
    while current is not None:
        # A class body's names are invisible to the functions nested in it.
        if current.kind == "class" and current is not scope:
            current = current.parent
            continue
        if name in current.sources:
            return current
        current = current.parent
    return None


def stepped(container: Value, step: str) -> Value:
    """An element of a project attribute or call result: ``pkg.C.paths.<iter>``, which the
    project resolves from the declaration's annotation (``Project.expand``)."""
    return inst(f"{container.name}.{step}") if container is not None and step not in container.name else None


def _name(values: Set[Value]) -> str:
    value = values.pop() if len(values) == 1 else None
    return value.name if value is not None else ""


def _typing_name(value: Value) -> str:
    """``typing.Optional``, ``typing_extensions.Optional`` or an unbound ``Optional`` -> ``Optional``."""
    if value is None or value.kind != "ref":
        return ""
    module, _, name = value.name.rpartition(".")
    return name if module in ("", "typing", "typing_extensions", "builtins") else ""


def _enclosing_class(scope: Scope) -> str:
    current: Optional[Scope] = scope
    while current is not None:
        if current.kind == "class":
            return current.qualname
        if current.class_qualname:
            return current.class_qualname
        current = current.parent
    return ""


def binds_none(source: Source) -> bool:
    return isinstance(source, Assigned) and is_none(source.node)


def is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and identifier(node) == "None"


def is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and identifier(node) == "True"


def is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and identifier(node) == "False"


def string_literal(node: cst.BaseExpression) -> Optional[str]:
    """The text of a plain string literal (``"linux"``, not bytes or an f-string)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` as a string, for plain dotted names only."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(identifier(node.attr))
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(identifier(node))
    return ".".join(reversed(parts))


def resolve_relative(module_name: str, is_package: bool, level: int, target: Optional[str]) -> Optional[str]:
    """``from ..x import y`` inside ``module_name`` -> the absolute module name of ``..x``."""
    if level == 0:
        return target
    parts = module_name.split(".") if module_name else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        if level - 1 > len(parts):
            return None
        parts = parts[: len(parts) - (level - 1)]
    if target:
        parts.append(target)
    return ".".join(parts) if parts else None
