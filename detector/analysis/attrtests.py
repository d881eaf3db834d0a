"""Calls a method makes only when an attribute of ``self`` (or a value read from the environment,
``environ``) is set.

``if self.CSS_PATH is not None: load(self.CSS_PATH)`` runs ``load`` only when the instance's
``CSS_PATH`` is not None. A class that sets ``CSS_PATH = None`` in its body (and a subclass
that inherits it) never runs it when constructed: ``project.Project.falsy_attribute`` knows the
value, ``chains.reached`` drops such calls for that class (``AttributeNeed.failed_by``). The
shapes read, on ``self`` (or ``cls``), with ``not``, ``and`` and ``or`` around them:

- ``if self.A:`` / ``if self.A is not None:`` / ``if self.A == "x":`` (a literal no false value
  equals), and the ``else`` of their negations;
- ``x if self.A else y``, ``self.A and f()``;
- ``isinstance(self.A, T)``, in either sense: a class constructed with ``A`` set from a
  constructor parameter decides it by what the construction passes, or the parameter's default
  (``project.Project.passed_value``);
- a loop or comprehension over ``items if <test> else []``: its body runs only when the test holds;
- after ``if self.A is None: return`` the rest of the block needs ``A``;
- a parameter with a false default tested as itself (``if watch:``), in either sense: a call
  that leaves it out skips what needs it true, a call passing ``True`` what needs it false;
- a local bound once, by a statement of the body itself, as ``local = param or self.A`` (or
  ``param if param is not None else self.A``) and tested after it: ``if local is not None:``
  needs ``A`` when a call leaves ``param`` at its default None (``Need.unless``, ``Fallback``).

``read_needs`` takes the operands' reader as a parameter: ``environ`` reads the same shapes of
tests on values read from the environment.
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping, NamedTuple, Optional, Tuple

import libcst as cst

from detector.analysis import debugmode
from detector.analysis.names import identifier, is_none, is_true
from detector.analysis.summary import Given, Subject


class Need(NamedTuple):
    """The code runs only when what a test reads (``subject``: ``self.<attribute>``, an
    environment variable, a module variable) is not None (``none_only``) or else truthy, or, with
    ``unless``, when a call passes that parameter. ``falsy``: a parameter's, only when it is false
    (after ``if local_mode: return``, a call passing ``local_mode=True`` skips the code), or, with
    ``none_only``, only when it is None (a call passing an object skips the code). ``types``:
    instead, the code runs only when ``isinstance(self.<attribute>, types)`` is ``instance``."""

    attribute: str
    none_only: bool
    unless: Optional[Given] = None
    subject: Subject = Subject.ATTRIBUTE
    falsy: bool = False
    types: Optional[cst.BaseExpression] = None
    instance: bool = True
    default_true: bool = False  # a parameter whose default is a true literal (``verify=True``)


Needs = Tuple[Need, ...]


class Tested(NamedTuple):
    """What an operand of a test reads: its subject and name, the parameter a call may pass instead
    (a fallback's), and whether its false value is None (True), another (False) or decided later."""

    subject: Subject
    name: str
    unless: Optional[Given] = None
    none: Optional[bool] = None
    default_true: bool = False  # a parameter whose default is a true literal


# Which value an operand of a test reads, if one the needs are about.
Reader = Callable[[cst.BaseExpression], Optional[Tested]]


class Fallback(NamedTuple):
    """``local = param or self.A`` (or ``param if param is not None else self.A``), the only
    binding of ``local`` in the body, statement ``statement`` of it: after it, ``local`` is
    ``self.A`` for a call that leaves ``param`` (default None) out, else what it passes."""

    attribute: str
    param: Given
    statement: int


Fallbacks = Mapping[str, Fallback]


def needs(test: cst.BaseExpression, owner: Optional[str], outcome: bool, fallbacks: Fallbacks = {},
          parameters: Mapping[str, Switch] = {}) -> Needs:
    """What ``test`` coming out as ``outcome`` requires of the attributes of ``owner`` (``self``),
    directly or through the ``fallbacks`` (locals standing for one) bound where the test is, and of
    the function's ``parameters`` with a false default (``if watch_css:``: a call must pass it)."""
    return read_needs(test, outcome, lambda node: _tested(node, owner, fallbacks, parameters))


def read_needs(test: cst.BaseExpression, outcome: bool, read: Reader) -> Needs:
    """What ``test`` coming out as ``outcome`` requires of the values ``read`` recognises, each of
    which is false when unset: ``if x:``, ``if x is not None:``, ``if x == "1":``, with ``not``,
    ``and`` and ``or`` around them."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return read_needs(test.expression, not outcome, read)
    if isinstance(test, cst.BooleanOperation):
        # ``a and b`` true needs both true; ``a or b`` false needs both false. The other outcome
        # leaves either side possible, unless one of them gives it in debug mode only
        # (``watch or self.debug``): in normal operation the other side must.
        if isinstance(test.operator, cst.And) == outcome:
            return read_needs(test.left, outcome, read) + read_needs(test.right, outcome, read)
        if debugmode.only_when(test.right, outcome):
            return read_needs(test.left, outcome, read)
        if debugmode.only_when(test.left, outcome):
            return read_needs(test.right, outcome, read)
        return ()
    typed = _isinstance_of(test)
    if typed is not None:
        tested = read(typed[0])
        if tested is None or tested.subject is not Subject.ATTRIBUTE or tested.unless is not None:
            return ()
        return (Need(tested.name, False, types=typed[1], instance=outcome),)
    tested = read(test)
    if tested is not None and not outcome and tested.subject is Subject.PARAMETER:
        return (Need(tested.name, False, tested.unless, tested.subject, falsy=True, default_true=tested.default_true),)
    if tested is not None:
        return (_need(tested, False),) if outcome else ()
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        operator, comparator = test.comparisons[0].operator, test.comparisons[0].comparator
        if isinstance(operator, (cst.Is, cst.IsNot)) and is_none(comparator):
            tested = read(test.left)
            # ``A is not None`` true, or ``A is None`` false: A is not None. Through a fallback
            # (``param or self.A``), with param left None, the local is ``self.A``: the same.
            if tested is not None and tested.none is not False and isinstance(operator, cst.IsNot) == outcome:
                return (_need(tested, True),)
            # ``param is None`` true: the code runs only when a call leaves the parameter None
            # (``if session is None: session = Session()``).
            if tested is not None and tested.subject is Subject.PARAMETER:
                return (Need(tested.name, True, tested.unless, tested.subject, falsy=True,
                             default_true=tested.default_true),)
        elif isinstance(operator, (cst.Equal, cst.NotEqual)) and _true_literal(comparator):
            # ``A == "1"`` true, or ``A != "1"`` false: A is not a false value.
            tested = read(test.left)
            if tested is not None and isinstance(operator, cst.Equal) == outcome:
                return (_need(tested, False),)
    return ()


def _isinstance_of(test: cst.BaseExpression) -> Optional[Tuple[cst.BaseExpression, cst.BaseExpression]]:
    """``isinstance(x, T)``: (x, T)."""
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance" \
            and len(test.args) == 2 and not any(arg.keyword or arg.star for arg in test.args):
        return test.args[0].value, test.args[1].value
    return None


def _need(tested: Tested, none_only: bool) -> Need:
    return Need(tested.name, none_only, tested.unless, tested.subject, default_true=tested.default_true)


def _true_literal(node: cst.BaseExpression) -> bool:
    """A literal no false value (None, False, 0, "", an empty display) equals: ``"1"``, ``2``."""
    if isinstance(node, (cst.SimpleString, cst.Integer)):
        return bool(node.evaluated_value)
    return False


def _tested(node: cst.BaseExpression, owner: Optional[str], fallbacks: Fallbacks,
            parameters: Mapping[str, Switch]) -> Optional[Tested]:
    """The attribute ``node`` reads, and the parameter a call may pass instead (a fallback's); or
    the parameter it is."""
    attribute = _attribute(node, owner) if owner else None
    if attribute is not None:
        return Tested(Subject.ATTRIBUTE, attribute)
    if not isinstance(node, cst.Name):
        return None
    fallback = fallbacks.get(identifier(node))
    if fallback is not None:
        return Tested(Subject.ATTRIBUTE, fallback.attribute, fallback.param)
    switch = parameters.get(identifier(node))
    return Tested(Subject.PARAMETER, switch.param.name, switch.param, switch.none, switch.default_true) \
        if switch is not None else None


def fallbacks(node: cst.FunctionDef, owner: str) -> Dict[str, Fallback]:
    """The locals of a method's body bound once as ``param or self.A`` (see ``Fallback``)."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        return {}
    defaults = _none_defaults(node.params)
    found: Dict[str, Fallback] = {}
    for index, statement in enumerate(body.body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        assign = statement.body[0]
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 \
                or not isinstance(assign.targets[0].target, cst.Name):
            continue
        shape = _fallback_shape(assign.value, owner)
        if shape is not None and shape[0] in defaults:
            local = identifier(assign.targets[0].target)
            found[local] = Fallback(shape[1], defaults[shape[0]], index)
    if not found:
        return found
    bindings = _Bindings()
    body.visit(bindings)
    # That statement binds the local once and for all (a parameter of that name is what it holds
    # before); the parameter is bound nowhere else.
    return {local: fallback for local, fallback in found.items()
            if bindings.count.get(local, 0) == 1
            and bindings.count.get(fallback.param.name, 0) == (1 if local == fallback.param.name else 0)}


def _fallback_shape(value: cst.BaseExpression, owner: str) -> Optional[Tuple[str, str]]:
    """``p or self.A`` / ``p if p is not None else self.A``: (p, A)."""
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or) \
            and isinstance(value.left, cst.Name):
        attribute = _attribute(value.right, owner)
        return (identifier(value.left), attribute) if attribute is not None else None
    if isinstance(value, cst.IfExp) and isinstance(value.body, cst.Name):
        param = identifier(value.body)
        test = value.test
        attribute = _attribute(value.orelse, owner)
        if attribute is not None and isinstance(test, cst.Comparison) and len(test.comparisons) == 1 \
                and isinstance(test.comparisons[0].operator, cst.IsNot) and is_none(test.comparisons[0].comparator) \
                and isinstance(test.left, cst.Name) and identifier(test.left) == param:
            return param, attribute
    return None


def _none_defaults(params: cst.Parameters) -> Dict[str, Given]:
    """Parameters after ``self`` whose default is None: name -> (name, position among a call's
    arguments, -1 when keyword-only)."""
    return {name: switch.param for name, switch in switches(params, bound=True).items() if switch.none}


class Switch(NamedTuple):
    """A parameter whose default is a false literal (``watch_css=False``): a call that leaves it out
    (or passes None) leaves it false. ``none``: the default is None. A parameter without a
    default, when asked for (``required``): a call passing None, or a caller's own parameter left
    at None (``Forward.default``), leaves it None."""

    param: Given
    none: bool
    default_true: bool = False  # the default is a true literal instead (``verify=True``): a call passing False turns it off


def switches(params: cst.Parameters, bound: bool, required: bool = False) -> Dict[str, Switch]:
    """The parameters (after ``self`` when ``bound``) whose default is a false literal, by name;
    with ``required``, those without a default, and those defaulting to ``True``, too."""
    found: Dict[str, Switch] = {}
    positional = list(params.posonly_params) + list(params.params)
    numbered = [(index, param) for index, param in enumerate(positional[1:] if bound else positional)]
    for index, param in numbered + [(-1, param) for param in params.kwonly_params]:
        given = Given(identifier(param.name), index)
        falsy = falsy_literal(param.default) if param.default is not None else required or None
        if falsy is not None:
            found[given.name] = Switch(given, falsy)
        elif required and param.default is not None and is_true(param.default):
            found[given.name] = Switch(given, False, default_true=True)
    return found


class _Bindings(cst.CSTVisitor):
    """How often each name is bound anywhere in a body (nested scopes counted too: a miss, never
    a wrong silence); a comprehension's own targets are not the body's."""

    def __init__(self) -> None:
        super().__init__()
        self.count: Dict[str, int] = {}

    def _add(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.count[identifier(target)] = self.count.get(identifier(target), 0) + 1
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._add(element.value)
        elif isinstance(target, cst.StarredElement):
            self._add(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:  # with, except, import ... as
        self._add(node.name)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is None:
            first: cst.BaseExpression = node.name
            while isinstance(first, cst.Attribute):
                first = first.value
            self._add(first)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._add(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._add(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._add(item.name)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self._add(item.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._add(node.name)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._add(node.name)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._add(node.name)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._add(node.name)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._add(node.rest)


def falsy_literal(node: cst.BaseExpression) -> Optional[bool]:
    """A literal that is false: True for ``None``, False for ``False``, ``0``, ``""``, ``()``,
    ``[]``, ``{}``; None for anything else."""
    if is_none(node):
        return True
    if isinstance(node, cst.Name) and identifier(node) == "False":
        return False
    if isinstance(node, (cst.Integer, cst.Float)) and node.evaluated_value == 0:
        return False
    if isinstance(node, cst.SimpleString) and not node.evaluated_value:
        return False
    return False if empty(node) else None


def empty(node: cst.BaseExpression) -> bool:
    """``[]``, ``()``, ``{}``: a loop over it runs its body never."""
    return isinstance(node, (cst.List, cst.Tuple, cst.Dict)) and not node.elements


def _attribute(node: cst.BaseExpression, owner: str) -> Optional[str]:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and identifier(node.value) == owner:
        return identifier(node.attr)
    return None
