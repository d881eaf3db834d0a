"""A directory of the cache, opened without following links, and the file operations in it.

Everything goes through the directory's descriptor (``dir_fd``), one name at a time, with
O_NOFOLLOW: a symlink planted anywhere in the cache, in place of a directory or of an entry,
is never followed, so nothing outside the cache directory is read, written or deleted. A
directory must be a real directory owned by the user running offload. Reads are bounded (the
open descriptor must be a regular file no larger than a limit) and open non-blocking, so a
FIFO or a device in the cache never hangs a run.
"""
from __future__ import annotations

import errno
import os
import secrets
import stat
from typing import List, Optional

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
TEMP_PREFIX = ".tmp-"

SUPPORTED = bool(_NOFOLLOW and _DIRECTORY) and os.open in os.supports_dir_fd and os.scandir in os.supports_fd


class Unsafe(Exception):
    """A cache path is a symlink, not a directory, or someone else's: the cache is not used."""


class Directory:
    """An open directory; ``path`` only names it in messages."""

    def __init__(self, fd: int, path: str):
        self.fd = fd
        self.path = path

    @classmethod
    def open(cls, path: str) -> "Directory":
        """The project root: the user chose it, so a symlink to it is followed."""
        return cls(os.open(path, os.O_RDONLY | _DIRECTORY | _CLOEXEC), path)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:  # a run that ends in an exception does not leak the descriptor
        try:
            self.close()
        except Exception:  # at interpreter exit, os may already be gone
            pass

    def child(self, name: str, create: bool = False) -> Optional["Directory"]:
        """The subdirectory ``name`` (None when missing and not created). Raises Unsafe."""
        path = os.path.join(self.path, name)
        if create:
            try:
                os.mkdir(name, 0o777, dir_fd=self.fd)
            except FileExistsError:
                pass
        try:
            fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=self.fd)
        except FileNotFoundError:
            if create:
                raise
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise Unsafe(f"{path} is a symlink or not a directory") from None
            raise
        info = os.fstat(fd)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            os.close(fd)
            raise Unsafe(f"{path} is not a directory of this user")
        return Directory(fd, path)

    def read(self, name: str, limit: int) -> Optional[bytes]:
        """The bytes of the regular file ``name``, or None: missing, a link, special, or above ``limit``."""
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=self.fd)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            chunks: List[bytes] = []
            size = 0
            while size <= limit:  # the file may grow after fstat: never read more than the limit
                chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks) if size <= limit else None
        except OSError:
            return None
        finally:
            os.close(fd)

    def write(self, name: str, data: bytes) -> None:
        """Replace ``name`` atomically: a new file under a temporary name, then renamed.

        A rename replaces a symlink at ``name`` itself, never what it points to."""
        temp = TEMP_PREFIX + secrets.token_hex(8)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o666, dir_fd=self.fd)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            self.remove(temp)
            raise

    def exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def regular_files(self) -> List["os.DirEntry[str]"]:
        """The regular files in this directory (links and anything else left out)."""
        try:
            with os.scandir(self.fd) as entries:
                return [entry for entry in entries if entry.is_file(follow_symlinks=False)]
        except OSError:
            return []

    def remove(self, name: str) -> None:
        """Unlink ``name`` in this directory (a link itself, never its target); errors ignored."""
        try:
            os.unlink(name, dir_fd=self.fd)
        except OSError:
            pass
