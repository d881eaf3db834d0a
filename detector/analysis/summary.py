"""What one module's analysis leaves behind: picklable, cacheable, free of libcst nodes."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Literal, NamedTuple, Optional, Tuple, cast

from detector.model import Finding


class Symbol(NamedTuple):
    """The symbolic value of an expression: ``Symbol("ref", "os.path.exists")`` is a reference
    to something with that dotted name, ``Symbol("inst", "requests.Session")`` an instance of
    that type. A tuple, so it hashes and compares by content and stays cheap to cache."""

    kind: Literal["ref", "inst"]
    name: str


Value = Optional[Symbol]  # None: unknown

# Joins the targets of a call on a name that may have one of several types (``A.read|B.read``).
UNION = "|"


# Steps of a dotted path: an element of what the path before them names, iterated or indexed
# (``pkg.C.paths.<iter>``); the project reads it from the annotation of the attribute or result.
ITER, INDEX = "<iter>", "<index>"
# What iterating and indexing a container gives, as dotted paths ("" unknown).
Elements = Tuple[str, str]
NO_ELEMENTS: Elements = ("", "")


def union_members(target: str) -> List[str]:
    """The targets a call on a name of several types is spelled with (one for any other call)."""
    return target.split(UNION)


class CallFlag(enum.IntFlag):
    """What the code around a recorded call (or attribute access) does with it."""

    AWAITED = 1  # ``await f()``: f is not a sync blocking call, or the code is broken anyway
    ITERATED = 2  # ``for x in f()``: a generator's body runs here
    WITH_ITEM = 4  # ``with f() as x:``: the fixer suggests rather than rewrites
    ACCESS = 8  # ``obj.attr`` read, not called: runs a getter when ``attr`` is a property
    STATEMENT = 16  # the call is a whole expression statement: its result is dropped
    OFFLOAD_ARG = 32  # evaluated as the function argument of an offload API: ``to_thread(f(x))``
    FAN_OUT = 64  # ``gather(*(to_thread(...) for ...))``: one thread job per item
    STORED = 128  # kept beyond the call (an attribute or item), or shut down in the same function
    # On ACCESS records (``obj.attr``): what the code does to the attribute's value.
    MUTATES = 256  # ``obj.attr[k] = v``, ``obj.attr += x``, ``obj.attr.append(x)``: changes the value in place
    ASSIGNS = 512  # ``obj.attr = v``: rebinds the attribute (no getter runs)
    HANDED_ON = 1024  # an argument of another call: ``json.load(open(p))`` (the callee uses the result)
    IN_LOOP = 2048  # in a ``for``/``while`` loop or a comprehension of its function: runs once per item
    # On ACCESS records: the attribute's value is itself an argument of the innermost recorded call
    # around it (``f(self.data)``, ``f([self.data])``), so that call receives the object, not a copy.
    ARGUMENT = 4096
    STATEMENT_FORM = 8192  # a statement, not a call: ``for line in f``, ``import x`` (shown as written, never rewritten)
    KEYWORDS = 16384  # passes keyword arguments (``k=v`` or ``**kw``): a rewrite without them needs functools.partial
    SUSPENDS = 32768  # a ``with`` item whose block awaits or yields: the block cannot move to a thread
    # In an ``if``/``else`` branch, an ``except`` handler, a ``case``, one side of ``x if t else y``
    # or the right of ``and``/``or``: not every call of its function runs it.
    CONDITIONAL = 65536
    # Evaluated on the loop as an argument an offload API hands to its thread along with the
    # function: ``to_thread(json.load, open(p))`` opens the file here, reads it there.
    THREAD_ARG = 131072
    # In the ``except KeyError:`` of ``try: return cache[key]``: runs only when nothing is cached
    # for the key (what it makes is then kept, the memoising idiom).
    ON_MISS = 262144
    # A method called on its caller's own ``self`` (``self.load()``): under a constructor, it runs
    # on the instance being built, whose attributes the construction decides.
    ON_SELF = 524288
    # Under ``if self.x is None:`` (or a module variable's) whose body binds ``self.x``: runs only
    # while nothing is kept there yet (the memoising idiom, like ``ON_MISS``).
    ON_UNSET = 1048576
    # In an ``except`` handler: what it calls runs while the thread handles an exception, which
    # ``sys.exc_info()`` there reads (in a worker thread too, when the handler runs there).
    IN_HANDLER = 2097152
    # The one argument of ``next(...)``: only its first item is taken (``next(os.walk(top))``).
    FIRST_ITEM = 4194304

    # IntFlag's own operators build every result through the enum machinery (several Python
    # calls, over a microsecond); a run tests and combines flags about a million times. Same
    # results, a dictionary look-up each.
    def __and__(self, other: int) -> CallFlag:
        return _flags(int.__and__(self, other))

    def __or__(self, other: int) -> CallFlag:
        return _flags(int.__or__(self, other))

    __rand__ = __and__
    __ror__ = __or__


_BY_VALUE: Dict[int, CallFlag] = {}  # the flags of each value met so far (a value's flags never change)


def _flags(value: int) -> CallFlag:
    found = _BY_VALUE.get(value)
    if found is None:
        if value is NotImplemented:  # the other operand is not an int: IntFlag's answer too
            return cast(CallFlag, value)
        found = _BY_VALUE[value] = CallFlag(value)
    return found


NO_FLAGS = CallFlag(0)
# The members by their short names, as the analysis modules import them.
AWAITED = CallFlag.AWAITED
ITERATED = CallFlag.ITERATED
WITH_ITEM = CallFlag.WITH_ITEM
ACCESS = CallFlag.ACCESS
STATEMENT = CallFlag.STATEMENT
OFFLOAD_ARG = CallFlag.OFFLOAD_ARG
THREAD_ARG = CallFlag.THREAD_ARG
ON_MISS = CallFlag.ON_MISS
ON_SELF = CallFlag.ON_SELF
ON_UNSET = CallFlag.ON_UNSET
IN_HANDLER = CallFlag.IN_HANDLER
FIRST_ITEM = CallFlag.FIRST_ITEM
FAN_OUT = CallFlag.FAN_OUT
STORED = CallFlag.STORED
MUTATES = CallFlag.MUTATES
ASSIGNS = CallFlag.ASSIGNS
HANDED_ON = CallFlag.HANDED_ON
IN_LOOP = CallFlag.IN_LOOP
ARGUMENT = CallFlag.ARGUMENT
STATEMENT_FORM = CallFlag.STATEMENT_FORM
KEYWORDS = CallFlag.KEYWORDS
SUSPENDS = CallFlag.SUSPENDS
CONDITIONAL = CallFlag.CONDITIONAL


@dataclass
class CallRecord:
    target: str  # dotted name the call invokes (catalogue name or project qualname)
    text: str  # the callee as written, e.g. ``requests.get``
    row: int
    col: int  # 1-based
    end_row: int
    end_col: int
    flags: CallFlag = NO_FLAGS
    # A loop-callback record: the framework whose registration it is. An import record: the
    # modules the statement imports, comma-separated (a project that loads them elsewhere at
    # module level has them in ``sys.modules`` already).
    detail: str = ""
    args: str = ""  # the arguments as written, on one line (``display.one_line``), for the advice
    # The platforms the call runs on, when an ``if`` on ``os.name`` / ``sys.platform`` decides it
    # (``platforms.Platforms.phrase``): "on Windows only", "everywhere but Windows".
    platform: str = ""
    # In the block of ``with opener(...) as name:``, a method of ``name`` or a call passed
    # ``name``: where ``opener`` is. The opener's record: ``name``.
    block_row: int = 0
    block_col: int = 0
    opened_as: str = ""
    # An offload call: the dotted name of the function it hands to the thread, when known.
    handed: str = ""
    # In the block of a sync ``with`` whose item may hold what other coroutines use (a lock,
    # ``redirect_stdout``): that item, as written. An ``await`` added there runs them meanwhile.
    held: str = ""
    # Between an ``if`` of a coroutine that tests shared state and the change of that state in
    # its body, with no ``await`` between (``atomicity``): that state, as written (``self.bots``).
    # An ``await`` added there lets another coroutine pass the same test.
    checked: str = ""
    # Replaced by a mock where the call is made (``with mock.patch("time.sleep"):``, or a
    # ``@mock.patch`` decorator on its function): the dotted names, canonical.
    mocked: Tuple[str, ...] = ()
    # The attribute of ``self`` an ``in-memory`` argument condition looks at
    # (``gzip.GzipFile(fileobj=self.buffer)``): in memory when the class binds it to a buffer.
    memory_attribute: str = ""
    # Module-level variables the call receives as they are (``dump(path, CACHE)``), by dotted
    # name (``pkg.mod.CACHE``; an imported one by the name of its definition).
    shares: List[str] = field(default_factory=list)
    # A method call on a local of a coroutine bound once, by ``name = <call>``, and used only to
    # call methods (``t = Translator(); t.translate(x)``): that call's target, a construction
    # when the project says so (an object nothing else reaches).
    made_by: str = ""

    def runs_mock_of(self, name: str) -> bool:
        """Whether what ``name`` (canonical) stands for is replaced by a mock where the call is made."""
        return any(name == mocked or name.startswith(mocked + ".") for mocked in self.mocked)


@dataclass
class Guard:
    """``if isinstance(param, T): ... else: call()``: a call of the function runs only when its
    argument for ``param`` is (``when``) or is not an instance of one of ``types``."""
    call: int  # index into FunctionSummary.calls
    position: int  # the parameter's position among the arguments a call passes (-1: keyword-only)
    name: str
    types: List[str] = field(default_factory=list)
    when: bool = True
    none_default: bool = False  # the parameter defaults to None: a call leaving it out passes None


class Given(NamedTuple):
    """A parameter whose argument, when a call passes one, stands in for an attribute
    (``css_path or self.CSS_PATH``): its name and position among a call's arguments (-1: keyword-only)."""
    name: str
    position: int


class Forward(NamedTuple):
    """An argument of a call in a sync function that is one of the function's own parameters,
    passed on as it is (``parse(photo, attach=True)`` in ``__init__(self, photo)``): the callee
    receives there what the function was passed, so its ``isinstance`` tests decide for it too."""
    call: int  # index into FunctionSummary.calls
    position: int  # the argument's position in that call (-1: passed by keyword)
    keyword: str
    param: Given  # the function's parameter
    # The callee was named through a module or a class (``files.parse``, ``C.method``), not an
    # instance: a plain method called so takes its instance as the first argument.
    through_name: bool = False
    default: str = ""  # ``NONE`` when the parameter defaults to None: what a call leaving it out passes on
    # What else the call passes: how many arguments by position, and the keywords it names.
    positional: int = 0
    keywords: Tuple[str, ...] = ()


class Spread(NamedTuple):
    """A call in a sync function that passes on the function's own ``**`` parameter as it came
    (``Config(app, **settings)`` in ``def connect(app, timeout=5, **settings)``, ``settings`` used
    nowhere else): the keywords a caller passes beyond the function's named parameters reach the
    callee, and those it leaves out the callee does not get either."""
    call: int  # index into FunctionSummary.calls
    params: Tuple[str, ...]  # the function's named parameters: a keyword binding one stays there
    # What else the call passes: how many arguments by position, and the keywords it names.
    positional: int = 0
    keywords: Tuple[str, ...] = ()


class Subject(enum.Enum):
    """What the test an ``AttributeNeed`` comes from reads."""

    ATTRIBUTE = "attribute"  # ``self.<name>``: the class constructed decides
    ENVIRONMENT = "environment"  # the environment variable ``<name>``, false when unset
    # The module-level variable ``<name>`` (dotted, ``pkg.constants.DRIVER``): false when the module
    # binds it from an environment variable the project never sets (``Project.environment_read``).
    VARIABLE = "variable"
    # A parameter whose default is a false literal (``watch_css=False``): a call that leaves it out
    # (``AttributeNeed.unless``, what the call site passes) skips the call.
    PARAMETER = "parameter"


class EnvironmentRead(NamedTuple):
    """A value read from the environment variable ``variable`` that is false when it is unset
    (``os.environ.get("X")``, ``os.getenv("X", "")``): None (``none``), or another false value."""

    variable: str
    none: bool


@dataclass
class AttributeNeed:
    """A call of a function runs only when what a test reads is not None (``none_only``) or else
    truthy (``attrtests``): ``self.<attribute>`` (a class constructed with it set false skips the
    call), or a value read from the environment (skipped unless the project sets the variable)."""
    call: int  # index into FunctionSummary.calls
    attribute: str  # the attribute's, environment variable's or module variable's name (``subject``)
    none_only: bool
    unless: Optional[Given] = None  # ... or the call passes this parameter
    subject: Subject = Subject.ATTRIBUTE
    falsy: bool = False  # a parameter's need: the call runs only when the parameter is false
    # A parameter's need when the body assigns the parameter: the ``isinstance`` tests around each
    # assignment (``Guard.call`` unused). The need holds for a call whose arguments fail one test
    # of every assignment (``guarded``); otherwise it is no need at all.
    rebound: List[List[Guard]] = field(default_factory=list)
    # An attribute's need that ``isinstance(self.<attribute>, types)`` be ``instance`` (empty: a
    # need of the other kinds). A construction decides it by what it passes (``ParamValue``).
    types: Tuple[str, ...] = ()
    instance: bool = True
    default_true: bool = False  # a parameter whose default is ``True``: a call leaving it out leaves it true

    def failed_by(self, value_is_none: bool) -> bool:
        """Whether the attribute bound to a false literal (``None`` or another) fails the need."""
        return value_is_none or not self.none_only


@dataclass
class FunctionSummary:
    qualname: str
    is_async: bool
    calls: List[CallRecord] = field(default_factory=list)
    is_generator: bool = False
    is_property: bool = False
    # ``loop.call_soon(cb)`` and friends: target = the callback, position = the registration.
    callbacks: List[CallRecord] = field(default_factory=list)
    # What calling it (or reading it, for a property) gives: a dotted path the project resolves
    # like a call target (``pathlib.Path``, ``pkg.mod.Settings``, ``pkg.mod.Store._base.__truediv__``),
    # from the return annotation or else from every ``return`` agreeing; "" when unknown.
    returns: str = ""
    # Decorated by something other than staticmethod/classmethod/property: the decorator may
    # make it a coroutine function or send it to a thread, so awaiting it proves nothing.
    decorated: bool = False
    # A decorator runs it in a worker thread (``@work(thread=True)``, ``@sync_to_async``): calling
    # it from a coroutine does not run its body on the loop.
    offloaded: bool = False
    guards: List[Guard] = field(default_factory=list)
    needs: List[AttributeNeed] = field(default_factory=list)
    decorators: Tuple[str, ...] = ()  # resolved names (``homeassistant.core.callback``)
    # The body is one ``try`` whose handler catches every exception and does not raise:
    # an offload of this function never ends with an exception.
    catches_all: bool = False
    # ``with x:`` items that are names, not calls (as written): the locks it holds, which no
    # call record shows.
    locks: List[str] = field(default_factory=list)
    # Module-level variables it changes, by dotted name: in place (``CACHE[k] = v``,
    # ``CACHE.append(x)``), or rebound under ``global``.
    global_changes: List[str] = field(default_factory=list)
    global_rebinds: List[str] = field(default_factory=list)
    elements: Elements = NO_ELEMENTS  # of what it returns (``-> list[Path]``)
    # Calls of its own parameters (``callback(data)``): the function runs what its caller hands it.
    param_calls: List["ParamCall"] = field(default_factory=list)
    forwards: List[Forward] = field(default_factory=list)
    spreads: List[Spread] = field(default_factory=list)
    # A property whose body is ``return <test>``: what the test needs of ``self``'s attributes to
    # come out true (``AttributeNeed.call`` unused), as ``if self.<property>:`` reads it.
    truthy: List[AttributeNeed] = field(default_factory=list)


@dataclass
class ParamCall:
    """A call of a parameter in the function's body: which argument of a call of the function it runs."""
    position: int  # the parameter's position among the arguments a call passes (-1: keyword-only)
    name: str
    call: CallRecord


@dataclass
class ClassSummary:
    qualname: str
    bases: List[Value] = field(default_factory=list)
    attrs: Dict[str, Value] = field(default_factory=dict)  # class and instance attributes, methods
    # ``self.client = client`` in ``__init__`` with ``client`` unannotated: attribute -> the
    # parameter's (position after ``self``, or -1 when keyword-only; name). Its type is what
    # every construction of the class in the project passes.
    from_params: Dict[str, Tuple[int, str]] = field(default_factory=dict)
    # Bound once in the class body to a false literal and never assigned on ``self`` by its
    # methods: attribute -> the literal is ``None`` (else ``False``, ``0``, ``""``, an empty display).
    falsy: Dict[str, bool] = field(default_factory=dict)
    on_instances: FrozenSet[str] = frozenset()  # attributes its methods assign on ``self``
    elements: Dict[str, Elements] = field(default_factory=dict)  # annotated containers: ``paths: list[Path]``
    customised: bool = False  # a class decorator or ``metaclass=`` (any class keyword) may change its methods
    # ``self.<attribute> = <parameter>`` in ``__init__``: attribute -> the parameter (``ParamValue``)
    param_values: Dict[str, "ParamValue"] = field(default_factory=dict)


@dataclass
class ParamValue:
    """``self.<attribute> = <parameter>`` in ``__init__``, the attribute's only binding in the class
    (no other on ``self``, none in the class body): while the constructor runs, the attribute is
    what the construction passes for the parameter, or the parameter's default."""
    position: int  # among the arguments after ``self``; -1 when keyword-only
    name: str
    default: str = ""  # the default's type (``dict``, ``pkg.Settings``); "" without one, or unknown
    # The default is a false literal: True for None, False for another (``attrtests.falsy_literal``).
    falsy: Optional[bool] = None


@dataclass
class Construction:
    """A call that may construct a project class, with what it passes: each argument as a
    dotted path the project resolves, ``NONE`` for a literal ``None``, ``TRUE`` for ``True``, ""
    when unknown."""
    target: str
    args: List[str] = field(default_factory=list)
    keywords: Dict[str, str] = field(default_factory=dict)
    complete: bool = True  # False: ``*args`` or ``**kwargs`` hide what is passed
    row: int = 0  # where the call is, for a call recorded in a function (0: at module level)
    col: int = 0
    # The arguments that are references, not values (``self.on_data``, a function's name): by
    # position, and by keyword. A callee that calls its parameter runs what they name.
    ref_args: List[int] = field(default_factory=list)
    ref_keywords: List[str] = field(default_factory=list)

    def argument(self, position: int, name: str) -> str:
        """What the call passes for a parameter at ``position`` (-1: keyword-only) named ``name``."""
        return self.args[position] if 0 <= position < len(self.args) else self.keywords.get(name, "")

    def reference(self, position: int, name: str) -> str:
        """The dotted name of what the call passes for that parameter, when it passes a reference."""
        by_position = 0 <= position < len(self.args)
        if (position in self.ref_args) if by_position else (name in self.ref_keywords):
            return self.argument(position, name)
        return ""

    @property
    def bare(self) -> bool:
        """``Screen()``: no argument at all."""
        return self.complete and not self.args and not self.keywords

    def passes_true(self, param: Optional[Given]) -> bool:
        """Whether the call passes a literal ``True`` for ``param``."""
        return param is not None and self.argument(param.position, param.name) == TRUE

    def passes_object(self, param: Optional[Given]) -> bool:
        """Whether the call passes something known for ``param`` that is not None (``True``, an
        instance of a known type, a function)."""
        return param is not None and self.argument(param.position, param.name) not in ("", NONE)

    def skips(self, need: AttributeNeed) -> bool:
        """Whether what the call passes rules out code under a parameter's ``need``."""
        given = self.given(need.unless)
        if need.default_true:  # left out, the parameter is True
            if need.falsy:
                return given is None or given == TRUE or (need.none_only and given not in ("", NONE))
            return given in (NONE, FALSE)
        if need.falsy:
            return self.passes_object(need.unless) if need.none_only else self.passes_true(need.unless)
        return self.leaves_out(need.unless) or (given == FALSE and not need.none_only)  # False is not None

    def given(self, param: Optional[Given]) -> Optional[str]:
        """What the call passes for ``param``: None when it leaves it out, "" when unknown."""
        if param is None or not self.complete:
            return ""
        if 0 <= param.position < len(self.args) or param.name in self.keywords:
            return self.argument(param.position, param.name)
        return None

    def leaves_out(self, param: Optional[Given]) -> bool:
        """Whether the call surely leaves ``param`` at its default None (passes nothing for it, or
        a literal None); True when there is no such parameter. ``**kwargs`` or ``*args``: unknown."""
        given = self.given(param) if param is not None else None
        return given is None or given == NONE


NONE = "None"
NONE_TYPE = "NoneType"  # the type of ``None`` (``ParamValue.default``)
TRUE = "True"  # a literal ``True`` passed (``Construction``)
FALSE = "False"  # a literal ``False`` passed (``Construction``)


@dataclass
class ModuleSummary:
    path: str
    module: str
    functions: List[FunctionSummary] = field(default_factory=list)
    classes: Dict[str, ClassSummary] = field(default_factory=dict)
    bindings: Dict[str, Value] = field(default_factory=dict)  # module-level names
    noqa: Dict[int, Optional[FrozenSet[str]]] = field(default_factory=dict)  # None: blanket noqa
    skip_file: bool = False
    diagnostics: List[Finding] = field(default_factory=list)  # BLK9xx: the file could not be analysed
    # Which async libraries the module imports (asyncio, trio, anyio: any import form, any
    # scope), and whose event loop it starts (``asyncio.run``, ``trio.run``, ...): the facts
    # that decide which library a fix may spell.
    libraries: FrozenSet[str] = frozenset()
    runs: FrozenSet[str] = frozenset()
    constructions: List[Construction] = field(default_factory=list)
    imports: FrozenSet[str] = frozenset()  # modules imported at module level
    elements: Dict[str, Elements] = field(default_factory=dict)  # annotated module-level containers
    # Module-level variables bound from the environment with a false default (``DRIVER =
    # os.environ.get("APP_DRIVER")``), and the environment variables the module sets
    # (``os.environ["X"] = v``, ``setdefault``, ``putenv``, ``monkeypatch.setenv``).
    environment: Dict[str, EnvironmentRead] = field(default_factory=dict)
    environment_set: FrozenSet[str] = frozenset()
    # Catalogued calls that load a process-wide database (``LoadedOnce.after``) the module makes
    # whenever it is imported: at module level, outside any ``if``.
    warmed: FrozenSet[str] = frozenset()
    # What the module calls whenever it is imported (at module level, outside any ``if``), as
    # written (``get_logger``): a memo those calls fill is filled before any coroutine runs.
    called_at_import: FrozenSet[str] = frozenset()


def packages(name: str) -> List[str]:
    """Module ``a.b.c`` and the packages an import of it runs first: ``a``, ``a.b``, ``a.b.c``."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def short_name(function: FunctionSummary, module: ModuleSummary) -> str:
    """``pkg.mod.Client.fetch`` -> ``Client.fetch``."""
    prefix = module.module + "."
    return function.qualname[len(prefix):] if function.qualname.startswith(prefix) else function.qualname
