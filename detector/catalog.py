"""The blocking-call catalogue: ``rules/*.toml`` (plus user extensions) loaded into matchers.

Schema of a family file (user ``[[tool.offload.blocking-calls]]`` entries use the ``[[rule]]`` part):

    family = "files"                  # one file per family
    models = ["yaml"]                 # installed packages (or subpackages) the entries describe whole: never read
    [[rule]]
    code = "BLK130"                   # BLK + 3 digits
    name = "blocking-open"            # kebab-case, unique
    summary = "open() in an async function"
    calls = ["open", "io.open"]       # qualified names; "Type.*" matches every method of Type
    exclude = ["redis.Redis.pipeline"]  # names a wildcard must not match
    lazy = ["os.scandir"]             # calls whose result is lazy: never wrapped by --fix
    remedy = "to_thread"              # to_thread | asyncio.sleep | none
    fix = "unsafe"                    # safe | unsafe | none
    alternative = "aiofiles"          # async library to suggest, optional
    peer-codes = ["ASYNC230"]         # flake8-async / ruff codes whose noqa also covers this rule
    message = "`{call}()` ..."        # the finding's message: a template of named fields (logic rules)
    opt-in = false                    # reported only when selected by its full code
    docs = "..."                      # What it does / Why is this bad / Example / Use instead / Fix safety;
                                      # a line "{invalid[0]}" (or valid[i], fixed[i]) shows that example
    [rule.alternatives]               # catalogue only, per library: the longest dotted prefix of a call's
    "redis" = "redis.asyncio"         # name picks what it suggests instead of `alternative` ("" nothing).
    "sentry_sdk" = ""                 # Each names some calls; without `alternative`, together they name all
    [rule.examples]                   # small modules; tests check each, ``offload rule`` shows them
    invalid = ["..."]                 # reported by this rule (the first is the docs' Example)
    valid = ["..."]                   # not reported by this rule
    fixed = ["..."]                   # what --fix writes from the first invalid one (docs' Use instead)
    pyproject = "..."                 # the pyproject.toml the examples are checked with, if they need one
    [returns]                         # call -> type of its result, so methods on it resolve
    "sqlite3.connect" = "sqlite3.Connection"
    [attributes]                      # attribute of a typed value -> its type ("Type.*" allowed)
    "pathlib.Path.parent" = "pathlib.Path"
    [aliases]                         # another spelling -> the canonical name
    "pathlib.PosixPath" = "pathlib.Path"
    [[on-loop]]                       # sync code a framework runs on the loop (BLK304)
    framework = "Tornado"
    subclass-of = ["tornado.web.RequestHandler"]
    methods = ["get", "post"]
    decorators = []                   # e.g. ["homeassistant.core.callback"]
    callbacks = { ".call_soon" = 0 }  # registration -> index of the callback argument, or
                                      # { position = 2, keyword = "handlers" } (a list there: each one)
    advice = "make it `async def` and offload the blocking work to a thread"
    [elements]                        # iterating a Type gives instances of another
    "os.ScandirIterator" = "os.DirEntry"
    [arguments]                       # calls whose arguments decide whether they block
    "select.select" = { position = 3, keyword = "timeout", not-zero = true }  # 0 polls
    "json.load" = { position = 0, keyword = "fp", type = "io.IOBase" }       # only on a real file
    "fcntl.flock" = { position = 1, keyword = "operation", unless = "LOCK_NB" }
    "pandas.read_csv" = { position = 0, keyword = "filepath_or_buffer", path = true }  # a path or a file
    "zipfile.ZipFile" = { position = 0, keyword = "file", in-memory = "zipfile.ZipFile.<memory>" }  # no I/O on a buffer
"""
from __future__ import annotations

import importlib
import json
import re
import string
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, NamedTuple, Optional, Set, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CODE_RE = re.compile(r"^BLK\d{3}$")
# await and pass-function are the BLK3xx rewrites (add ``await``; ``to_thread(f(x))`` -> ``to_thread(f, x)``).
REMEDIES = ("to_thread", "asyncio.sleep", "await", "pass-function", "none")
FIX_KINDS = ("safe", "unsafe", "none")
# Keys a user ``blocking-calls`` entry may give; the shipped catalogue also has CATALOG_KEYS.
RULE_KEYS = {
    "code", "name", "summary", "calls", "exclude", "lazy", "remedy", "fix",
    "alternative", "peer-codes", "docs", "family",
}
CATALOG_KEYS = {"message", "opt-in", "examples", "lazy-before", "alternatives", "loaded-once"}
TARGET_RE = re.compile(r"^py3(\d+)$")
EXAMPLE_KEYS = ("invalid", "valid", "fixed")
# A docs line that shows an example: ``{invalid[0]}``, ``{valid[1]}``, ``{fixed[0]}``.
EXAMPLE_REF = re.compile(r"^\{(invalid|valid|fixed)\[(\d+)\]\}$", re.M)
# The message of a catalogued (or configured) blocking call: ``advice`` says how to move it off the
# loop; ``platform`` is " (it blocks on Windows only)" for a call under a platform test, else empty.
CALL_MESSAGE = "blocking call `{call}()` in async function `{function}`{platform}; {advice}"
# The message of a statement that blocks (``for line in f``, ``import x``): never a call.
STATEMENT_MESSAGE = "blocking `{statement}` in async function `{function}`; {advice}"
FILE_KEYS = {"family", "title", "models", "rule", "returns", "attributes", "aliases", "arguments", "elements",
             "on-loop"}
ON_LOOP_KEYS = {"framework", "subclass-of", "methods", "decorators", "callbacks", "advice"}
DEFAULT_LOOP_ADVICE = "move the blocking work to a thread"
# The highest argument index a callback registration may name: more than any real signature
# has, far below what TOML allows (a 20-digit number is a typo, not a position).
MAX_ARGUMENT_INDEX = 255
ARGUMENT_KEYS = {"position", "keyword", "type", "not-zero", "unless", "path", "in-memory"}
# User entries without a code join this rule.
CUSTOM_CODE = "BLK190"
# In-memory streams: an ``in-memory`` argument condition holds for an instance of one.
IN_MEMORY = ("io.BytesIO", "io.StringIO")


class CatalogError(ValueError):
    """A catalogue or user extension that does not follow the schema."""


@dataclass(frozen=True)
class Examples:
    """Small modules that show a rule: each is checked by the test suite."""

    invalid: Tuple[str, ...] = ()
    valid: Tuple[str, ...] = ()
    fixed: Tuple[str, ...] = ()
    pyproject: str = ""  # the pyproject.toml they are checked with, if they need one (configured calls)


@dataclass(frozen=True)
class LoadedOnce:
    """Calls that read a process-wide database only until it is loaded (``mimetypes.guess_type``),
    and the calls that load it (``mimetypes.add_type``): once a module has made one of ``after``
    while it was imported, its ``calls`` read no file."""

    calls: FrozenSet[str]
    after: FrozenSet[str]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    family: str
    summary: str
    calls: Tuple[str, ...]
    exclude: Tuple[str, ...] = ()
    lazy: Tuple[str, ...] = ()
    # Lazy only on Pythons below a version: ``(("pathlib.Path.iterdir", "py313"),)``.
    lazy_before: Tuple[Tuple[str, str], ...] = ()
    remedy: str = "to_thread"
    fix: str = "unsafe"
    alternative: str = ""
    # Per library (dotted prefix of a call's name -> what to suggest, "" nothing), longest first.
    alternatives: Tuple[Tuple[str, str], ...] = ()
    peer_codes: Tuple[str, ...] = ()
    docs: str = ""
    message: str = CALL_MESSAGE
    opt_in: bool = False
    examples: Examples = Examples()
    loaded_once: Tuple[LoadedOnce, ...] = ()

    def is_lazy(self, api: str, target_version: str) -> bool:
        """Whether ``api``'s result is lazy on the lowest Python the project runs on."""
        before = dict(self.lazy_before).get(api)
        return api in self.lazy and (before is None or _minor(target_version) < _minor(before))

    def alternative_for(self, api: str) -> str:
        """The async alternative to suggest for a call of ``api`` (a canonical name): the one for
        its library, else the rule's own."""
        for prefix, alternative in self.alternatives:
            if _within(api, prefix):
                return alternative
        return self.alternative

    def render(self, **fields: str) -> str:
        """The finding's message: the template with its named fields filled in."""
        return self.message.format_map(fields)

    def example(self, kind: str, index: int) -> str:
        """One of the rule's examples: ``kind`` is invalid, valid or fixed."""
        snippets: Tuple[str, ...] = getattr(self.examples, kind)
        return snippets[index]


@dataclass(frozen=True)
class ArgumentCondition:
    """One argument that decides whether a catalogued call blocks, by position and keyword.

    ``not_zero``: a literal 0 there polls instead of waiting (``select.select(r, w, x, 0)``);
    a missing argument waits forever, so it stays a finding. ``type``: only an argument of that
    type blocks (``json.load`` on a file object, not on ``io.StringIO``); a missing or unknown
    one is silence. ``unless``: a flag named in the argument, or a string literal equal to it,
    makes it non-blocking (``LOCK_NB``, sqlite3's ``":memory:"``).
    ``path``: only an argument that names a file blocks, a path (a string, ``pathlib.Path``) or a
    file object (``pandas.read_csv("a.csv")``, not ``pandas.read_csv(io.StringIO(text))``); a
    missing or unknown one is silence. ``in_memory``: an in-memory stream there (``io.BytesIO``,
    ``io.StringIO``) makes the call do no I/O (``zipfile.ZipFile(io.BytesIO(), "w")``); anything
    else blocks. ``memory_type``: what such a call then gives (``zipfile.ZipFile.<memory>``, whose
    methods the catalogue lists apart); written ``in-memory = "TYPE"`` (``true``: what it always gives).
    """

    position: Optional[int]
    keyword: str
    type: str = ""
    not_zero: bool = False
    unless: str = ""
    path: bool = False
    in_memory: bool = False
    memory_type: str = ""


class CallbackSlot(NamedTuple):
    """Where a registration takes its callback: a positional index, a keyword, or both. A list or
    tuple written there hands over each of its elements (``handlers=[on_change]``)."""

    position: Optional[int]
    keyword: str = ""


@dataclass(frozen=True)
class LoopEntry:
    """Sync code a framework runs on the event loop, checked like an async body (BLK304).

    ``methods`` of classes deriving from ``subclass_of`` (asyncio protocols, Tornado
    handlers); functions decorated with one of ``decorators`` (Home Assistant's
    ``@callback``); callbacks handed to ``callbacks`` registrations, where the callback
    argument is (``CallbackSlot``): a dotted name, or ``.name`` for that method on any receiver
    (``loop.call_soon``).
    """

    framework: str
    subclass_of: Tuple[str, ...] = ()
    methods: Tuple[str, ...] = ()
    decorators: Tuple[str, ...] = ()
    callbacks: Tuple[Tuple[str, CallbackSlot], ...] = ()
    advice: str = DEFAULT_LOOP_ADVICE  # what the finding tells to do


@dataclass
class Catalog:
    rules: Dict[str, Rule] = field(default_factory=dict)
    returns: Dict[str, str] = field(default_factory=dict)
    attributes: Dict[str, str] = field(default_factory=dict)
    aliases: Dict[str, str] = field(default_factory=dict)
    # Configured offload wrappers (``hass.async_add_executor_job``): they run their first argument in a thread.
    wrappers: Tuple[str, ...] = ()
    arguments: Dict[str, ArgumentCondition] = field(default_factory=dict)
    elements: Dict[str, str] = field(default_factory=dict)  # iterating a Type gives these
    on_loop: Tuple[LoopEntry, ...] = ()
    # Installed packages whose blocking API the entries describe whole: never read from site-packages.
    models: FrozenSet[str] = frozenset()
    # Derived lookups, rebuilt by ``_index``.
    _exact: Dict[str, str] = field(default_factory=dict, repr=False)
    _wildcard: Dict[str, str] = field(default_factory=dict, repr=False)
    _excluded: FrozenSet[str] = field(default_factory=frozenset, repr=False)
    _callback_methods: FrozenSet[str] = field(default_factory=frozenset, repr=False)
    _alias_roots: FrozenSet[str] = field(default_factory=frozenset, repr=False)  # first parts of the aliases
    _loaded_once: Dict[str, FrozenSet[str]] = field(default_factory=dict, repr=False)  # call -> what loads it
    warm_ups: FrozenSet[str] = field(default_factory=frozenset, repr=False)  # every LoadedOnce.after call

    def canonical(self, qualname: str) -> str:
        """Map an alias prefix to its canonical spelling (``pathlib.PosixPath.x`` -> ``pathlib.Path.x``)."""
        if qualname.partition(".")[0] not in self._alias_roots:
            return qualname  # no alias starts like it: most names, asked for again and again
        head = qualname
        tail = ""
        while True:
            target = self.aliases.get(head)
            if target is not None:
                return target + tail
            dot = head.rfind(".")
            if dot < 0:
                return qualname
            tail = head[dot:] + tail
            head = head[:dot]

    def match(self, qualname: str) -> Optional[Rule]:
        """The rule a call to ``qualname`` breaks, if any."""
        qualname = self.canonical(qualname)
        code = self._exact.get(qualname)
        if code is None and qualname not in self._excluded:
            owner, _, method = qualname.rpartition(".")
            if owner and not method.startswith("_"):
                code = self._wildcard.get(owner)
        return self.rules[code] if code else None

    def result_type(self, qualname: str) -> Optional[str]:
        """The type of ``qualname(...)``'s result, when the catalogue knows it."""
        return self.returns.get(self.canonical(qualname))

    def attribute_type(self, owner_type: str, attr: str) -> Optional[str]:
        key = self.canonical(f"{owner_type}.{attr}")
        found = self.attributes.get(key)
        # A wildcard (``MongoClient.*`` -> Database) must not hide a method the catalogue knows.
        if found is None and not attr.startswith("_") and key not in self.returns and self.match(key) is None:
            found = self.attributes.get(f"{self.canonical(owner_type)}.*")
        return found

    def argument_condition(self, qualname: str) -> Optional[ArgumentCondition]:
        """The argument that decides whether a call to ``qualname`` blocks, if one does."""
        return self.arguments.get(self.canonical(qualname)) if self.arguments else None

    def callback_argument(self, target: str) -> Optional[Tuple[CallbackSlot, str]]:
        """``(where the callback argument is, framework)`` when a call to ``target`` registers
        a callback the event loop runs."""
        name = self.canonical(target)
        method = "." + name.rpartition(".")[2]
        for entry in self.on_loop:
            for registration, index in entry.callbacks:
                if registration == name or registration == method:
                    return index, entry.framework
        return None

    def callback_method_names(self) -> FrozenSet[str]:
        """Registration methods matched on any receiver (``.call_soon``): kept for unknown receivers."""
        return self._callback_methods

    def element_type(self, owner_type: str) -> Optional[str]:
        """The type of what iterating an instance of ``owner_type`` gives (``os.DirEntry``)."""
        return self.elements.get(self.canonical(owner_type))


    def _index(self) -> "Catalog":
        exact: Dict[str, str] = {}
        wildcard: Dict[str, str] = {}
        excluded: Set[str] = set()
        for rule in self.rules.values():
            for call in rule.calls:
                if call.endswith(".*"):
                    wildcard[call[:-2]] = rule.code
                else:
                    exact[call] = rule.code
            excluded.update(rule.exclude)
        self._exact, self._wildcard, self._excluded = exact, wildcard, frozenset(excluded)
        self._callback_methods = frozenset(
            name[1:] for entry in self.on_loop for name, _ in entry.callbacks if name.startswith("."))
        self._alias_roots = frozenset(name.partition(".")[0] for name in self.aliases)
        groups = [group for rule in self.rules.values() for group in rule.loaded_once]
        self._loaded_once = {call: group.after for group in groups for call in group.calls}
        self.warm_ups = frozenset().union(*(group.after for group in groups))
        return self

    def loaded_by(self, name: str) -> FrozenSet[str]:
        """The calls that load what the catalogued call ``name`` would read first (``LoadedOnce``)."""
        return self._loaded_once.get(name, frozenset())


def _as_str_list(value: object, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _as_loaded_once(value: object, where: str) -> Tuple[LoadedOnce, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) and set(v) == {"calls", "after"} for v in value):
        raise CatalogError(f"{where}: expected an array of tables with 'calls' and 'after'")
    return tuple(LoadedOnce(frozenset(_as_str_list(group["calls"], f"{where}.calls")),
                            frozenset(_as_str_list(group["after"], f"{where}.after"))) for group in value)


def _as_str_table(value: object, where: str) -> Dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise CatalogError(f"{where}: expected a table of strings")
    return dict(value)


def template_fields(template: str, where: str) -> Tuple[str, ...]:
    """The named fields of a message template; anything but plain ``{name}`` is refused."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise CatalogError(f"{where}: message template: {exc}") from None
    fields = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise CatalogError(f"{where}: message template field {{{name}}} must be a plain {{name}}")
        fields.append(name)
    return tuple(fields)


def _as_examples(value: object, where: str) -> Examples:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: expected a table")
    unknown = set(value) - set(EXAMPLE_KEYS) - {"pyproject"}
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    lists = {key: _as_str_list(value[key], f"{where}.{key}") for key in EXAMPLE_KEYS if key in value}
    pyproject = value.get("pyproject", "")
    if not isinstance(pyproject, str):
        raise CatalogError(f"{where}.pyproject: expected a string")
    if len(lists.get("fixed", ())) > 1 or (lists.get("fixed") and not lists.get("invalid")):
        raise CatalogError(f"{where}: 'fixed' is one example: what --fix makes of the first 'invalid' one")
    return Examples(pyproject=pyproject, **lists)


def parse_rule(data: Mapping[str, Any], family: str, where: str, defaults: Optional[Rule] = None,
               keys: FrozenSet[str] = frozenset(RULE_KEYS | CATALOG_KEYS)) -> Rule:
    """Validate one ``[[rule]]`` table; ``defaults`` supplies fields a user entry may omit."""
    unknown = set(data) - keys
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values: Dict[str, Any] = {}  # Rule's fields, each checked against its type below
    if "opt-in" in data:
        if not isinstance(data["opt-in"], bool):
            raise CatalogError(f"{where}: 'opt-in' must be true or false")
        values["opt_in"] = data["opt-in"]
    if "examples" in data:
        values["examples"] = _as_examples(data["examples"], f"{where}.examples")
    if "lazy-before" in data:
        table = data["lazy-before"]
        if not isinstance(table, Mapping) or not all(isinstance(v, str) and TARGET_RE.match(v) for v in table.values()):
            raise CatalogError(f"{where}.lazy-before: each value must be a target version such as \"py313\"")
        values["lazy_before"] = tuple(sorted(table.items()))
    for key in ("code", "name", "summary", "remedy", "fix", "alternative", "docs", "family", "message"):
        if key in data:
            if not isinstance(data[key], str):
                raise CatalogError(f"{where}: '{key}' must be a string")
            values[key] = data[key]
    for key in ("calls", "exclude", "lazy", "peer-codes"):
        if key in data:
            values[key.replace("-", "_")] = _as_str_list(data[key], f"{where}.{key}")
    if "loaded-once" in data:
        values["loaded_once"] = _as_loaded_once(data["loaded-once"], f"{where}.loaded-once")
    if "alternatives" in data:
        table = _as_str_table(data["alternatives"], f"{where}.alternatives")
        values["alternatives"] = tuple(sorted(table.items(), key=lambda item: -len(item[0])))
    if defaults is not None:
        rule = replace(defaults, **values)
    else:
        missing = {"code", "name", "summary", "calls"} - set(values)
        if missing:
            raise CatalogError(f"{where}: missing key(s) {', '.join(sorted(missing))}")
        values.setdefault("family", family)
        rule = Rule(**values)
    if not CODE_RE.match(rule.code):
        raise CatalogError(f"{where}: code {rule.code!r} is not BLK followed by three digits")
    if rule.remedy not in REMEDIES:
        raise CatalogError(f"{where}: remedy {rule.remedy!r} is not one of {', '.join(REMEDIES)}")
    if rule.fix not in FIX_KINDS:
        raise CatalogError(f"{where}: fix {rule.fix!r} is not one of {', '.join(FIX_KINDS)}")
    stray = set(rule.lazy) - set(rule.calls)
    if stray:
        raise CatalogError(f"{where}: lazy names not in calls: {', '.join(sorted(stray))}")
    stray = {name for group in rule.loaded_once for name in group.calls} - set(rule.calls)
    if stray:
        raise CatalogError(f"{where}: loaded-once calls not in calls: {', '.join(sorted(stray))}")
    stray = {name for name, _ in rule.lazy_before} - set(rule.lazy)
    if stray:
        raise CatalogError(f"{where}: lazy-before names not in lazy: {', '.join(sorted(stray))}")
    if "alternatives" in data:
        _check_alternatives(rule, where)
    template_fields(rule.message, where)
    for found in EXAMPLE_REF.finditer(rule.docs):
        if int(found[2]) >= len(getattr(rule.examples, found[1])):
            raise CatalogError(f"{where}: docs show {found[0]}, which is not one of the rule's examples")
    return rule


def _within(name: str, prefix: str) -> bool:
    """Whether ``prefix`` is ``name`` or one of its dotted prefixes (``redis`` of ``redis.Redis.get``)."""
    return name == prefix or name.startswith(prefix + ".")


def _check_alternatives(rule: Rule, where: str) -> None:
    """Each library an alternative is given for has calls in the rule; without a rule-wide
    ``alternative``, every call has its library's (a call added later must say what it gets)."""
    names = [call[:-2] if call.endswith(".*") else call for call in rule.calls]
    wildcards = [call[:-2] for call in rule.calls if call.endswith(".*")]
    for prefix, _ in rule.alternatives:
        if not all(part.isidentifier() for part in prefix.split(".")):
            raise CatalogError(f"{where}.alternatives: {prefix!r} is not a dotted name")
        if not any(_within(name, prefix) for name in names) and not any(_within(prefix, w) for w in wildcards):
            raise CatalogError(f"{where}.alternatives: {prefix!r} is the name of none of the rule's calls")
    if not rule.alternative:
        uncovered = [call for call, name in zip(rule.calls, names)
                     if not any(_within(name, prefix) for prefix, _ in rule.alternatives)]
        if uncovered:
            raise CatalogError(f"{where}.alternatives: no entry for {', '.join(uncovered)} "
                               "(and no rule-wide 'alternative'): give its library's alternative, or \"\" for none")


def _minor(target_version: str) -> int:
    """``"py313"`` -> 13."""
    found = TARGET_RE.match(target_version)
    return int(found[1]) if found else 0


def _checked_table(value: object, keys: Iterable[str], where: str) -> Mapping[str, object]:
    """``value`` as a table whose keys are all among ``keys``."""
    if not isinstance(value, Mapping):
        raise CatalogError(f"{where}: expected a table")
    unknown = set(value) - set(keys)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return value


def _as_condition(data: object, where: str) -> ArgumentCondition:
    value = _checked_table(data, ARGUMENT_KEYS, where)
    position = value.get("position")
    keyword = value.get("keyword", "")
    if position is not None and not (isinstance(position, int) and _is_index(position)):
        raise CatalogError(f"{where}: 'position' must be an argument index from 0 to {MAX_ARGUMENT_INDEX}")
    if not isinstance(keyword, str) or (position is None and not keyword):
        raise CatalogError(f"{where}: 'keyword' must be a string (required without 'position')")
    kind, unless, not_zero = value.get("type", ""), value.get("unless", ""), value.get("not-zero", False)
    path, in_memory = value.get("path", False), value.get("in-memory", False)
    if not isinstance(kind, str) or not isinstance(unless, str) or type(not_zero) is not bool or type(path) is not bool:
        raise CatalogError(f"{where}: 'type' and 'unless' must be strings, 'not-zero' and 'path' booleans")
    if not (in_memory is True or in_memory is False or isinstance(in_memory, str) and in_memory):
        raise CatalogError(f"{where}: 'in-memory' must be true or the type the call then gives")
    if not (kind or unless or not_zero or path or in_memory):
        raise CatalogError(f"{where}: one of 'type', 'unless', 'not-zero', 'path' or 'in-memory' is required")
    memory_type = in_memory if isinstance(in_memory, str) else ""
    return ArgumentCondition(position, keyword, kind, not_zero, unless, path, bool(in_memory), memory_type)


def parse_on_loop(data: object, where: str) -> LoopEntry:
    """Validate one ``[[on-loop]]`` table (the catalogue's, or a user's ``[[tool.offload.on-loop]]``)."""
    data = _checked_table(data, ON_LOOP_KEYS, where)
    framework = data.get("framework")
    if not isinstance(framework, str) or not framework:
        raise CatalogError(f"{where}: 'framework' (the name findings show) must be a non-empty string")
    lists = {key: _as_str_list(data[key], f"{where}.{key}") if key in data else ()
             for key in ("subclass-of", "methods", "decorators")}
    if bool(lists["subclass-of"]) != bool(lists["methods"]):
        raise CatalogError(f"{where}: 'subclass-of' and 'methods' go together")
    callbacks = data.get("callbacks", {})
    if not isinstance(callbacks, Mapping) or not all(isinstance(k, str) and k.strip(".") for k in callbacks):
        raise CatalogError(f"{where}.callbacks: expected a table of call name = index of the callback argument")
    slots = {name: _as_slot(value, f"{where}.callbacks.{name}") for name, value in callbacks.items()}
    if not (lists["methods"] or lists["decorators"] or callbacks):
        raise CatalogError(f"{where}: one of 'subclass-of' with 'methods', 'decorators' or 'callbacks' is required")
    advice = data.get("advice", DEFAULT_LOOP_ADVICE)
    if not isinstance(advice, str) or not advice:
        raise CatalogError(f"{where}: 'advice' must be a non-empty string")
    return LoopEntry(framework, lists["subclass-of"], lists["methods"], lists["decorators"],
                     tuple(sorted(slots.items())), advice)


def _as_slot(value: object, where: str) -> CallbackSlot:
    """``0`` or ``{ position = 2, keyword = "handlers" }``: where a registration's callback is."""
    if isinstance(value, int) and _is_index(value):
        return CallbackSlot(value)
    if isinstance(value, Mapping) and value and set(value) <= {"position", "keyword"}:
        position, keyword = value.get("position"), value.get("keyword", "")
        if (position is None or (isinstance(position, int) and _is_index(position))) and isinstance(keyword, str) \
                and (position is not None or keyword):
            return CallbackSlot(position, keyword)
    raise CatalogError(f"{where}: expected a table of call name = index of the callback argument "
                       f"(0 to {MAX_ARGUMENT_INDEX}), or of call name = {{ position = index, keyword = name }}")


def _is_index(value: int) -> bool:
    """An argument's position: not a bool, and one a call can have."""
    return type(value) is int and 0 <= value <= MAX_ARGUMENT_INDEX


def extend_on_loop(catalog: Catalog, entries: Iterable[object], where: str) -> Catalog:
    """Add user ``on-loop`` entries (places where a framework runs sync code on the loop)."""
    added = tuple(parse_on_loop(entry, f"{where}[{i}]") for i, entry in enumerate(entries))
    return replace(catalog, on_loop=catalog.on_loop + added)._index()


def _merge_file(catalog: Catalog, data: Mapping[str, Any], where: str) -> None:
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    family = data.get("family") or Path(where).stem
    catalog.models |= frozenset(_as_str_list(data.get("models", []), f"{where}: models"))
    for i, entry in enumerate(data.get("rule", [])):
        rule = parse_rule(entry, family, f"{where}: rule[{i}]")
        if rule.code in catalog.rules:
            raise CatalogError(f"{where}: duplicate rule code {rule.code}")
        catalog.rules[rule.code] = rule
    for key in ("returns", "attributes", "aliases", "elements"):
        getattr(catalog, key).update(_as_str_table(data.get(key, {}), f"{where}: {key}"))
    entries = data.get("on-loop", [])
    if not isinstance(entries, list):
        raise CatalogError(f"{where}: on-loop: expected an array of tables ([[on-loop]])")
    catalog.on_loop += tuple(parse_on_loop(entry, f"{where}: on-loop[{i}]") for i, entry in enumerate(entries))
    arguments = data.get("arguments", {})
    if not isinstance(arguments, dict):
        raise CatalogError(f"{where}: arguments: expected a table")
    for name, value in arguments.items():
        catalog.arguments[name] = _as_condition(value, f"{where}: arguments.{name}")


def rules_dir() -> Path:
    """Where the shipped catalogue lives: inside the installed package, or beside it in a checkout."""
    try:
        # A package only when installed (or mapped there by an editable install): imported by name.
        shipped = importlib.import_module("detector.rules")
        return Path(next(iter(shipped.__path__)))
    except (ImportError, StopIteration):
        return Path(__file__).resolve().parent.parent / "rules"


def load_builtin(directory: Optional[Path] = None) -> Catalog:
    directory = directory or rules_dir()
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"no catalogue files found in {directory}")
    catalog = Catalog()
    for path in files:
        with open(path, "rb") as handle:
            try:
                data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as exc:
                raise CatalogError(f"{path}: {exc}") from None
        _merge_file(catalog, data, str(path))
    return catalog._index()


USER_CODE_RE = re.compile(r"^BLK1\d\d$")
USER_CALL_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(\.\*)?", re.ASCII)
USER_KEYS = frozenset(RULE_KEYS)
# The BLK3xx rewrites (``await``, ``pass-function``) only make sense for offload calls themselves.
USER_REMEDIES = ("to_thread", "asyncio.sleep", "none")


def extend(catalog: Catalog, entries: Iterable[Mapping[str, Any]], where: str) -> Catalog:
    """Add user ``blocking-calls`` entries: an existing code gains calls, a new code is a new rule.

    Only blocking-call rules (BLK1xx) take user calls: BLK200 is derived from them, BLK3xx
    judge offload calls and BLK9xx are diagnostics, so a call added there would be misreported
    (and mis-fixed).
    """
    rules = dict(catalog.rules)
    for i, entry in enumerate(entries):
        place = f"{where}[{i}]"
        if not isinstance(entry, Mapping):
            raise CatalogError(f"{place}: expected a table")
        unknown = set(entry) - RULE_KEYS
        if unknown:
            raise CatalogError(f"{place}: unknown key(s) {', '.join(sorted(unknown))}")
        if "calls" not in entry:
            raise CatalogError(f"{place}: missing key 'calls'")
        code = entry.get("code", CUSTOM_CODE)
        if not isinstance(code, str):
            raise CatalogError(f"{place}: 'code' must be a string")
        if not USER_CODE_RE.match(code):
            raise CatalogError(
                f"{place}: calls can only be added to blocking-call rules (BLK1xx, an existing one or a new "
                f"code), not {code}"
            )
        base = rules.get(code)
        _check_call_names(entry, place)
        if base is not None:
            # Joining a rule adds calls to it; its docs, remedy and fix stay the rule's own.
            extra_keys = set(entry) - {"code", "calls", "lazy"}
            if extra_keys:
                raise CatalogError(
                    f"{place}: {', '.join(sorted(extra_keys))} cannot be set when adding calls to {code}; "
                    "define a new rule with its own code (e.g. BLK191), name and summary instead"
                )
            extra = parse_rule(entry, base.family, place, replace(base, lazy=()), USER_KEYS)
            rules[code] = replace(base, calls=base.calls + extra.calls, lazy=base.lazy + extra.lazy)
        else:
            rule = parse_rule(entry, "custom", place, keys=USER_KEYS)
            if rule.remedy not in USER_REMEDIES:
                raise CatalogError(f"{place}: remedy {rule.remedy!r} is not one of {', '.join(USER_REMEDIES)}")
            taken = next((other.code for other in rules.values() if other.name == rule.name), None)
            if taken is not None:
                raise CatalogError(f"{place}: name {rule.name!r} is already the name of {taken}")
            rules[code] = rule
    merged = Catalog(rules, dict(catalog.returns), dict(catalog.attributes), dict(catalog.aliases), catalog.wrappers,
                     dict(catalog.arguments), dict(catalog.elements), catalog.on_loop)
    return merged._index()


def _check_call_names(entry: Mapping[str, Any], place: str) -> None:
    """A user entry's names are dotted Python names, a class's ``.*`` allowed: anything else
    (``"a..b"``, ``"mylib.Client()"``) would never match a call, silently."""
    for key in ("calls", "exclude", "lazy"):
        names = entry.get(key)
        for name in names if isinstance(names, list) else ():
            if isinstance(name, str) and not USER_CALL_RE.fullmatch(name):
                raise CatalogError(f"{place}.{key}: {json.dumps(name)} is not a dotted name "
                                   "(such as \"mylib.Client.fetch\", or \"mylib.Client.*\" for every method)")


_BUILTIN: List[Catalog] = []


def builtin() -> Catalog:
    """The shipped catalogue, loaded once per process."""
    if not _BUILTIN:
        _BUILTIN.append(load_builtin())
    return _BUILTIN[0]
