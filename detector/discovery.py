"""Which files to check, and the module name each one has inside its project."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

from detector import files, gitignore
from detector.config import ROOT_MARKERS, Config
from detector.gitignore import GitIgnore

# Never descended into: version control and tool state, virtual environments, installed packages.
# Build output (build/, dist/) is not among them: it is skipped when .gitignore or `exclude` says so.
# Files ignored by the project's .gitignore files are not walked into (named ones are checked).
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".offload_cache", "__pycache__", "node_modules", ".eggs", "site-packages",
})


class Unreadable(NamedTuple):
    """A directory below a checked path that could not be listed."""

    path: Path
    reason: str


@dataclass
class Discovery:
    files: List[Path] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # fatal for the exit code
    warnings: List[str] = field(default_factory=list)
    unreadable: List[Unreadable] = field(default_factory=list)  # reported as BLK901, not fatal
    excluded: int = 0  # files named explicitly but excluded by the configuration


def discover(paths: Sequence[Path], config: Config) -> Discovery:
    """Python files under ``paths``; an explicitly named file is checked whatever its name.

    A named path that exists in any form (a symlink loop, a FIFO, a file in an unreadable
    directory) is a file to check: reading it turns the problem into that file's diagnostic.
    """
    result = Discovery()
    seen: Dict[Union[str, Tuple[int, int]], int] = {}  # identity -> index in result.files
    ignores: Dict[str, GitIgnore] = {}
    for path in paths:
        try:
            os.lstat(path)
        except FileNotFoundError:
            result.errors.append(f"{path}: no such file or directory")
            continue
        except NotADirectoryError:
            result.errors.append(f"{path}: not a directory")
            continue
        except OSError:
            pass  # e.g. a parent that cannot be searched: reading it says why
        if not os.path.isdir(path):
            if config.is_excluded(path):
                result.excluded += 1
                continue
            found: Iterable[Path] = [path]
        else:
            top = gitignore.top_for(str(path), str(config.root))
            ignore: Optional[GitIgnore] = ignores.setdefault(top, GitIgnore(top))
            if ignore is not None and ignore.is_ignored(str(path), is_dir=True):
                ignore = None  # named explicitly: checked like a named file, whatever .gitignore says
            found = list(_walk(path, config, ignore, result))
            if not found and not any(_is_below(u.path, path) for u in result.unreadable):
                result.warnings.append(f"{path}: no Python files found")
        for file in found:
            keys = _identities(file)
            index = next((seen[key] for key in keys if key in seen), None)
            if index is None:
                index = len(result.files)
                result.files.append(file)
            elif os.path.islink(result.files[index]) and not os.path.islink(file):
                # One file under two names is checked, reported and fixed once. The name kept is
                # the first in the walk's (sorted) order, except that a symlink gives way to a name
                # that is not one: the finding then points where the code is written.
                result.files[index] = file
            for key in keys:
                seen[key] = index
    return result


def _identities(path: Path) -> List[Union[str, Tuple[int, int]]]:
    """What makes two paths one file: the same resolved path, or (hard links) the same inode."""
    keys: List[Union[str, Tuple[int, int]]] = [os.path.realpath(path)]
    try:
        status = os.stat(path)
    except OSError:
        return keys  # reading it says why
    if status.st_ino:  # 0: a file system without inode numbers
        keys.append((status.st_dev, status.st_ino))
    return keys


def _walk(directory: Path, config: Config, ignore: Optional[GitIgnore], result: Discovery) -> Iterable[Path]:
    """The Python files below ``directory``. A symlink found there whose target is outside the
    project (the directory walked, when it is not in the project) is not read: a checkout must not
    make offload quote or rewrite other files (``/proc/self/environ``, a file of another project)."""
    def failed(exc: OSError) -> None:
        result.unreadable.append(Unreadable(Path(exc.filename or directory),
                                            f"cannot read directory: {files.os_reason(exc)}"))

    def skipped(path: Path, is_dir: bool) -> bool:
        return config.is_excluded(path) or (ignore is not None and ignore.is_ignored(str(path), is_dir))

    boundary = os.path.realpath(config.root)
    if not _is_below(Path(os.path.realpath(directory)), Path(boundary)):
        boundary = os.path.realpath(directory)
    for root, dirs, names in os.walk(directory, onerror=failed):
        base = Path(root)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                         and not skipped(base / d, True))
        for name in sorted(names):
            path = base / name
            if not name.endswith(".py") or skipped(path, False):
                continue
            if os.path.islink(path) and not _is_below(Path(os.path.realpath(path)), Path(boundary)):
                result.warnings.append(f"{path}: a symlink to a file outside the project: not checked "
                                       "(name it to check it)")
                continue
            yield path


def _is_below(path: Path, directory: Path) -> bool:
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(directory)]) == os.path.abspath(directory)


def is_project_root(directory: Path) -> bool:
    """Whether ``directory`` has a project marker: only then is the rest of it read as context.

    Without one (``cd /tmp && offload check x.py``) the project is just the paths named.
    """
    return any(os.path.exists(os.path.join(directory, marker)) for marker in ROOT_MARKERS)


def source_roots(root: Path) -> Tuple[Path, ...]:
    """Directories that module names are relative to: ``src/`` layouts first, then the project root."""
    root = Path(os.path.realpath(root))
    src = root / "src"
    return (src, root) if src.is_dir() else (root,)


def module_name(path: Path, roots: Sequence[Path]) -> Tuple[str, bool]:
    """Dotted module name of ``path`` and whether it is a package ``__init__``.

    Inside a source root the name follows the directories (so namespace packages work);
    outside any root it follows the chain of ``__init__.py`` packages above the file.
    ``path`` must already be resolved (callers resolve many files cheaply, once each).
    """
    is_package = path.name == "__init__.py"
    parts: Optional[List[str]] = None
    for root in roots:
        try:
            parts = list(path.relative_to(root).with_suffix("").parts)
            break
        except ValueError:
            continue
    if parts is None:
        parts = [path.stem]
        parent = path.parent
        while os.path.isfile(parent / "__init__.py") and parent != parent.parent:
            parts.insert(0, parent.name)
            parent = parent.parent
    else:
        # A directory whose name is no identifier (``python3.11``, ``my-app``) cannot be a
        # package: imports start below it, so the name does too.
        cut = max((i + 1 for i, part in enumerate(parts[:-1]) if not part.isidentifier()), default=0)
        parts = parts[cut:]
    if is_package:
        parts = parts[:-1]
    parts = [p for p in parts if p]
    return (".".join(parts) if parts else path.parent.name or "__main__"), is_package
