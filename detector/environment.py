"""Which Python environment holds the project's installed dependencies, found without running it.

The project's interpreter is never started: a ``.venv/bin/python`` inside a checkout is the
checkout's code. Its site-packages directories are found from the directory layout instead
(``<prefix>/lib/pythonX.Y/site-packages``, ``<prefix>/Lib/site-packages`` on Windows), where the
prefix is a virtual environment's directory or the one above the interpreter's ``bin/``.

Order, first found wins: ``--python PATH``, ``[tool.offload] python``, an active
``VIRTUAL_ENV``, ``.venv/`` or ``venv/`` in the project root, the interpreter running offload.
A ``VIRTUAL_ENV`` that is offload's own environment (activated to run offload) comes after the
project's ``.venv/`` or ``venv/``: like the interpreter running offload, it is a last resort.
"""
from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

from detector.config import ConfigError
from detector.display import display_path

@dataclass(frozen=True)
class Environment:
    source: str  # how it was chosen: "--python", "[tool.offload] python", "VIRTUAL_ENV", ".venv", ...
    location: Path  # the interpreter or environment directory named
    site_packages: Tuple[Path, ...]
    warnings: Tuple[str, ...] = ()  # the environments passed over on the way, and why: one line

    def describe(self) -> str:
        where = ", ".join(display_path(path) for path in self.site_packages)
        return f"{display_path(self.location)} ({self.source}): {where}"


def _prefix(location: Path) -> Path:
    """The environment directory of an interpreter path (``venv/bin/python`` -> ``venv``) or directory."""
    if os.path.isdir(location):
        return location
    parent = location.parent
    return parent.parent if parent.name in ("bin", "Scripts") else parent


def site_packages(location: Path) -> Tuple[Path, ...]:
    """The site-packages directories of an environment or interpreter, from its layout alone."""
    prefix = _prefix(location)
    found: List[Path] = []
    for lib in ("lib", "lib64"):
        try:
            names = sorted(os.listdir(prefix / lib))
        except OSError:
            continue
        for name in names:
            if name.startswith("python3") or name.startswith("pypy3"):
                candidate = prefix / lib / name / "site-packages"
                if os.path.isdir(candidate) and not any(os.path.samefile(candidate, seen) for seen in found):
                    found.append(candidate)
    windows = prefix / "Lib" / "site-packages"
    if os.path.isdir(windows):
        found.append(windows)
    return tuple(found)


def _running() -> Environment:
    found = sysconfig.get_paths()
    paths: List[Path] = []
    for key in ("purelib", "platlib"):
        path = found.get(key)
        if path and os.path.isdir(path) and Path(path) not in paths:
            paths.append(Path(path))
    return Environment("the Python running offload", Path(found.get("data", "")), tuple(paths))


def find(root: Path, python: Optional[str], configured: Optional[str],
         environ: Mapping[str, str] = os.environ) -> Environment:
    """The environment whose packages a run follows. A Python named explicitly that is empty,
    missing or has no site-packages is a ConfigError: a typo must not silently fall back to
    another environment. One found (``VIRTUAL_ENV``, a project ``.venv``) that is unusable is
    passed over with a warning naming the environment used instead."""
    for source, value in (("--python", python), ("[tool.offload] python", configured)):
        if value is None:
            continue
        if not value:
            raise ConfigError(f"{source}: empty path: name a Python interpreter or environment directory")
        location = Path(value) if os.path.isabs(value) or source == "--python" else root / value
        if not os.path.lexists(location):
            raise ConfigError(f"{source} {display_path(location)}: no such file or directory")
        found = site_packages(location)
        if not found:
            raise ConfigError(f"{source} {display_path(location)}: no site-packages directory found there")
        return Environment(source, location, found)
    passed: List[str] = []  # environments that were looked for and are unusable: why, for the warning
    active = environ.get("VIRTUAL_ENV")
    chosen = None
    if active:
        location = Path(active)
        found = site_packages(location) if os.path.isdir(location) else ()  # a directory, never an interpreter
        if not found:
            what = "does not exist" if not os.path.lexists(location) else "has no site-packages directory"
            passed.append(f"VIRTUAL_ENV {display_path(location)} {what}")
        else:
            chosen = Environment("VIRTUAL_ENV", location, found)
            if not _is_running(location):
                return chosen
            # The environment offload runs from, activated to run offload: the project's own
            # environment, when it has one, is the one its code imports from.
    project = _project_environment(root, passed, own=chosen is not None)
    chosen = project or chosen or _running()
    if not passed:
        return chosen
    reasons = "; ".join(passed)
    return replace(chosen, warnings=(f"{reasons}: following {display_path(chosen.location)} ({chosen.source}) instead",))


def _project_environment(root: Path, passed: List[str], own: bool) -> Optional[Environment]:
    """``.venv/`` or ``venv/`` in the project root; one without site-packages is noted in ``passed``.
    ``own``: VIRTUAL_ENV is offload's own environment, which the project's overrides."""
    for name in (".venv", "venv"):
        candidate = root / name
        if os.path.isdir(candidate):
            found = site_packages(candidate)
            if found:
                source = f"{name}/ in the project" + (" (VIRTUAL_ENV is offload's own environment)" if own else "")
                return Environment(source, candidate, found)
            passed.append(f"{name}/ in the project has no site-packages directory")
    return None


def _is_running(location: Path) -> bool:
    """Whether ``location`` is the environment of the interpreter running offload."""
    try:
        return os.path.samefile(location, sys.prefix)
    except OSError:
        return False
