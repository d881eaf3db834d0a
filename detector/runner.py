"""A check run: discover files, summarise each (cache, then workers), build the project, collect findings.

Per-file summaries come from the cache (``detector.cache``) when the file is unchanged, and
are computed otherwise, in worker processes for larger runs (``detector.workers``). Findings,
direct and transitive, are recomputed from the summaries of the whole project whenever any
file changed; a run whose every input (all file keys, settings, checked files, working
directory) equals an earlier run's reuses that run's findings. This module does not import
libcst: a run whose files all come from the cache never loads it, and one whose findings come
from the cache does not load the project model either.
"""
from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Sequence, Set, Union

from detector import files
from detector.analysis.summary import ModuleSummary
from detector.analysis.taken import taken_names
from detector.catalog import Catalog
from detector.config import DEFAULT_MAX_FILE_SIZE, Config, effective_catalog, minor
from detector.config import warnings as config_warnings
from detector.discovery import Discovery, discover, is_project_root, module_name, source_roots
from detector.display import display_path
from detector.model import Finding

if TYPE_CHECKING:
    from detector.cache import Cache
    from detector.libraries import Installed, Libraries

Progress = Callable[[int, int], None]  # (files analysed so far, files to analyse)

# What check_paths does when not told: the CLI sets these for each `offload check` run, so a
# re-check after --fix uses the same options. A library call stays in-memory by default.
@dataclass
class CheckResult:
    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    errors: List[str] = field(default_factory=list)  # make the exit code 2
    warnings: List[str] = field(default_factory=list)
    analysed: int = 0  # files parsed and analysed in this run (the rest came from the cache)
    excluded: int = 0  # files named explicitly but excluded by the configuration
    cached: int = 0  # files whose summary came from the cache
    # Names other project modules take from a file (by path as shown), in a run with overrides
    # (the re-check of what ``--fix`` would write): the imports of those names stay.
    taken: Dict[str, Set[str]] = field(default_factory=dict)


class _Resolver:
    """``Path.resolve()`` for many files in few directories, one ``realpath`` per directory."""

    def __init__(self) -> None:
        self._dirs: Dict[str, str] = {}
        self._files: Dict[str, Path] = {}

    def __call__(self, path: Path) -> Path:
        text = os.path.abspath(path)
        found = self._files.get(text)
        if found is None:
            parent, name = os.path.split(text)
            real = self._dirs.get(parent)
            if real is None:
                real = self._dirs[parent] = os.path.realpath(parent)
            full = os.path.join(real, name)
            found = Path(os.path.realpath(full) if os.path.islink(full) else full)
            self._files[text] = found
        return found


def _unreadable(shown: str, name: str, reason: str) -> ModuleSummary:
    from detector.analysis import diagnostics

    summary = ModuleSummary(path=shown, module=name)
    summary.diagnostics.append(diagnostics.diagnostic(diagnostics.DECODE_ERROR, shown, f"cannot read file: {reason}"))
    return summary


def analyse_bytes(data: bytes, shown: str, catalog: Catalog, name: str, is_package: bool,
                  max_size: int = DEFAULT_MAX_FILE_SIZE) -> ModuleSummary:
    from detector import workers

    return _too_large(data, shown, name, max_size) or workers.analyse(data, shown, catalog, name, is_package)


def _too_large(data: bytes, shown: str, name: str, max_size: int) -> Optional[ModuleSummary]:
    """A file over ``max-file-size`` is not analysed: libcst's memory grows with it."""
    if len(data) <= max_size:
        return None
    from detector.analysis import diagnostics

    summary = ModuleSummary(path=shown, module=name)
    summary.diagnostics.append(diagnostics.too_large(shown, len(data), max_size))
    return summary


def findings_for(summaries: List[ModuleSummary], catalog: Catalog, config: Config,
                 libraries: Optional["Libraries"] = None) -> List[Finding]:
    # Imported here: a run whose findings all come from the cache never needs the project model.
    from detector.analysis import checks
    from detector.analysis.checks import Scan
    from detector.analysis.findings import direct_findings
    from detector.analysis.fixpolicy import Policy
    from detector.analysis.project import Project
    from detector.analysis.threadsafety import ThreadSafety

    project = Project(summaries, catalog, libraries)
    policy = Policy(project, config)
    safety = ThreadSafety(project, minor(config.target_version))
    found = direct_findings(project, policy, safety) + checks.run(Scan(project, policy, safety), config.is_selected)
    opt_in = {rule.code for rule in catalog.rules.values() if rule.opt_in}
    found = [f for f in found if config.is_selected(f.code, f.filename)
             and (f.code not in opt_in or config.selects_explicitly(f.code))]
    if libraries is not None:
        found = [libraries.placed(f) for f in found]
    return sorted(found, key=Finding.sort_key)


@dataclass
class _File:
    """One file of a run, as it moves through the cache and the analysis."""

    path: Path
    shown: str  # display path
    module: str
    is_package: bool
    absolute: str = ""
    key: Optional[str] = None  # cache key, once the content digest is known
    data: Optional[bytes] = None  # bytes read in this run
    summary: Optional[ModuleSummary] = None


def _read(item: _File, store: Optional[Cache]) -> None:
    """Read the file; with a cache, record its digest and key. Unreadable: a BLK901 summary."""
    from detector import cache as cache_module

    try:
        contents = files.read_file(item.path)
    except files.UnreadableFile as exc:
        item.summary = _unreadable(item.shown, item.module, exc.reason)
        return
    item.data, status = contents.data, contents.status
    if store is not None:
        content = cache_module.digest(item.data)
        store.record(item.absolute, cache_module.stat_key(status), content, time.time_ns())
        item.key = store.key(content, item.module, item.is_package, item.shown)


def _identify(items: Sequence[_File], store: Cache) -> None:
    """Give every readable file its cache key: from the index when its stat is unchanged
    (the file is not even opened), otherwise by reading and hashing it."""
    from detector import cache as cache_module

    for item in items:
        item.absolute = os.path.abspath(item.path)
        try:
            content = store.known_digest(item.absolute, cache_module.stat_key(os.stat(item.absolute)))
        except OSError:
            content = None
        if content is not None:
            item.key = store.key(content, item.module, item.is_package, item.shown)
        else:
            _read(item, store)


def _summarize(items: Sequence[_File], config: Config, catalog: Catalog, store: Optional[Cache], jobs: Optional[int],
               progress: Optional[Progress], result: CheckResult) -> List[ModuleSummary]:
    """Every file's summary, in order: from the cache when its entry is there, analysed otherwise."""
    from detector import workers

    collecting = gc.isenabled()
    gc.disable()  # loading thousands of small objects: the cycle collector only slows it down
    try:
        for item in items:
            if store is not None and item.summary is None and item.key is not None:
                item.summary = store.load(item.key, item.shown, item.module)
                if item.summary is not None:
                    result.cached += 1
                    item.data = None
            if item.summary is None and item.data is None:
                _read(item, store)  # known by its stat, but its entry is gone or unusable
    finally:
        if collecting:
            gc.enable()

    for item in items:
        if item.summary is None and item.data is not None:
            item.summary = _too_large(item.data, item.shown, item.module, config.max_file_size)
            if item.summary is not None:
                item.data = None
    tasks = [workers.Task(index, item.data, item.shown, item.module, item.is_package)
             for index, item in enumerate(items) if item.summary is None and item.data is not None]
    analysed = [0]

    def done(task: "workers.Task", summary: ModuleSummary, data: Optional[bytes]) -> None:
        item = items[task.index]
        item.summary, item.data, task.data = summary, None, b""  # the bytes are not needed any more
        if store is not None and data is not None and item.key is not None:
            store.store(item.key, data)
        analysed[0] += 1
        if progress is not None:
            progress(analysed[0], len(tasks))

    if tasks:
        jobs = jobs if jobs is not None else workers.default_jobs()
        workers.analyse_all(tasks, catalog, jobs, store is not None, done)
    result.analysed += len(tasks)
    return [item.summary for item in items]  # type: ignore[misc]  # every item has its summary by now


def _items(files: Sequence[Path], config: Config, resolve: _Resolver) -> List[_File]:
    roots = source_roots(config.root)
    return [_File(path, display_path(path), *module_name(resolve(path), roots)) for path in files]


def check_paths(
    paths: Sequence[Union[str, Path]],
    config: Optional[Config] = None,
    progress: Optional[Progress] = None,
    jobs: Optional[int] = None,
    use_cache: bool = False,
    overrides: Optional[Mapping[str, bytes]] = None,
    python: Optional[str] = None,
) -> CheckResult:
    """Check files and directories. Raises ConfigError for bad configuration only.

    ``jobs``: worker processes (default: every core; 1 analyses in this process; runs with
    few files to analyse always stay in this process). ``use_cache``: read and write
    ``.offload_cache/`` in the project root (default: off for library calls, on for the CLI).
    ``overrides``: content to analyse instead of what some files hold (path -> bytes; what
    ``--fix`` would write), never cached. ``python``: the environment whose installed packages
    calls are followed into (``--python``; else as ``detector.environment`` finds it).
    """
    config = config or Config()
    catalog = effective_catalog(config)
    found = discover([Path(p) for p in paths], config)
    result = CheckResult(errors=list(found.errors), warnings=config_warnings(config) + found.warnings,
                         files=len(found.files), excluded=found.excluded)
    skipped = _unreadable_directories(found, config)
    # The rest of the project is analysed too, so helpers defined elsewhere resolve;
    # findings are reported only for the files asked about.
    resolve = _Resolver()
    checked = {resolve(path) for path in found.files}
    root = resolve(config.root)
    if not is_project_root(config.root) or any(resolve(Path(p)) == root for p in paths):
        context: List[Path] = []  # no project around the paths, or the root itself was asked for
    else:
        context = [p for p in discover([config.root], config).files if resolve(p) not in checked]
    items = _items(found.files + context, config, resolve)
    shown = sorted({display_path(path) for path in found.files})
    replaced = {resolve(Path(name)): data for name, data in (overrides or {}).items()}
    store = None
    if use_cache:
        from detector import cache as cache_module

        store, warning = cache_module.open_cache(config.root, cache_module.salt(config))
        if warning:
            result.warnings.append(warning)
    if store is not None:
        _identify(items, store)
    for item in items:
        data = replaced.get(resolve(item.path)) if replaced else None
        if data is not None:  # not the file's content: no cache entry is read or written for it
            item.data, item.key, item.summary = data, None, None
    installed = _installed(config, python)
    environment = installed.fingerprint() if installed is not None else ""
    if installed is not None:
        result.warnings.extend(environment_warnings(installed, config))
    if store is not None:
        if all(item.key is not None for item in items):
            memo = store.findings_key([item.key for item in items], shown, config, environment)  # type: ignore[misc]
            reused = store.load_findings(memo)
            if reused is not None:  # no file changed since a run with these same settings
                result.findings, result.cached = sorted(reused + skipped, key=Finding.sort_key), len(items)
                store.save()
                return result
    summaries = _summarize(items, config, catalog, store, jobs, progress, result)
    if overrides:
        result.taken = taken_names(summaries)
    wanted = set(shown)
    collecting = gc.isenabled()
    gc.disable()
    cut_short: List[str] = []  # what the library limits left unread
    try:
        libraries = (_libraries(installed, catalog, config, use_cache, jobs, result.warnings)
                     if installed is not None else None)
        try:
            result.findings = [f for f in findings_for(summaries, catalog, config, libraries) if f.filename in wanted]
        finally:
            if libraries is not None:
                libraries.close()
                cut_short = libraries.warnings()
                result.warnings.extend(cut_short)
    finally:
        if collecting:
            gc.enable()
    if store is not None:
        keys = [item.key for item in items]
        # Findings cut short by the library limits are not kept: each run says so again.
        if all(key is not None for key in keys) and not cut_short:
            # Keys again: a file that changed while this run read it has a new one by now.
            store.store_findings(store.findings_key(keys, shown, config, environment), result.findings,  # type: ignore[arg-type]
                                 libraries.read if libraries is not None else {})
        store.save()
    if skipped:
        result.findings = sorted(result.findings + skipped, key=Finding.sort_key)
    return result


def _installed(config: Config, python: Optional[str]) -> Optional[Installed]:
    """The installed packages a run follows calls into; None when following is switched off."""
    if config.follow_dependencies is False:
        return None
    from detector import environment
    from detector.libraries import Installed

    return Installed(environment.find(config.root, python, config.python), config.follow_dependencies)


def environment_warnings(installed: Installed, config: Config) -> List[str]:
    """The environments passed over on the way to this one, and the names of ``follow-dependencies``
    that match nothing installed in it (another machine's environment may have them: no error)."""
    warnings = list(installed.environment.warnings)
    where = f"{display_path(config.source) if config.source else 'config'}: [tool.offload].follow-dependencies"
    if config.follow_dependencies == ():
        warnings.append(f"{where}: an empty list follows no library (`false` says so)")
    for name in installed.unmatched():
        root = name.split(".", 1)[0]
        hint = f" (an import root is a top-level name: '{root}')" if root != name and installed.is_root(root) else ""
        warnings.append(f"{where}: '{name}' matches no distribution or import root installed in "
                        f"{display_path(installed.environment.location)}{hint}")
    return warnings


def _libraries(installed: Installed, catalog: Catalog, config: Config, use_cache: bool,
               jobs: Optional[int], warnings: List[str]) -> Libraries:
    """Library modules for the project model, summarised through the per-user cache when it can be used
    (why it cannot, when that is worth saying, goes to ``warnings`` unless it is said already)."""
    from detector import cache as cache_module
    from detector import workers
    from detector.libraries import Libraries

    store = None
    if use_cache:
        store, warning = cache_module.open_user_cache(cache_module.salt(config))
        if warning and warning not in warnings:  # a key problem: the project's cache says the same
            warnings.append(warning)
    jobs = jobs if jobs is not None else workers.default_jobs()
    return Libraries(installed, catalog, config.max_file_size, store, jobs)


def _unreadable_directories(found: Discovery, config: Config) -> List[Finding]:
    """BLK901 for each directory below a checked path that could not be listed: its files are missing."""
    if not found.unreadable:
        return []  # the diagnostics module loads libcst
    from detector.analysis.diagnostics import DECODE_ERROR, diagnostic

    reported = []
    for path, reason in found.unreadable:
        shown = display_path(path)
        if config.is_selected(DECODE_ERROR[0], shown):
            reported.append(diagnostic(DECODE_ERROR, shown, reason))
    return reported


def check_source(
    source: Union[str, bytes],
    filename: str = "<stdin>",
    config: Optional[Config] = None,
) -> List[Finding]:
    """Check one module's source text, as ``offload check -`` does."""
    config = config or Config()
    catalog = effective_catalog(config)
    data = source.encode("utf-8") if isinstance(source, str) else source
    name, is_package = module_name(Path(os.path.realpath(filename)), source_roots(config.root))
    return findings_for([analyse_bytes(data, filename, catalog, name, is_package, config.max_file_size)],
                        catalog, config)
