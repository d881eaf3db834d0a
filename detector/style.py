"""The project's own layout rules that a rewrite must keep: how isort/ruff sort imports and how
long a line its formatter allows.

Read as data (TOML) from the project root, never run: ruff's ``ruff.toml`` / ``.ruff.toml`` /
``[tool.ruff]``, ``[tool.isort]`` and ``[tool.black]`` of ``pyproject.toml``. Unreadable or
odd values fall back to the defaults (a project's formatter settings are not offload's
configuration: they never fail a run).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, cast

from detector import files

if TYPE_CHECKING:
    from typing import TypeGuard  # Python >= 3.10

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef, import-not-found, unused-ignore]  # same API

DEFAULT_LINE_LENGTH = 88  # ruff's and black's
RUFF_FILES = (".ruff.toml", "ruff.toml")  # ruff's precedence over pyproject.toml


@dataclass(frozen=True)
class Style:
    # isort/ruff ``force-sort-within-sections``: ``import x`` and ``from y import z`` are sorted
    # together by module name, not straight imports first.
    force_sort_within_sections: bool = False
    line_length: int = DEFAULT_LINE_LENGTH


def load(root: Path) -> Style:
    """The style of the project at ``root``."""
    for name in RUFF_FILES:
        data = _table(root / name)
        if data is not None:
            return _from_ruff(data)
    data = _table(root / "pyproject.toml") or {}
    tool = cast("Mapping[str, Any]", data.get("tool") if isinstance(data.get("tool"), Mapping) else {})
    ruff = tool.get("ruff")
    if isinstance(ruff, Mapping):
        return _from_ruff(ruff, fallback=tool)
    return _from_isort_black(tool)


def _from_ruff(ruff: Mapping[str, Any], fallback: Optional[Mapping[str, Any]] = None) -> Style:
    lint = cast("Mapping[str, Any]", ruff.get("lint") if isinstance(ruff.get("lint"), Mapping) else {})
    isort = lint.get("isort", ruff.get("isort"))
    isort = isort if isinstance(isort, Mapping) else {}
    length = ruff.get("line-length")
    if not _is_length(length) and fallback is not None:
        return Style(_flag(isort.get("force-sort-within-sections")), _from_isort_black(fallback).line_length)
    return Style(_flag(isort.get("force-sort-within-sections")), length if _is_length(length) else DEFAULT_LINE_LENGTH)


def _from_isort_black(tool: Mapping[str, Any]) -> Style:
    isort = cast("Mapping[str, Any]", tool.get("isort") if isinstance(tool.get("isort"), Mapping) else {})
    black = cast("Mapping[str, Any]", tool.get("black") if isinstance(tool.get("black"), Mapping) else {})
    length = black.get("line-length", black.get("line_length"))
    return Style(_flag(isort.get("force_sort_within_sections", isort.get("force-sort-within-sections"))),
                 length if _is_length(length) else DEFAULT_LINE_LENGTH)


def _flag(value: object) -> bool:
    return value is True


def _is_length(value: object) -> TypeGuard[int]:
    return type(value) is int and 1 <= value <= 1000


def _table(path: Path) -> Optional[Dict[str, Any]]:
    try:
        if not path.is_file():
            return None
        return tomllib.loads(files.read_file(path).data.decode("utf-8"))
    except (OSError, files.UnreadableFile, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
