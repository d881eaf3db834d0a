"""Where a code object lives, and how to turn (code, f_lasti) into a source location.

A frame is classified by its file:

* ``offload``   the watchdog's own modules (never reported);
* ``loop``      asyncio and uvloop internals (the event-loop machinery);
* ``stdlib``    the rest of the standard library;
* ``library``   anything installed in site-packages / dist-packages;
* ``user``      everything else: the code a user can change.
"""
from __future__ import annotations

import dis
import linecache
import os
import site
import sys
import sysconfig
from types import CodeType
from typing import Dict, Iterable, List, Optional, Tuple

from .events import Frame

OFFLOAD = "offload"
LOOP = "loop"
STDLIB = "stdlib"
LIBRARY = "library"
USER = "user"

# Coroutine-ish code flags: CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR.
_ASYNC_FLAGS = 0x0080 | 0x0100 | 0x0200

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _dirs(paths: Iterable[Optional[str]]) -> Tuple[str, ...]:
    out = []
    for path in paths:
        if path:
            norm = _norm(path).rstrip(os.sep) + os.sep
            if norm not in out:
                out.append(norm)
    return tuple(out)


class FileKinds:
    """Classifies filenames; results are cached per filename string."""

    def __init__(self) -> None:
        paths = sysconfig.get_paths()
        self._offload = _dirs([_RUNTIME_DIR])
        self._loop = _dirs(self._loop_package_dirs())
        site_dirs = [paths.get("purelib"), paths.get("platlib")]
        try:
            site_dirs += list(site.getsitepackages())
        except AttributeError:  # old virtualenv's site module
            pass
        try:
            site_dirs.append(site.getusersitepackages())
        except AttributeError:
            pass
        self._site = _dirs(site_dirs)
        stdlib = [paths.get("stdlib"), paths.get("platstdlib"), os.path.dirname(os.__file__)]
        self._stdlib = _dirs(stdlib)
        self._cache: Dict[str, str] = {}

    @staticmethod
    def _loop_package_dirs() -> List[str]:
        dirs = []
        for name in ("asyncio", "uvloop"):
            module = sys.modules.get(name)
            path = getattr(module, "__file__", None) if module else None
            if path:
                dirs.append(os.path.dirname(path))
        return dirs

    def refresh_loop_packages(self) -> None:
        """Pick up uvloop once it has been imported."""
        loop = _dirs(self._loop_package_dirs())
        if loop != self._loop:
            self._loop = loop
            self._cache.clear()

    def kind(self, filename: str) -> str:
        kind = self._cache.get(filename)
        if kind is None:
            kind = self._classify(filename)
            self._cache[filename] = kind
        return kind

    def _classify(self, filename: str) -> str:
        if filename.startswith("<"):
            # <frozen importlib._bootstrap> is stdlib; <string>, <stdin> are the user's.
            return STDLIB if filename.startswith("<frozen") else USER
        path = _norm(filename)
        if path.startswith(self._offload):
            return OFFLOAD
        if path.startswith(self._loop):
            return LOOP
        parts = path.split(os.sep)
        if path.startswith(self._site) or "site-packages" in parts or "dist-packages" in parts:
            return LIBRARY
        if path.startswith(self._stdlib):
            return STDLIB
        return USER


def is_async_code(code: CodeType) -> bool:
    return bool(code.co_flags & _ASYNC_FLAGS)


def _position(code: CodeType, lasti: int) -> Tuple[Optional[int], Optional[int], Optional[int], Optional[int]]:
    """(row, end_row, col, end_col) of the instruction at byte offset ``lasti`` (0-based cols)."""
    positions = getattr(code, "co_positions", None)
    if positions is not None and lasti >= 0:
        index = lasti // 2  # f_lasti is in bytes; co_positions yields one entry per code unit
        for i, pos in enumerate(positions()):
            if i == index:
                row, end_row, col, end_col = pos
                return row, end_row, col, end_col
    # Before 3.11: the line only.
    row = code.co_firstlineno
    for offset, line in dis.findlinestarts(code):
        if offset > lasti:
            break
        if line is not None:
            row = line
    return row, row, None, None


Site = Tuple[CodeType, object]  # (code, where in it): the same for every run of one instruction
_sites: Dict[Tuple[CodeType, int], Site] = {}


def instruction_site(code: CodeType, lasti: int) -> Site:
    """A key for the instruction at ``lasti`` that stays the same while the interpreter specialises it.

    On 3.11 a call to a C function reports the offset of its PRECALL once that
    instruction is specialised, and of its CALL before: two offsets for one call.
    Both have the call's source position, which is the key where there is one."""
    site = _sites.get((code, lasti))
    if site is None:
        where: object = _position(code, lasti) if hasattr(code, "co_positions") else lasti
        site = _sites[(code, lasti)] = (code, where)
    return site


def _char_column(line: str, byte_offset: Optional[int]) -> Optional[int]:
    """co_positions columns are UTF-8 byte offsets; reports use 1-based characters."""
    if byte_offset is None:
        return None
    if not line:
        return byte_offset + 1
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def make_frame(code: CodeType, lasti: int, kind: str) -> Frame:
    filename = code.co_filename
    row, end_row, col, end_col = _position(code, lasti)
    if row is None:
        row = end_row = code.co_firstlineno
    if end_row is None:
        end_row = row
    line = linecache.getline(filename, row).rstrip("\r\n")
    end_line = line if end_row == row else linecache.getline(filename, end_row).rstrip("\r\n")
    if not filename.startswith("<") and not os.path.isabs(filename):
        filename = os.path.abspath(filename)
    return Frame(
        filename=filename,
        function=getattr(code, "co_qualname", code.co_name),
        row=row,
        column=_char_column(line, col),
        end_row=end_row,
        end_column=_char_column(end_line, end_col),
        line=line,
        kind=kind,
    )
