"""Which files to check, and the module name each one has inside its project."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from detector.config import Config

# Never descended into: tool state, virtual environments, build output.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".offload_cache", "__pycache__", "node_modules", "build", "dist", ".eggs", "site-packages",
})
PY_SUFFIXES = (".py", ".pyi")


@dataclass
class Discovery:
    files: List[Path] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # fatal for the exit code
    warnings: List[str] = field(default_factory=list)


def discover(paths: Sequence[Path], config: Config) -> Discovery:
    """Python files under ``paths``; an explicitly named file is checked even if excluded by default dirs."""
    result = Discovery()
    seen = set()
    for path in paths:
        if not path.exists():
            result.errors.append(f"{path}: no such file or directory")
            continue
        if path.is_file():
            found: Iterable[Path] = [path] if not config.is_excluded(path) else []
        else:
            found = list(_walk(path, config))
            if not found:
                result.warnings.append(f"{path}: no Python files found")
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                result.files.append(file)
    return result


def _walk(directory: Path, config: Config) -> Iterable[Path]:
    for root, dirs, files in os.walk(directory):
        base = Path(root)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                         and not config.is_excluded(base / d))
        for name in sorted(files):
            if name.endswith(".py") and not config.is_excluded(base / name):
                yield base / name


def source_roots(root: Path) -> Tuple[Path, ...]:
    """Directories that module names are relative to: ``src/`` layouts first, then the project root."""
    root = root.resolve()
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
        while (parent / "__init__.py").is_file() and parent != parent.parent:
            parts.insert(0, parent.name)
            parent = parent.parent
    if is_package:
        parts = parts[:-1]
    parts = [p for p in parts if p]
    return (".".join(parts) if parts else path.parent.name or "__main__"), is_package
