"""The per-user secret that authenticates cache entries, kept outside every project.

``$XDG_CACHE_HOME/offload/key`` (``~/.cache/offload/key`` when XDG_CACHE_HOME is unset or not
absolute): 32 random bytes, mode 0600, in a directory only this user can write. It is created
on first use, complete or not at all (written under a temporary name, then hard-linked into
place, so concurrent first runs agree on one key). Each cache entry carries an HMAC-SHA256 of
its contents under this key: entries written by another user, on another machine, or
committed to a repository do not verify and are recomputed.

When the key cannot be created or read safely (no home directory, a read-only file system, a
key or directory writable by others, a symlink), :func:`load` returns None and offload runs
without its cache.
"""
from __future__ import annotations

import errno
import hashlib
import hmac
import os
import secrets
import stat
from typing import Dict, Optional, Tuple, Union

KEY_BYTES = 32
MAC_BYTES = hashlib.sha256().digest_size

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

# Loaded keys by directory: a run after --fix, or many library calls, read the file once.
_LOADED: Dict[str, bytes] = {}


class Unavailable(Exception):
    """Why there is no usable key (one line, for a warning)."""


def key_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            raise Unavailable("no home directory for the cache key")
        base = os.path.join(home, ".cache")
    return os.path.join(base, "offload")


def load() -> Tuple[Optional[bytes], Optional[str]]:
    """(key, None), or (None, why it is unusable)."""
    try:
        directory = key_directory()
    except Unavailable as exc:
        return None, str(exc)
    try:
        key = _LOADED.get(directory)
        if key is None:
            key = _LOADED[directory] = _load_or_create(directory)
        return key, None
    except Unavailable as exc:
        return None, str(exc)
    except OSError as exc:
        # The key is opened relative to its directory: name it in full.
        name = os.path.join(directory, exc.filename) if isinstance(exc.filename, str) else directory
        return None, f"cannot use the cache key: {name}: {exc.strerror or exc}"


def mac(key: bytes, *parts: Union[bytes, memoryview]) -> bytes:
    """HMAC-SHA256 over ``parts``, each length-prefixed so no two sequences collide."""
    signer = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        signer.update(len(part).to_bytes(8, "big"))
        signer.update(part)
    return signer.digest()


def _private_directory(path: str) -> int:
    """An open descriptor of ``path``, created 0700 when missing; refused unless only we can write it."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    fd = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    info = os.fstat(fd)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        os.close(fd)
        raise Unavailable(f"{path} is not a directory only this user can write")
    return fd


def _load_or_create(path: str) -> bytes:
    if not (_NOFOLLOW and os.open in os.supports_dir_fd):
        raise Unavailable("this platform cannot open the cache key without following links")
    directory = _private_directory(path)
    try:
        for _ in range(2):
            key = _read_key(directory, path)
            if key is not None:
                return key
            _create_key(directory)  # a concurrent run may win: read whichever key got there first
        raise Unavailable(f"cannot create the cache key in {path}")
    finally:
        os.close(directory)


def _read_key(directory: int, path: str) -> Optional[bytes]:
    try:
        fd = os.open("key", os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=directory)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(os.path.join(path, "key")):
            raise Unavailable(f"{os.path.join(path, 'key')} is a symlink: the cache key must be a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077
                or info.st_size != KEY_BYTES):
            raise Unavailable(f"{os.path.join(path, 'key')} is not a private {KEY_BYTES}-byte file of this user")
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise Unavailable(f"{os.path.join(path, 'key')} changed while it was read")
    return key


def _create_key(directory: int) -> None:
    temp = f".key-{secrets.token_hex(8)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=directory)
    try:
        try:
            data = secrets.token_bytes(KEY_BYTES)
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, "key", src_dir_fd=directory, dst_dir_fd=directory)
        except FileExistsError:
            pass  # another run created it first
    finally:
        os.unlink(temp, dir_fd=directory)
