"""``[tool.offload]`` in pyproject.toml: found from the checked paths upwards, validated strictly.

Precedence: command-line options > the config file > defaults. An unknown key or a bad value
is a ConfigError (exit 2), never silently ignored.
"""
from __future__ import annotations

import configparser
import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from detector import files
from detector.display import display_path
from detector.model import DIAGNOSTICS

if TYPE_CHECKING:
    from detector.catalog import Catalog

KEYS = (
    "select", "ignore", "per-file-ignores", "exclude", "blocking-calls",
    "offload-wrappers", "target-version", "unsafe-fixes", "executor", "strict-allow", "not-on-loop",
    "max-file-size", "on-loop", "follow-dependencies", "python",
)
NOT_ON_LOOP_RE = re.compile(r"^[A-Za-z_*?][\w*?\[\]]*(\.[A-Za-z_*?][\w*?\[\]]*)*$")
# Files larger than this are not analysed (BLK904): libcst needs up to ~2 GB of memory per MB
# of dense source (long literals). No hand-written module comes close.
DEFAULT_MAX_FILE_SIZE = 1_000_000
EXECUTOR_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
TARGET_VERSIONS = tuple(f"py3{minor}" for minor in range(5, 15))  # async def is new in 3.5
SELECTOR_RE = re.compile(r"^(ALL|BLK\d{0,3})$")
DEFAULT_TARGET_VERSION = "py39"
# One clause of [project] requires-python that bounds the version from below: ">=3.8", "~=3.10", "==3.9.*".
_LOWER_BOUND_RE = re.compile(r"^\s*(>=|>|~=|===|==)\s*(\d+)(?:\.(\d+))?")
# setup.py's ``python_requires=">=3.8"`` on a line that is not a comment.
_SETUP_PY_REQUIRES_RE = re.compile(r"""^[^#\n]*\bpython_requires\s*=\s*[rRuU]?(["'])([^"'\n]{1,200})\1""", re.MULTILINE)
# A trove classifier naming one Python 3 minor version.
_CLASSIFIER_RE = re.compile(r"Programming Language :: Python :: 3\.(\d{1,2})\b")
MAX_PACKAGING_FILE = 1_000_000  # setup.py and setup.cfg are read this far for python_requires


def minor(target_version: str) -> int:
    """``"py39"`` -> 9."""
    return int(target_version[3:])


def has_to_thread(target_version: str) -> bool:
    """``asyncio.to_thread`` is new in Python 3.9."""
    return minor(target_version) >= 9


def loop_getter(target_version: str) -> str:
    """How a coroutine gets its running loop: ``asyncio.get_running_loop`` is new in 3.7; before
    it, ``get_event_loop()`` called in a coroutine gives the running loop (and still does)."""
    return "get_running_loop" if minor(target_version) >= 7 else "get_event_loop"


class ConfigError(ValueError):
    """Bad configuration: reported with the file and key, exit 2."""


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)  # paths in the config are relative to it
    source: Optional[Path] = None  # the file the settings came from
    select: Tuple[str, ...] = ("BLK",)
    ignore: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    exclude: Tuple[str, ...] = ()
    blocking_calls: Tuple[Mapping[str, Any], ...] = ()
    offload_wrappers: Tuple[str, ...] = ()
    target_version: str = DEFAULT_TARGET_VERSION  # unset: from [project] requires-python
    unsafe_fixes: bool = False
    executor: Optional[str] = None  # "package.module:name": --fix offloads to this executor
    # Strict mode (offload watch --strict, pytest --offload-strict): event names,
    # "module:function" sites and path globs whose blocking calls are allowed on the loop.
    strict_allow: Tuple[str, ...] = ()
    # Functions, classes or modules (dotted, glob patterns) whose coroutines no asyncio loop
    # runs (a driver steps them with ``coro.send(None)``): no findings there.
    not_on_loop: Tuple[str, ...] = ()
    # Places where a framework runs sync code on the loop ([[tool.offload.on-loop]], rules/loop.toml's schema).
    on_loop: Tuple[Mapping[str, object], ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes; larger files get BLK904
    # Follow calls into installed libraries: all (True), none (False), or these import roots / distributions.
    follow_dependencies: Union[bool, Tuple[str, ...]] = True
    python: Optional[str] = None  # the interpreter or environment whose packages are followed

    def is_selected(self, code: str, path: Optional[str] = None) -> bool:
        # A file that could not be analysed (BLK9xx) is reported whatever ``select`` names: a run
        # selecting BLK1 must not pass files it never read. Only ``ignore`` leaves one out.
        if not (_matches(code, self.select) or code.startswith(DIAGNOSTICS)) or _matches(code, self.ignore):
            return False
        if path is not None and self.per_file_ignores:
            relative = _relative(path, self.root)
            for pattern, codes in self.per_file_ignores:
                if _glob_match(relative, pattern) and _matches(code, codes):
                    return False
        return True

    def selects_explicitly(self, code: str) -> bool:
        """Opt-in rules run only when named by their full code."""
        return code in self.select

    def is_excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        relative = _relative(str(path), self.root)
        return any(_glob_match(relative, pattern) for pattern in self.exclude)

    def fingerprint(self) -> str:
        """What in the config a file's cached summary depends on: the catalogue, and the size
        above which a file is not analysed. Not the target version: only findings use it (the
        whole-run cache key holds the entire config), so projects on different Python versions
        share the summaries of the libraries they use."""
        return repr((self.blocking_calls, self.offload_wrappers, self.max_file_size, self.on_loop))


def _matches(code: str, selectors: Iterable[str]) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def _relative(path: str, root: Path) -> str:
    try:
        # realpath, not Path.resolve(): it does not raise on a symlink loop in the project.
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return PurePath(path).as_posix()


def _glob_match(relative: str, pattern: str) -> bool:
    """A pattern matches the path, any parent directory of it, or its file name."""
    pattern = pattern.rstrip("/")
    parts = relative.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)] + [parts[-1]]
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates)


# -- loading ------------------------------------------------------------------------------------
def find_config_file(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.offload] table, from ``start`` upwards.

    A pyproject.toml on the way that cannot be read as TOML is an error, not skipped: it may
    hold the settings meant for these files, and a parent's would apply silently. That includes
    one that is not a regular file (a directory, a FIFO, a device, a symlink loop or a broken
    symlink): ``_read_toml`` says which, without opening it.
    """
    start = start.resolve()
    directory = start if os.path.isdir(start) else start.parent
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if os.path.lexists(path):  # os.path: False, not an exception, for a directory it cannot search
            if _tool_table(_read_toml(path), path) is not None:
                return path
    return None


def _tool_table(data: Mapping[str, Any], path: Path) -> Optional[object]:
    """``[tool.offload]`` of a pyproject.toml (not yet validated), or None without one."""
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, Mapping):
        raise ConfigError(f"{display_path(path)}: [tool] must be a table")
    return tool.get("offload")


ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def project_root(start: Path) -> Path:
    """The nearest directory that looks like a project root, else ``start`` itself."""
    directory = start if os.path.isdir(start) else start.parent
    for candidate in (directory, *directory.parents):
        if any(os.path.exists(candidate / marker) for marker in ROOT_MARKERS):
            return candidate
    return directory


def _read_toml(path: Path) -> Dict[str, Any]:
    try:
        data = files.read_file(path).data  # a FIFO or a device named pyproject.toml must not hang the run
    except files.UnreadableFile as exc:
        why = "broken symlink" if os.path.islink(path) and not os.path.lexists(os.path.realpath(path)) else exc.reason
        raise ConfigError(f"{display_path(path)}: cannot read: {why}") from None
    try:
        return tomllib.loads(data.decode("utf-8-sig"))  # a byte-order mark some editors write is no error
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{display_path(path)}: invalid TOML: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at position {exc.start})"
        ) from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        reason = exc if isinstance(exc, tomllib.TOMLDecodeError) else "nested too deeply"
        raise ConfigError(f"{display_path(path)}: invalid TOML: {reason}") from None


def load(path: Optional[Path] = None, start: Optional[Path] = None) -> Config:
    """Settings from ``path`` (explicit ``--config``) or the file found from ``start``; defaults otherwise."""
    start = (start or Path.cwd()).resolve()
    if path is None:
        path = find_config_file(start)
        if path is None:
            root = project_root(start)
            return Config(root=root, target_version=_project_target(root) or DEFAULT_TARGET_VERSION)
    if not os.path.lexists(path):  # anything else there (a FIFO, /dev/null...) is read and refused by _read_toml
        raise ConfigError(f"{display_path(path)}: config file not found")
    data = _read_toml(path)
    # A pyproject.toml keeps the settings under [tool.offload]; a dedicated file at the top level.
    if "tool" in data or path.name == "pyproject.toml":
        table = _tool_table(data, path)
        table = {} if table is None else table
    else:
        table = data
    config = from_mapping(table, root=path.resolve().parent, source=path)
    if isinstance(table, Mapping) and "target-version" not in table:
        # As ruff does: the lowest Python the project allows, from the same pyproject.toml
        # (or the one next to a dedicated config file), else from setup.cfg or setup.py.
        target = _project_target(path.resolve().parent, data if path.name == "pyproject.toml" else None)
        if target is not None:
            config = replace(config, target_version=target)
    return config


def _project_target(directory: Path, pyproject: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The target version the project in ``directory`` says it needs (``pyproject``: its
    pyproject.toml, already read); None when nothing there says anything usable."""
    if pyproject is None and os.path.isfile(directory / "pyproject.toml"):
        try:
            pyproject = _read_toml(directory / "pyproject.toml")
        except ConfigError:
            pass  # an unreadable project file is not offload's configuration: keep the default
    project = pyproject.get("project") if pyproject is not None else None
    spec = project.get("requires-python") if isinstance(project, Mapping) else None
    if spec is None and pyproject is not None:
        poetry = _poetry_target(pyproject)
        if poetry is not None:
            return poetry
    if spec is not None:
        return _requires_python_target(spec) if isinstance(spec, str) else None
    setup_cfg, setup_py = (_project_text(directory / name) for name in ("setup.cfg", "setup.py"))
    spec = _setup_cfg_requires(setup_cfg)
    if spec is None:
        spec = _setup_py_requires(setup_py)
    if spec is not None:
        return _requires_python_target(spec)
    return _classifiers_target(project, [text for text in (setup_cfg, setup_py) if text is not None])


def _poetry_target(pyproject: Mapping[str, Any]) -> Optional[str]:
    """``[tool.poetry.dependencies] python = "^3.6.1"``: the lowest Python any of its
    alternatives (``||``) allows; ``^`` and ``~`` bound it from below as ``>=`` does."""
    tool = pyproject.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, Mapping) else None
    dependencies = poetry.get("dependencies") if isinstance(poetry, Mapping) else None
    spec = dependencies.get("python") if isinstance(dependencies, Mapping) else None
    if not isinstance(spec, str):
        return None
    targets = []
    for alternative in spec.split("||"):
        clauses = [re.sub(r"^\s*(\^|~(?!=))", ">=", clause) for clause in alternative.split(",")]
        clauses = ["==" + c.strip() if re.match(r"^\s*\d", c) else c for c in clauses]
        found = _requires_python_target(",".join(clauses))
        if found is None:
            return None  # an alternative with no lower bound (``*``) allows every Python
        targets.append(found)
    return min(targets, key=minor) if targets else None


def _classifiers_target(project: object, packaging: List[str]) -> Optional[str]:
    """The lowest ``Programming Language :: Python :: 3.N`` classifier of [project], or of the
    ``packaging`` files' text (setup.cfg, setup.py), for a project that states no requires-python."""
    listed = project.get("classifiers") if isinstance(project, Mapping) else None
    texts = [c for c in listed if isinstance(c, str)] if isinstance(listed, list) else []
    texts += packaging
    lines = (line.partition("#")[0] for text in texts for line in text.splitlines())  # comments left out
    minors = [int(found) for line in lines for found in _CLASSIFIER_RE.findall(line)]
    return _requires_python_target(f">=3.{min(minors)}") if minors else None


def _project_text(path: Path) -> Optional[str]:
    """A packaging file's text, or None when it is not there or cannot be read as a regular file."""
    if not os.path.isfile(path):
        return None
    try:
        return files.read_head(path, MAX_PACKAGING_FILE).decode("utf-8", "replace")
    except files.UnreadableFile:
        return None


def _setup_cfg_requires(text: Optional[str]) -> Optional[str]:
    """``[options] python_requires`` of setup.cfg's text."""
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
        return parser.get("options", "python_requires", fallback=None)
    except configparser.Error:
        return None


def _setup_py_requires(text: Optional[str]) -> Optional[str]:
    """``python_requires=">=3.8"`` written as a literal in setup.py's text (never run)."""
    found = _SETUP_PY_REQUIRES_RE.search(text) if text is not None else None
    return found.group(2) if found else None


def _requires_python_target(spec: str) -> Optional[str]:
    """``">=3.8"`` -> ``"py38"``: the lowest Python 3 minor version a requires-python allows."""
    minors = []
    for clause in spec.split(","):
        match = _LOWER_BOUND_RE.match(clause)
        if match and int(match.group(2)) <= 3:  # ">=2.7" allows every Python 3
            minors.append(int(match.group(3) or 0) if match.group(2) == "3" else 0)
    if not minors:
        return None
    lowest, highest = (int(v[3:]) for v in (TARGET_VERSIONS[0], TARGET_VERSIONS[-1]))
    return f"py3{min(max(max(minors), lowest), highest)}"


def from_mapping(table: object, root: Path, source: Optional[Path] = None) -> Config:
    where = f"{display_path(source) if source else 'config'}: [tool.offload]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    for key in table:
        if key not in KEYS:
            import difflib  # only for a misspelt key

            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; known keys: {', '.join(KEYS)}"
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")
    values: Dict[str, Any] = {"root": root, "source": source}  # Config's fields, each checked below
    known: Iterable[str] = ()  # the rules' codes, with those blocking-calls defines: known once those are checked
    if "select" in table:
        values["select"] = _selectors(table["select"], f"{where}.select")
    if "ignore" in table:
        values["ignore"] = _selectors(table["ignore"], f"{where}.ignore")
    if "exclude" in table:
        values["exclude"] = _strings(table["exclude"], f"{where}.exclude")
    if "strict-allow" in table:
        values["strict_allow"] = _strings(table["strict-allow"], f"{where}.strict-allow")
    if "offload-wrappers" in table:
        values["offload_wrappers"] = _strings(table["offload-wrappers"], f"{where}.offload-wrappers")
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, Mapping):
            raise ConfigError(f"{where}.per-file-ignores: expected a table of glob = [codes]")
        values["per_file_ignores"] = tuple(
            (str(glob), _selectors(codes, f"{where}.per-file-ignores.{glob}")) for glob, codes in pfi.items()
        )
    if "blocking-calls" in table:
        calls = table["blocking-calls"]
        if not isinstance(calls, list) or not all(isinstance(entry, Mapping) for entry in calls):
            raise ConfigError(
                f"{where}.blocking-calls: expected an array of tables ([[tool.offload.blocking-calls]])"
            )
        values["blocking_calls"] = tuple(calls)
        known = _check_blocking_calls(values["blocking_calls"], f"{where}.blocking-calls").rules
    if "on-loop" in table:
        entries = table["on-loop"]
        if not isinstance(entries, list) or not all(isinstance(entry, Mapping) for entry in entries):
            raise ConfigError(f"{where}.on-loop: expected an array of tables ([[tool.offload.on-loop]])")
        on_loop = tuple(entries)
        _check_on_loop(on_loop, f"{where}.on-loop")
        values["on_loop"] = on_loop
    if "target-version" in table:
        version = table["target-version"]
        if version not in TARGET_VERSIONS:
            raise ConfigError(f"{where}.target-version: {version!r} is not one of {', '.join(TARGET_VERSIONS)}")
        values["target_version"] = version
    if "executor" in table:
        executor = table["executor"]
        if not isinstance(executor, str) or not EXECUTOR_RE.match(executor):
            raise ConfigError(f"{where}.executor: expected \"package.module:name\", got {executor!r}")
        values["executor"] = executor
    if "not-on-loop" in table:
        patterns = _strings(table["not-on-loop"], f"{where}.not-on-loop")
        for pattern in patterns:
            if not NOT_ON_LOOP_RE.match(pattern):
                raise ConfigError(f"{where}.not-on-loop: {pattern!r} is not a dotted name or pattern (pkg.module.func, pkg.components.*)")
        values["not_on_loop"] = patterns
    if "max-file-size" in table:
        size = table["max-file-size"]
        if type(size) is not int or not 0 < size <= files.MAX_FILE_BYTES:
            raise ConfigError(f"{where}.max-file-size: expected a number of bytes from 1 to {files.MAX_FILE_BYTES}")
        values["max_file_size"] = size
    if "follow-dependencies" in table:
        follow = table["follow-dependencies"]
        # A bare string is refused, not taken as a one-name list: "true" or "false" would follow
        # one package of that name, i.e. nothing, without a word.
        if not isinstance(follow, (bool, list)):
            raise ConfigError(f"{where}.follow-dependencies: expected true, false or a list of package names, "
                              f"got {follow!r}")
        values["follow_dependencies"] = (follow if isinstance(follow, bool)
                                         else _strings(follow, f"{where}.follow-dependencies"))
    if "python" in table:
        python = table["python"]
        if not isinstance(python, str) or not python:
            raise ConfigError(f"{where}.python: expected the path of a Python interpreter or environment")
        values["python"] = python
    if "unsafe-fixes" in table:
        if not isinstance(table["unsafe-fixes"], bool):
            raise ConfigError(f"{where}.unsafe-fixes: expected true or false")
        values["unsafe_fixes"] = table["unsafe-fixes"]
    from detector import catalog

    known = frozenset(known or catalog.builtin().rules)
    if "select" in values:
        _check_known(values["select"], known, f"{where}.select", empty_ok=False)
    _check_known(values.get("ignore", ()), known, f"{where}.ignore")
    for glob, codes in values.get("per_file_ignores", ()):
        _check_known(codes, known, f"{where}.per-file-ignores.{glob}")
    return Config(**values)


def effective_catalog(config: Config) -> Catalog:
    """The built-in catalogue with the configuration's ``offload-wrappers``, ``on-loop`` and ``blocking-calls``."""
    from detector import catalog

    base = catalog.builtin()
    if config.offload_wrappers:
        base = replace(base, wrappers=config.offload_wrappers)
    if config.on_loop:
        base = catalog.extend_on_loop(base, config.on_loop, "[tool.offload].on-loop")
    if not config.blocking_calls:
        return base
    where = f"{display_path(config.source) if config.source else 'config'}: [tool.offload].blocking-calls"
    try:
        return catalog.extend(base, config.blocking_calls, where)
    except catalog.CatalogError as exc:
        raise ConfigError(str(exc)) from None


def warnings(config: Config) -> List[str]:
    """Settings that are valid but do nothing where something was surely meant."""
    where = f"{display_path(config.source) if config.source else 'config'}: [tool.offload].blocking-calls"
    return [f"{where}[{i}].calls: an empty list adds no call" for i, entry in enumerate(config.blocking_calls)
            if entry.get("calls") == []]


def _check_blocking_calls(entries: Tuple[Mapping[str, Any], ...], where: str) -> Catalog:
    """Validate user catalogue entries now, so a mistake is reported before any file is read."""
    from detector import catalog

    try:
        return catalog.extend(catalog.builtin(), entries, where)
    except catalog.CatalogError as exc:
        raise ConfigError(str(exc)) from None


def _check_on_loop(entries: Tuple[Mapping[str, object], ...], where: str) -> None:
    from detector import catalog

    try:
        catalog.extend_on_loop(catalog.builtin(), entries, where)
    except catalog.CatalogError as exc:
        raise ConfigError(str(exc)) from None


def _strings(value: object, where: str) -> Tuple[str, ...]:
    # A bare string is refused, not taken as a one-entry list: a list is what every reader of
    # the file (and every other tool's settings) expects there, and "a, b" would be one odd name.
    if isinstance(value, str):
        raise ConfigError(f"{where}: expected a list of strings, got the string {_toml_string(value)}")
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string, as the user would write it."""
    import json  # only for an error message

    return json.dumps(value)


def _selectors(value: object, where: str) -> Tuple[str, ...]:
    """Rule codes or prefixes from a list (the config file's ``select``, ``ignore``...)."""
    codes = _strings(value, where)
    for code in codes:
        if not SELECTOR_RE.match(code.upper()):
            raise ConfigError(f"{where}: {code!r} is not a rule code or prefix (BLK, BLK1, BLK130, ALL)")
    return tuple(code.upper() for code in codes)


def _check_known(selectors: Tuple[str, ...], known: FrozenSet[str], where: str, empty_ok: bool = True) -> None:
    """Every code or prefix must name a rule: a typo (BLK999, BLK50) or an empty ``select`` would
    switch the check off without a word, in select as in ignore (where it would leave a rule on)."""
    if not selectors and not empty_ok:
        raise ConfigError(f"{where}: empty: it selects no rule (name codes or prefixes; the default is BLK)")
    for code in selectors:
        if code != "ALL" and not any(rule.startswith(code) for rule in known):
            raise ConfigError(f"{where}: {code!r} matches no rule; 'offload rules' lists them")


def parse_selectors(value: Optional[str], option: str, config: Config) -> Optional[Tuple[str, ...]]:
    """A comma-separated ``--select``/``--ignore`` value, checked against the rules ``config`` knows
    (its blocking-calls may define some); ``--select`` cannot be empty."""
    if value is None:
        return None
    selectors = _selectors([v for v in re.split(r"[,\s]+", value) if v], option)
    _check_known(selectors, frozenset(effective_catalog(config).rules), option, empty_ok=option != "--select")
    return selectors


def check_selection(config: Config) -> None:
    """``select`` less ``ignore`` must leave a rule that finds blocking code: ``--select BLK1
    --ignore BLK1`` would pass every file without looking."""
    rules = effective_catalog(config).rules.values()
    if not any(config.is_selected(rule.code) and (not rule.opt_in or config.selects_explicitly(rule.code))
               for rule in rules if not rule.code.startswith(DIAGNOSTICS)):
        raise ConfigError(f"no rule is left to check: select {', '.join(config.select)} less ignore "
                          f"{', '.join(config.ignore)}; 'offload rules' lists them")


def with_overrides(config: Config, **overrides: Any) -> Config:
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


__all__: Sequence[str] = ["Config", "ConfigError", "load", "from_mapping", "parse_selectors", "with_overrides"]
