"""Writing a file at a path the user gave: never half-written, never replacing what is not a file.

Every file offload writes (``--fix`` rewrites, ``--write-baseline``, ``--report``) goes through
:func:`write_bytes`, which looks at what is at the path first:

- nothing: a new file, written to a temporary file beside it and renamed into place, with the
  mode a plain ``open()`` would give (0666 minus the umask);
- a symlink: the file it points to is written (by the rules here), the link is kept;
- a FIFO, a device, ``/dev/stdout``: written through, as a shell redirection would; never
  replaced by a regular file;
- a regular file: temporary file + ``fsync`` + rename, keeping its mode, owner and group; when
  the owner or group cannot be kept (the file belongs to someone else) or the file has other
  hard links, it is rewritten in place instead, so every name keeps seeing the same file;
- a read-only file: refused (:class:`ReadOnlyFile`), as editors do.

With ``expected`` (``--fix``: the bytes the rewrite was made from), a file that no longer holds
them, or is gone, is left as it is (:class:`ChangedFile`): the comparison is made last, just
before the rename, so an edit saved while offload worked is never overwritten.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from typing import Optional, Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]


class ReadOnlyFile(PermissionError):
    """The target exists and is not writable: offload does not override that."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EACCES, "the file is read-only (make it writable to let offload write it)", path)

    def __str__(self) -> str:
        return self.strerror or ""


class ChangedFile(OSError):
    """The file no longer holds what offload read from it: someone edited, replaced or removed it."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EAGAIN, "the file changed while offload worked on it: left as it is; run again", path)

    def __str__(self) -> str:
        return self.strerror or ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: PathLike, data: bytes, expected: Optional[bytes] = None) -> None:
    name = os.fspath(path)
    try:
        info = os.stat(name)  # follows symlinks: what a write would reach
    except FileNotFoundError:
        info = None
    if expected is not None and (info is None or not stat.S_ISREG(info.st_mode)):
        raise ChangedFile(name)
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        _write_through(name, data)  # FIFO, device, /dev/stdout: never replaced
        return
    target = os.path.realpath(name)  # a symlink is written through; the link stays
    if info is None:
        _replace(target, data, None, None)
        return
    if not info.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise ReadOnlyFile(name)
    if info.st_nlink > 1:
        _write_in_place(target, data, expected)  # a rename would split the hard links
        return
    _replace(target, data, info, expected)


def _require(target: str, expected: Optional[bytes]) -> None:
    """Raise ChangedFile unless the regular file at ``target`` holds ``expected`` (None: anything)."""
    if expected is None:
        return
    from detector import files

    try:
        held = files.read_file(target, limit=len(expected)).data
    except files.UnreadableFile:
        raise ChangedFile(target) from None
    if held != expected:
        raise ChangedFile(target)


def _write_through(path: str, data: bytes) -> None:
    # No O_CREAT: if the special file disappeared meanwhile, fail instead of creating a file.
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _write_in_place(path: str, data: bytes, expected: Optional[bytes] = None) -> None:
    _require(path, expected)
    with open(path, "r+b") as out:
        out.write(data)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


def _replace(target: str, data: bytes, info: Optional[os.stat_result], expected: Optional[bytes]) -> None:
    """Temporary file in the same directory, fsync, rename over ``target`` (still holding ``expected``)."""
    directory, name = os.path.split(target)
    fd, temp = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".offload-tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if info is None:
            os.chmod(temp, 0o666 & ~_umask())
        else:
            os.chmod(temp, stat.S_IMODE(info.st_mode))
            if hasattr(os, "chown") and (info.st_uid, info.st_gid) != _owner(temp):
                try:
                    os.chown(temp, info.st_uid, info.st_gid)
                except PermissionError:
                    # Only the owner's own rights allow a rename that keeps ownership; write in place.
                    os.unlink(temp)
                    _write_in_place(target, data, expected)
                    return
        _require(target, expected)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _sync_directory(directory or ".")


def _owner(path: str) -> Tuple[int, int]:
    info = os.stat(path)
    return info.st_uid, info.st_gid


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable; not every platform or file system allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
