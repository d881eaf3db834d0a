"""Installed libraries as the analysis sees them: their modules, read and summarised on demand.

A module outside the project and the standard library that is installed as Python source in
the run's environment (``detector.environment``) is summarised by the same per-file analysis as
the project's own files, when resolution first needs it: only what the project's calls reach
is read. Compiled modules (``.so``, ``.pyd``) and stub-only packages are opaque: calls into
them are matched against the catalogue only.

Nothing is imported or executed: files are read with the project's safe reader and parsed.
Summaries are cached in a per-user directory shared by every project, keyed by the file's
content like the project's own cache, so a second project using the same library reads it free.
"""
from __future__ import annotations

import dataclasses
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, NamedTuple, Optional, Tuple, Union

from detector import files
from detector.analysis.summary import ModuleSummary
from detector.catalog import Catalog
from detector.distributions import Distribution, Distributions, in_site_packages, normalise
from detector.environment import Environment
from detector.model import Finding

if TYPE_CHECKING:
    from detector.cache import Cache

# More modules than any program reaches through its dependencies: beyond it resolution stops
# (silence, never a guess, and a warning) rather than reading a whole environment. One library
# (a huge or a planted one) may not use up what the others need.
MAX_MODULES = 3000
MAX_MODULES_PER_LIBRARY = 1000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names) | {"__future__"}
# Everything follows by default; a list names import roots or distributions.
Follow = Union[bool, Tuple[str, ...]]


@dataclass(frozen=True)
class LibraryFile:
    path: Optional[Path]  # None: a namespace package's directory, which has no file
    module: str
    is_package: bool
    shown: str  # site-packages/<path inside it>: how findings' chains name it


class Installed:
    """The importable top-level modules of an environment (first site-packages wins), and the
    distributions that installed them.

    As for the project's files, a symlink is followed only to a file or directory inside the
    site-packages directory it is in, or to the same place in another site-packages directory
    (a package store such as Nix links packages in so): a module, package or ``__init__.py``
    linked anywhere else is not read."""

    def __init__(self, environment: Environment, follow: Follow = True):
        self.environment = environment
        self._roots: Dict[str, Path] = {}  # top-level name -> the site-packages directory holding it
        dist_dirs: List[Path] = []
        for directory in environment.site_packages:
            try:
                entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                if name.endswith(".dist-info"):
                    dist_dirs.append(Path(entry.path))
                    continue
                try:
                    if entry.is_symlink() and not in_site_packages(Path(entry.path), Path(directory)):
                        continue
                    is_dir = entry.is_dir()
                    is_file = entry.is_file()
                except OSError:
                    continue
                root = name[:-3] if is_file and name.endswith(".py") else name if is_dir else ""
                if root and _IDENTIFIER.match(root) and root not in self._roots:
                    self._roots[root] = Path(directory)
        self._dist_names = sorted(path.name for path in dist_dirs)
        self._distributions = Distributions(dist_dirs)
        self._follow = follow
        self._wanted = frozenset(normalise(name) for name in follow) if not isinstance(follow, bool) else frozenset()

    def fingerprint(self) -> str:
        """What the environment holds, for the whole-run cache: its directories and distributions."""
        return repr((self.environment.site_packages, self._dist_names))

    def provides(self, root: str) -> bool:
        if root in _STDLIB or root not in self._roots or self._follow is False:
            return False
        if self._follow is True:
            return True
        return normalise(root) in self._wanted or any(
            normalise(name) in self._wanted for name in self._distributions.names(root))

    def unmatched(self) -> Tuple[str, ...]:
        """The names ``follow`` lists that are neither an import root nor a distribution installed here."""
        if isinstance(self._follow, bool):
            return ()
        known = {normalise(root) for root in self._roots} | {normalise(name) for name in self._distributions.all_names()}
        return tuple(name for name in self._follow if normalise(name) not in known)

    def is_root(self, name: str) -> bool:
        return name in self._roots

    def locate(self, module: str) -> Optional[LibraryFile]:
        """The source file of ``module`` (a dotted name under an installed root), if it has one."""
        parts = module.split(".")
        if not all(_IDENTIFIER.match(part) for part in parts) or not self.provides(parts[0]):
            return None
        base = self._roots[parts[0]]
        directory = base.joinpath(*parts)
        shown = "site-packages/" + "/".join(parts)
        init = directory / "__init__.py"
        source = directory.with_name(parts[-1] + ".py")
        found = None
        if os.path.isfile(init):
            found = LibraryFile(init, module, True, shown + "/__init__.py")
        elif os.path.isfile(source):
            found = LibraryFile(source, module, False, shown + ".py")
        elif os.path.isdir(directory) and not any(directory.glob("__init__.*")):
            found = LibraryFile(None, module, True, shown)  # a namespace package
        if found is None or not in_site_packages(found.path or directory, base):
            return None  # compiled, stubs only, not there, or a link to outside the environment
        return found

    def distribution(self, module: str, path: Optional[Path] = None) -> Optional[Distribution]:
        """The distribution that installed ``module`` (its file ``path``, when it has one)."""
        root = module.split(".", 1)[0]
        base = self._roots.get(root)
        relative = None
        if path is not None and base is not None:
            relative = path.relative_to(base).as_posix()
        return self._distributions.owner(root, base, relative)



class _Read(NamedTuple):
    """A library file as read: its bytes, its user cache key and its cached summary, if any."""

    data: bytes
    key: Optional[str]
    cached: Optional[ModuleSummary]


class Libraries:
    """Summaries of library modules, read when the project model first asks for them."""

    def __init__(self, installed: Installed, catalog: Catalog, max_file_size: int, store: Optional[Cache] = None,
                 jobs: int = 1):
        self.installed = installed
        self._catalog = catalog
        self._max_size = max_file_size
        self._store = store
        self._jobs = jobs
        self._per_root: Dict[str, int] = {}  # import root -> modules of it read
        self._refused: Dict[str, int] = {}  # "" (every library) or an import root -> modules not read for the limit
        self._labels: Dict[str, str] = {}  # shown path -> "dist version"
        self._paths: Dict[str, str] = {}  # shown path -> the file's absolute path
        self._ready: Dict[str, ModuleSummary] = {}  # module -> its summary, made ahead by ``prefetch``
        self.read: Dict[str, Tuple[int, int, int]] = {}  # path -> its stat key when read

    def provides(self, root: str) -> bool:
        return self.installed.provides(root)

    def close(self) -> None:
        if self._store is not None:
            self._store.save()
            self._store = None

    def load(self, module: str) -> Optional[ModuleSummary]:
        """The summary of an installed module, or None (not installed, opaque, unreadable, or the
        run already read ``MAX_MODULES`` of them, or ``MAX_MODULES_PER_LIBRARY`` of its library)."""
        found = self.installed.locate(module)
        if found is None:
            return None
        root = module.split(".", 1)[0]
        limited = self._limit(root)
        if limited is not None:
            self._refused[limited] = self._refused.get(limited, 0) + 1
            return None
        self._per_root[root] = self._per_root.get(root, 0) + 1
        dist = self.installed.distribution(module, found.path)
        if dist is not None:
            self._labels[found.shown] = dist.label
        if found.path is None:
            return ModuleSummary(path=found.shown, module=module)
        self._paths[found.shown] = os.path.abspath(found.path)
        summary = self._summary(found)
        if summary is None:
            return None
        summary.diagnostics.clear()  # a library file offload cannot analyse is silent, never a finding
        return summary

    def _limit(self, root: str) -> Optional[str]:
        """The limit one more module of ``root`` would pass: "" (every library's), ``root``, or None."""
        if sum(self._per_root.values()) >= MAX_MODULES:
            return ""
        return root if self._per_root.get(root, 0) >= MAX_MODULES_PER_LIBRARY else None

    def warnings(self) -> List[str]:
        """What the limits left unread: findings that end there are missing."""
        said = []
        for root, count in sorted(self._refused.items()):
            limit = f"{MAX_MODULES} library modules" if not root else f"{MAX_MODULES_PER_LIBRARY} modules of `{root}`"
            said.append(f"the run read {limit}, as many as it reads; {count} more it was asked for were not read, "
                        "so calls into them are not followed and findings that end there are missing")
        return said

    def distribution(self, shown: str) -> Optional[str]:
        """``"dist version"`` of a library module's display path; None for the project's own files."""
        return self._labels.get(shown)

    def placed(self, finding: Finding) -> Finding:
        """``finding`` with the hops of its chain in a library file naming the file and its distribution."""
        if not any(hop.filename in self._paths for hop in finding.chain):
            return finding
        return dataclasses.replace(finding, chain=tuple(
            dataclasses.replace(hop, distribution=self._labels.get(hop.filename, ""), path=self._paths[hop.filename])
            if hop.filename in self._paths else hop for hop in finding.chain))

    def prefetch(self, modules: Iterable[str]) -> None:
        """Summarise ``modules`` ahead, in worker processes, when there are enough of them for a pool:
        the modules the project imports, which resolution almost always reads. ``load`` hands them
        out when the model asks, so what is read, and in which order, is as without this."""
        from detector import workers

        located = [found for found in map(self.installed.locate, dict.fromkeys(modules))
                   if found is not None and found.path is not None and found.module not in self._ready]
        if not self._worth_a_pool(len(located)):
            return  # in this process: no faster than reading each when it is needed
        tasks: List[workers.Task] = []
        keys: List[Optional[str]] = []
        for found in located:
            module = found.module
            read = self._read(found)
            if read is None:
                continue
            if read.cached is not None:
                self._ready[module] = read.cached
                continue
            tasks.append(workers.Task(len(tasks), read.data, found.shown, module, found.is_package))
            keys.append(read.key)
        if not self._worth_a_pool(len(tasks)):
            return  # most were in the user cache: the few others are read when needed

        def done(task: workers.Task, summary: ModuleSummary, encoded: Optional[bytes]) -> None:
            self._ready[task.module] = summary
            key = keys[task.index]
            if self._store is not None and key is not None and encoded is not None:
                self._store.store(key, encoded)

        workers.analyse_all(tasks, self._catalog, self._jobs, self._store is not None, done)

    def _worth_a_pool(self, count: int) -> bool:
        from detector import workers

        return count >= workers.MIN_PARALLEL and workers.worker_count(self._jobs, count) > 1

    def _read(self, found: LibraryFile) -> Optional[_Read]:
        """The library file, with its cache entry; None when it is unreadable or too large."""
        from detector import cache as cache_module

        assert found.path is not None
        try:
            contents = files.read_file(found.path)
        except files.UnreadableFile:
            return None
        self.read[str(found.path)] = cache_module.stat_key(contents.status)
        if len(contents.data) > self._max_size:
            return None
        if self._store is None:
            return _Read(contents.data, None, None)
        key = self._store.key(cache_module.digest(contents.data), found.module, found.is_package, found.shown)
        return _Read(contents.data, key, self._store.load(key, found.shown, found.module))

    def _summary(self, found: LibraryFile) -> Optional[ModuleSummary]:
        from detector import workers

        ready = self._ready.pop(found.module, None)
        if ready is not None:
            return ready
        read = self._read(found)
        if read is None:
            return None
        if read.cached is not None:
            return read.cached
        summary = workers.analyse(read.data, found.shown, self._catalog, found.module, found.is_package)
        if self._store is not None and read.key is not None:
            from detector.cache import codec

            self._store.store(read.key, codec.encode_summary(summary))
        return summary
