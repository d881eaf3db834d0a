"""Reading files of the checked project, which may be hostile: FIFOs, devices, symlink loops, huge files.

Every read of a project's source goes through ``read_file``: it opens only regular files
(checked before opening, and again with ``fstat`` on the open descriptor, so a file swapped
for a FIFO in between cannot block), never waits on a FIFO (``O_NONBLOCK``), and reads at
most ``MAX_FILE_BYTES``. A file that cannot be read this way raises ``UnreadableFile``, whose
reason becomes the file's BLK901 diagnostic.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import BinaryIO, Optional, Union

# Larger than any hand-written module (CPython's largest is under 1 MiB); a bigger file is
# generated data, and parsing it costs gigabytes of memory.
MAX_FILE_BYTES = 4 * 1024 * 1024

_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_CHUNK = 1024 * 1024


class UnreadableFile(Exception):
    """A file that is not read: ``reason`` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FileContents:
    data: bytes
    status: os.stat_result  # of the open file: what was read, even if the path changes afterwards


def read_file(path: Union[str, "os.PathLike[str]"], limit: int = MAX_FILE_BYTES) -> FileContents:
    """The bytes of the regular file at ``path`` (symlinks followed), at most ``limit`` of them."""
    contents = _read(path, limit, whole=True)
    if len(contents.data) > limit:
        raise UnreadableFile(too_large(limit))
    return contents


def read_head(path: Union[str, "os.PathLike[str]"], limit: int) -> bytes:
    """The first ``limit`` bytes of the regular file at ``path``, however large it is: a header."""
    return _read(path, limit, whole=False).data[:limit]


def _read(path: Union[str, "os.PathLike[str]"], limit: int, whole: bool) -> FileContents:
    """At most ``limit + 1`` bytes of the regular file at ``path``; ``whole``: refuse a larger file by its size."""
    size_limit = limit if whole else None
    try:
        _require_regular(os.stat(path), size_limit)  # before opening: opening some devices has effects
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    try:
        status = os.fstat(fd)
        _require_regular(status, size_limit)
        chunks = []
        size = 0
        while size <= limit:  # the file may grow after fstat: never read past the limit
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    finally:
        os.close(fd)
    return FileContents(b"".join(chunks), status)


def read_stream(stream: BinaryIO, limit: int = MAX_FILE_BYTES) -> bytes:
    """At most ``limit`` bytes of an already open stream (standard input)."""
    try:
        data = stream.read(limit + 1)
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    if data is None:  # a non-blocking stream with nothing to read yet
        raise UnreadableFile("no data available (non-blocking input)")
    if len(data) > limit:
        raise UnreadableFile(too_large(limit))
    return data


def too_large(limit: int, size: Optional[int] = None) -> str:
    """``size`` is None when only the first ``limit + 1`` bytes were read."""
    if size is None:
        return f"file too large (more than the limit of {_mib(limit)})"
    return f"file too large ({_mib(size)}; the limit is {_mib(limit)})"


def os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return exc.strerror or str(exc)


def _require_regular(status: os.stat_result, limit: Optional[int]) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise UnreadableFile(f"not a regular file ({_kind(status.st_mode)})")
    if limit is not None and status.st_size > limit:
        raise UnreadableFile(too_large(limit, status.st_size))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
