"""Analysis results on disk, so a run only re-analyses the files that changed.

Layout, under the project root (``config.root``)::

    .offload_cache/
      .gitignore          "*": nothing in here is ever committed
      CACHEDIR.TAG        backup tools skip the directory
      v1/index            absolute path -> (size, mtime_ns, ctime_ns, content digest, checked_ns)
      v1/files/<key>      one file's ModuleSummary
      v1/findings/<key>   the findings of a whole run (a few most recent runs)

A file entry's key hashes everything its summary depends on: the file's bytes (by digest), its
module name and package flag, its display path (written into the summary), the tool version, a
digest of offload's own analysis code and shipped catalogue (so a development checkout never
reuses results of other code), the Python version and ``Config.fingerprint()``.

Findings depend on every file (a change in one file changes findings in the files that call
into it), so they are recomputed from the summaries whenever any file's key changed. Only when
*every* key, the checked files, the working directory and the whole configuration are the same
as in an earlier run are that run's findings reused: a pure function of identical inputs.

The index lets a warm run only ``stat`` files: when size, mtime and ctime match the record, the
recorded digest is trusted without reading the file. A file modified within ``RACY_NS`` before
it was read could change again without its mtime changing ("racy" in git's terms), so such
records are read and hashed again on the next run.

Every write is atomic (temporary file + ``os.replace``); an unreadable, corrupt or foreign
entry is ignored and recomputed; a cache that cannot be written is silently skipped. Entries
are read with an unpickler that only builds offload's own plain-data classes, so a planted
cache file cannot run code.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

DIRNAME = ".offload_cache"
FORMAT = "v1"
RACY_NS = 2_000_000_000  # coarse filesystems (FAT, some network mounts) keep 2-second mtimes
PRUNE_AGE_S = 7 * 24 * 3600  # unused file entries older than this go when a run writes new ones
KEEP_FINDINGS = 8  # whole-run results kept (different settings, branches)
_PROTOCOL = 4

Stat = Tuple[int, int, int]  # size, mtime_ns, ctime_ns
Record = Tuple[int, int, int, str, int]  # size, mtime_ns, ctime_ns, digest, checked_ns

_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by offload.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def stat_key(st: os.stat_result) -> Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# -- what keys depend on -------------------------------------------------------------------
_CODE_DIGEST: List[str] = []
_CODE = ("catalog.py", "suppress.py", "model.py", "discovery.py", "config.py", "runner.py", "cache.py", "workers.py")


def code_digest() -> str:
    """offload's analysis code and shipped catalogue: change either and nothing is reused."""
    if not _CODE_DIGEST:
        import detector
        from detector import catalog

        package = Path(detector.__file__).resolve().parent
        sources = sorted((package / "analysis").glob("*.py")) + [package / name for name in _CODE]
        sources += sorted(catalog.rules_dir().glob("*.toml"))
        hasher = hashlib.blake2b(digest_size=20)
        hasher.update(detector.__version__.encode())
        for path in sources:
            hasher.update(path.name.encode() + b"\0")
            try:
                hasher.update(path.read_bytes())
            except OSError:
                hasher.update(b"<missing>")
        _CODE_DIGEST.append(hasher.hexdigest())
    return _CODE_DIGEST[0]


def salt(config) -> str:
    """Everything outside a file that its summary depends on."""
    import detector

    parts = (FORMAT, detector.__version__, "%d.%d" % sys.version_info[:2], code_digest(), config.fingerprint())
    return _hash(repr(parts))


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=20).hexdigest()


def entry_key(salt_: str, content: str, module: str, is_package: bool, shown: str) -> str:
    return _hash("\0".join((salt_, content, module, "1" if is_package else "0", shown)))


# -- safe loading ---------------------------------------------------------------------------
_ALLOWED_MODULES = ("detector.analysis.summary", "detector.model")
_ALLOWED_BUILTINS = frozenset({"frozenset", "set", "tuple", "list", "dict"})


class _Unpickler(pickle.Unpickler):
    """Builds offload's plain-data classes and nothing else: loading never runs foreign code."""

    def find_class(self, module: str, name: str):
        if module == "builtins" and name in _ALLOWED_BUILTINS:
            return super().find_class(module, name)
        if module in _ALLOWED_MODULES and not name.startswith("_"):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"offload cache: {module}.{name} is not allowed")


def loads(data: bytes):
    return _Unpickler(io.BytesIO(data)).load()


def dumps(value) -> bytes:
    return pickle.dumps(value, protocol=_PROTOCOL)


def _load_file(path: Path):
    with open(path, "rb") as handle:
        return _Unpickler(handle).load()


def write_atomic(path: Path, data: bytes) -> None:
    import tempfile

    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


class Cache:
    """The cache of one project root, for one run."""

    def __init__(self, root: Path, salt_: str):
        self.top = Path(root) / DIRNAME
        self.base = self.top / FORMAT
        self.files = self.base / "files"
        self.salt = salt_
        self.index: Dict[str, Record] = self._read_index()
        self.seen: Set[str] = set()  # paths looked up or recorded in this run
        self.used: Set[str] = set()  # entry keys read or written in this run
        self.hits = 0
        self._dirty = False
        self._stored = 0
        self._writable: Optional[bool] = None

    # -- index ----------------------------------------------------------------------------
    def _read_index(self) -> Dict[str, Record]:
        try:
            index = _load_file(self.base / "index")
        except Exception:  # missing, corrupt or foreign: start afresh
            return {}
        return index if isinstance(index, dict) else {}

    def known_digest(self, path: str, st: Stat) -> Optional[str]:
        """The recorded digest of ``path`` when its stat still matches and is not racy."""
        self.seen.add(path)
        record = self.index.get(path)
        if record is None or tuple(record[:3]) != st:
            return None
        if st[1] + RACY_NS > record[4]:
            return None  # modified too shortly before it was read: read it again
        return record[3]

    def record(self, path: str, st: Stat, content: str, checked_ns: int) -> None:
        self.seen.add(path)
        new = (st[0], st[1], st[2], content, checked_ns)
        if self.index.get(path) != new:
            self.index[path] = new
            self._dirty = True

    def key(self, content: str, module: str, is_package: bool, shown: str) -> str:
        return entry_key(self.salt, content, module, is_package, shown)

    # -- file entries ---------------------------------------------------------------------
    def load(self, key: str, shown: str, module: str):
        """The summary stored under ``key``, or None when missing or unusable."""
        from detector.analysis.summary import ModuleSummary

        self.used.add(key)
        try:
            summary = _load_file(self.files / key)
        except Exception:
            return None
        if not isinstance(summary, ModuleSummary) or summary.path != shown or summary.module != module:
            return None
        self.hits += 1
        return summary

    def store(self, key: str, data: bytes) -> None:
        self.used.add(key)
        if self._write(self.files / key, data):
            self._stored += 1

    # -- whole-run findings ---------------------------------------------------------------
    def findings_key(self, keys: Sequence[str], shown: Sequence[str], config) -> str:
        """Every input of a run's findings: all file keys in order, the checked files, the
        complete configuration and the working directory (display paths are relative to it)."""
        return _hash("\0".join((self.salt, repr(config), os.getcwd(), "\n".join(shown), "\n".join(keys))))

    def load_findings(self, key: str):
        try:
            found = _load_file(self.base / "findings" / key)
        except Exception:
            return None
        from detector.model import Finding

        if not isinstance(found, list) or not all(isinstance(f, Finding) for f in found):
            return None
        return found

    def store_findings(self, key: str, findings: list) -> None:
        directory = self.base / "findings"
        if not self._write(directory / key, dumps(findings)):
            return
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.stat().st_mtime, reverse=True)
            for entry in entries[KEEP_FINDINGS:]:
                os.unlink(entry.path)
        except OSError:
            pass

    # -- writing --------------------------------------------------------------------------
    def _write(self, path: Path, data: bytes) -> bool:
        if not self._ensure_dirs():
            return False
        try:
            path.parent.mkdir(exist_ok=True)
            write_atomic(path, data)
            return True
        except OSError:
            self._writable = False
            return False

    def _ensure_dirs(self) -> bool:
        if self._writable is None:
            try:
                self.files.mkdir(parents=True, exist_ok=True)
                ignore = self.top / ".gitignore"
                if not ignore.exists():
                    write_atomic(ignore, b"# Created by offload: everything here is a cache.\n*\n")
                tag = self.top / "CACHEDIR.TAG"
                if not tag.exists():
                    write_atomic(tag, _TAG.encode())
                self._writable = True
            except OSError:
                self._writable = False
        return bool(self._writable)

    def save(self) -> None:
        """Write the index if it changed; when this run added entries, drop stale ones."""
        for path in [p for p in self.index if p not in self.seen]:
            if not os.path.exists(path):
                del self.index[path]  # a deleted file
                self._dirty = True
        if self._dirty:
            self._write(self.base / "index", dumps(self.index))
        if self._stored:
            self._prune()

    def _prune(self) -> None:
        now = time.time()
        try:
            entries = list(os.scandir(self.files))
        except OSError:
            return
        for entry in entries:
            try:
                age = now - entry.stat().st_mtime
                if entry.name.startswith(".tmp-"):
                    stale = age > 3600  # left behind by a run that was killed while writing
                else:
                    stale = entry.name not in self.used and age > PRUNE_AGE_S
                if stale:
                    os.unlink(entry.path)
            except OSError:
                pass
