"""Values read from the environment, the tests on them, and the variables a module sets.

An environment variable the project never sets is unset when the program runs as the project
ships it; a user sets it to change how the program runs (textual's ``TEXTUAL_DRIVER`` names a
driver class to import). A call a sync function makes only when such a variable is set is not
what the function always does: it is no link of a blocking chain (``chains``), as a call under a
class attribute set to None is not for that class. The values read (``read``, ``subject``):

- ``os.environ.get("X")`` / ``os.getenv("X")``, with no default or a false literal one (``None``,
  ``""``, ``False``, ``0``), and ``"X" in os.environ``; the getters under another name too
  (``get_environ = os.environ.get``);
- a name bound from one of those: a local bound once in the function, a module variable every
  binding of which reads the same variable or is None (``try: X = os.environ["X"]`` with
  ``except KeyError: X = None`` too), in the module or imported from another (``Subject.VARIABLE``:
  ``ModuleSummary.environment`` of the module that binds it decides).

The tests on them are those ``attrtests.read_needs`` reads (``if x:``, ``if x is not None:``,
``if x == "1":``, their negations, early returns). What the project sets (``os.environ["X"] = v``,
``os.environ.setdefault``/``update``, ``os.putenv``, ``monkeypatch.setenv``, ``patch.dict(os.environ,
{...})``, by literal name: ``written``) keeps the calls: the variable may be set when they run.
"""
from __future__ import annotations

from typing import AbstractSet, Dict, Iterator, List, Mapping, Optional

import libcst as cst

from detector.analysis.attrtests import Tested, falsy_literal
from detector.analysis.names import (
    Annotated, Assigned, Resolver, Scope, Source, binding_scope, binds_none, dotted, identifier,
    string_literal,
)
from detector.analysis.summary import EnvironmentRead, Subject

_GETTERS = frozenset({"os.environ.get", "os.getenv"})
_ENVIRON = "os.environ"
_MAX_DEPTH = 4  # locals bound from locals
# Methods that set variables: on ``os.environ`` (by key or keyword), or on anything (``monkeypatch``, ``os``).
_ENVIRON_SETTERS = frozenset({"setdefault", "update", "__setitem__"})
_SETTERS = frozenset({"setenv", "putenv"})
# Set by the operating system, the shell, a CI runner or a container platform where the code runs.
_PROVIDED = frozenset({"PATH", "HOME", "USER", "USERNAME", "LOGNAME", "SHELL", "TERM", "LANG", "PWD", "TMPDIR",
                       "TEMP", "TMP", "HOSTNAME", "CI", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "SYSTEMROOT"})
_PROVIDED_PREFIXES = ("GITHUB_", "RUNNER_", "GITLAB_", "CI_", "BUILDKITE_", "CIRCLE", "TRAVIS", "KUBERNETES_",
                      "LC_", "XDG_")


class Reader:
    """Reads a module's values from the environment once its names resolve. ``annotated`` gives
    the value of an annotated binding (``DRIVER: Final[str | None] = getenv("APP_DRIVER")``),
    by the id of its source; ``module`` the module variables bound from the environment."""

    def __init__(self, resolver: Resolver, annotated: Mapping[int, cst.BaseExpression]):
        self.resolver = resolver
        self.annotated = annotated
        self.module: Dict[str, EnvironmentRead] = {}

    def read(self, node: cst.BaseExpression, scope: Scope, keyed: bool = False) -> Optional[EnvironmentRead]:
        """``os.environ.get("X")`` / ``os.getenv("X", "")`` with a false default, or, when ``keyed``
        (a binding a ``KeyError`` handler backs with None), ``os.environ["X"]``."""
        if isinstance(node, cst.Call):
            if any(arg.star for arg in node.args) or self.resolver.callee(node, scope) not in _GETTERS:
                return None
            positional = [arg.value for arg in node.args if arg.keyword is None]
            keywords = {identifier(arg.keyword): arg.value for arg in node.args if arg.keyword is not None}
            key = positional[0] if positional else keywords.get("key")
            default = positional[1] if len(positional) > 1 else keywords.get("default")
            variable = string_literal(key) if key is not None else None
            if variable is None or _provided(variable):
                return None
            if default is None:
                return EnvironmentRead(variable, True)
            falsy = falsy_literal(default)
            return None if falsy is None else EnvironmentRead(variable, falsy)
        if keyed and isinstance(node, cst.Subscript) and len(node.slice) == 1 \
                and isinstance(node.slice[0].slice, cst.Index):
            variable = string_literal(node.slice[0].slice.value)
            if variable is not None and not _provided(variable) and self._is_environ(node.value, scope):
                return EnvironmentRead(variable, True)
        return None

    def bound(self, sources: List[Source]) -> Optional[EnvironmentRead]:
        """The read every binding of a name makes (bindings to None aside, which only make its false
        value None); ``os.environ["X"]`` counts only beside such a None binding (``except KeyError``)."""
        backed = any(binds_none(source) for source in sources)
        reads = set()
        for source in sources:
            if binds_none(source):
                continue
            value = self._value(source)
            found = self.read(value.node, value.scope, keyed=backed) if value is not None else None
            if found is None:
                return None
            reads.add(found)
        if len({found.variable for found in reads}) != 1:
            return None
        # Unset, the name is None only when every read says so.
        return EnvironmentRead(next(iter(reads)).variable, all(found.none for found in reads))

    def _value(self, source: Source) -> Optional[Assigned]:
        if isinstance(source, Assigned):
            return source
        if isinstance(source, Annotated) and id(source) in self.annotated:
            return Assigned(self.annotated[id(source)], source.scope)
        return None

    def subject(self, node: cst.BaseExpression, scope: Scope, depth: int = 0) -> Optional[Tested]:
        """What an operand of a test reads from the environment (``attrtests.Reader``): a variable
        directly, or a module variable the project decides on."""
        found = self.read(node, scope) or self._membership(node, scope)
        if found is not None:
            return Tested(Subject.ENVIRONMENT, found.variable, none=found.none)
        if isinstance(node, cst.Name):
            name = identifier(node)
            where = binding_scope(name, scope)
            if where is None:
                return None
            if where.kind == "module":
                found = self.module.get(name)
                if found is not None:
                    return Tested(Subject.ENVIRONMENT, found.variable, none=found.none)
            else:
                found = self.bound(where.sources[name])
                if found is not None:
                    return Tested(Subject.ENVIRONMENT, found.variable, none=found.none)
                # A local bound once from what another name holds (``driver = constants.DRIVER``).
                values = [self._value(source) for source in where.sources[name] if not binds_none(source)]
                if len(values) != 1 or values[0] is None or depth >= _MAX_DEPTH:
                    return None
                return self.subject(values[0].node, values[0].scope, depth + 1)
        if isinstance(node, (cst.Name, cst.Attribute)) and dotted(node) is not None:
            value = self.resolver.value(node, scope)
            if value is not None and value.kind == "ref":
                return Tested(Subject.VARIABLE, value.name)
        return None

    def _membership(self, node: cst.BaseExpression, scope: Scope) -> Optional[EnvironmentRead]:
        """``"X" in os.environ``: true only when X is set."""
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1 \
                and isinstance(node.comparisons[0].operator, cst.In):
            variable = string_literal(node.left)
            if variable is not None and not _provided(variable) \
                    and self._is_environ(node.comparisons[0].comparator, scope):
                return EnvironmentRead(variable, True)
        return None

    def _is_environ(self, node: cst.BaseExpression, scope: Scope) -> bool:
        value = self.resolver.value(node, scope)
        return value is not None and value.kind == "ref" and value.name == _ENVIRON

    def note_module(self, sources: Dict[str, List[Source]], rebound: AbstractSet[str]) -> Dict[str, EnvironmentRead]:
        """The module variables bound from the environment (``ModuleSummary.environment``); names a
        function rebinds under ``global`` are not."""
        for name, bindings in sources.items():
            if name not in rebound:
                value = self.bound(bindings)
                if value is not None:
                    self.module[name] = value
        return self.module


def _provided(variable: str) -> bool:
    """A variable the system or the platform the program runs on sets (``HOME``, a CI runner's
    ``GITHUB_EVENT_PATH``): set wherever the code is meant to run, not a user's opt-in."""
    return variable in _PROVIDED or variable.startswith(_PROVIDED_PREFIXES)


def written(node: cst.CSTNode) -> Iterator[str]:
    """The variables a statement or call sets in the environment, by literal name (read as
    written: a write under another spelling is missed, and keeps calls under tests of it silent)."""
    if isinstance(node, cst.Assign):
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and _spelled_environ(target.target.value):
                for element in target.target.slice:
                    if isinstance(element.slice, cst.Index):
                        yield from _strings([element.slice.value])
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        method = identifier(node.func.attr)
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        named = [identifier(arg.keyword) for arg in node.args if arg.keyword is not None]
        if method in _SETTERS or (method in _ENVIRON_SETTERS and _spelled_environ(node.func.value)):
            yield from _strings(positional[:1])
            if method == "update":
                yield from named
                yield from _keys(positional[:1])
        elif method == "dict" and (dotted(node.func) or "").endswith("patch.dict") and len(positional) > 1:
            yield from named
            yield from _keys(positional[1:2])


def _keys(values: List[cst.BaseExpression]) -> Iterator[str]:
    for value in values:
        if isinstance(value, cst.Dict):
            yield from _strings([element.key for element in value.elements if isinstance(element, cst.DictElement)])


def _strings(values: List[cst.BaseExpression]) -> Iterator[str]:
    for value in values:
        text = string_literal(value)
        if text is not None:
            yield text


def _spelled_environ(node: cst.BaseExpression) -> bool:
    """``os.environ`` or ``environ`` as written."""
    name = dotted(node)
    return name is not None and (name == "environ" or name.endswith(".environ"))
