"""Analysis results on disk, so a run only re-analyses the files that changed.

Layout, under the project root (``config.root``)::

    .offload_cache/
      .gitignore          "*": nothing in here is ever committed
      CACHEDIR.TAG        backup tools skip the directory
      v1/index            absolute path -> [size, mtime_ns, ctime_ns, content digest, checked_ns]
      v1/files/<key>      one file's ModuleSummary
      v1/findings/<key>   the findings of a whole run (a few most recent runs)
      v1/plans/<key>      the fixes of one file's findings a rewrite refuses, and why

The project directory is not trusted: a repository, a pull request or an archive can ship any
``.offload_cache/`` it likes. So:

* entries are JSON (``codec``), never pickles: reading one builds offload's own records, checked
  field by field, and cannot run code;
* every entry starts with an HMAC of its kind, name and contents under a per-user secret kept
  outside the project (``secret``): an entry this user did not write is a miss, so a committed
  cache, or planted findings, are recomputed, never believed;
* every file operation is relative to a directory opened without following links (``fsdir``):
  a symlink in the cache is never followed, a read is bounded and never blocks, and pruning
  unlinks only regular files named like the cache's own entries, inside the cache;
* an entry that is missing, oversized, unauthenticated or malformed is a miss, never an error.

A file entry's key hashes everything its summary depends on: the file's bytes (by digest), its
module name and package flag, its display path (written into the summary), the tool version, a
digest of every file of offload's own package and shipped catalogue (so a development checkout
never reuses results of other code), the Python version and ``Config.fingerprint()``.

A plan entry's key hashes everything the plan of one file's fixes depends on (``rewrite.plan``,
a pure function of them): the file's bytes (by digest), its display path, its findings as
found, the fix settings (target version, executor, remedies) and the project's style, with the
same salt. A run whose findings did not change in a file it did not edit reads what its fixes
refuse instead of parsing the file again.

Findings depend on every file (a change in one file changes findings in the files that call
into it), so they are recomputed from the summaries whenever any file's key changed. Only when
*every* key, the checked files, the working directory and the whole configuration are the same
as in an earlier run are that run's findings reused: a pure function of identical inputs.

The index lets a warm run only ``stat`` files: when size, mtime and ctime match the record, the
recorded digest is trusted without reading the file. A file modified within ``RACY_NS`` before
it was read could change again without its mtime changing ("racy" in git's terms), so such
records are read and hashed again on the next run.

Every write is atomic (temporary file + rename); a cache that cannot be written is skipped.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from detector.cache import codec, fsdir, secret

if TYPE_CHECKING:
    from detector.analysis.summary import ModuleSummary
    from detector.config import Config
    from detector.model import Finding

DIRNAME = ".offload_cache"
FORMAT = "v1"  # older versions' entries (pickles) fail authentication: misses, pruned when unused
RACY_NS = 2_000_000_000  # coarse filesystems (FAT, some network mounts) keep 2-second mtimes
PRUNE_AGE_S = 7 * 24 * 3600  # unused file entries older than this go when a run writes new ones
TEMP_AGE_S = 3600  # temporary files left behind by a run that was killed while writing
KEEP_FINDINGS = 8  # whole-run results kept (different settings, branches)
MAX_ENTRY_BYTES = 64 << 20  # a larger entry (or anything planted that large) is not read

Stat = Tuple[int, int, int]  # size, mtime_ns, ctime_ns
Record = Tuple[int, int, int, str, int]  # size, mtime_ns, ctime_ns, digest, checked_ns

_ENTRY_NAME = re.compile(r"[0-9a-f]{40}\Z")  # what _hash makes: the only names pruning removes
_MAC = secret.MAC_BYTES

_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by offload.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_IGNORE = "# Created by offload: everything here is a cache.\n*\n"


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def stat_key(st: os.stat_result) -> Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# -- what keys depend on -------------------------------------------------------------------
_CODE_DIGEST: List[str] = []


def _code_files() -> List[Tuple[str, Path]]:
    """Every source and catalogue file of offload, found by walking the package (and the
    catalogue directory beside it in a development checkout): (name in the digest, path)."""
    import detector
    from detector import catalog

    found: Dict[Path, str] = {}
    for label, top in (("detector", Path(detector.__file__).resolve().parent), ("rules", catalog.rules_dir().resolve())):
        for directory, subdirectories, names in os.walk(top):
            subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
            for name in sorted(names):
                if name.endswith((".py", ".toml")):
                    path = Path(directory, name)
                    found.setdefault(path, f"{label}/{path.relative_to(top).as_posix()}")
    return sorted(((name, path) for path, name in found.items()), key=lambda item: item[0])


def code_digest() -> str:
    """offload's code and shipped catalogue: change any file of either and nothing is reused."""
    if not _CODE_DIGEST:
        import detector

        hasher = hashlib.blake2b(digest_size=20)
        hasher.update(detector.__version__.encode())
        for name, path in _code_files():
            hasher.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0")
            try:
                hasher.update(path.read_bytes())
            except OSError:
                hasher.update(b"<unreadable>")
        _CODE_DIGEST.append(hasher.hexdigest())
    return _CODE_DIGEST[0]


def salt(config: Config) -> str:
    """Everything outside a file that its summary depends on."""
    import detector

    parts = (FORMAT, detector.__version__, "%d.%d" % sys.version_info[:2], code_digest(), config.fingerprint())
    return _hash(repr(parts))


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=20).hexdigest()


def entry_key(salt_: str, content: str, module: str, is_package: bool, shown: str) -> str:
    return _hash("\0".join((salt_, content, module, "1" if is_package else "0", shown)))


def _valid_index(data: Any) -> Dict[str, Record]:
    if type(data) is not dict:
        raise codec.Invalid("the index is not an object")
    index: Dict[str, Record] = {}
    for path, record in data.items():
        if (type(record) is not list or len(record) != 5 or type(record[3]) is not str
                or not all(type(record[i]) is int for i in (0, 1, 2, 4))):
            raise codec.Invalid("malformed index record")
        size, mtime_ns, ctime_ns, digest, checked_ns = record
        index[path] = (size, mtime_ns, ctime_ns, digest, checked_ns)
    return index


# -- the cache ------------------------------------------------------------------------------
def open_cache(root: Path, salt_: str) -> Tuple[Optional["Cache"], Optional[str]]:
    """The cache of ``root`` for one run, or (None, a warning) when it must not be used.

    A cache directory that simply cannot be created (a read-only checkout) is not worth a
    warning: the run goes on without it, silently."""
    if not fsdir.SUPPORTED:
        return None, None
    key, why = secret.load()
    if key is None:
        return None, f"running without the cache: {why}"
    try:
        return Cache(root, salt_, key), None
    except fsdir.Unsafe as exc:
        return None, f"running without the cache: {exc}"
    except OSError:
        return None, None


def open_user_cache(salt_: str) -> Tuple[Optional["Cache"], Optional[str]]:
    """The per-user cache of installed libraries' summaries, shared by every project."""
    try:
        directory = Path(secret.key_directory())
    except secret.Unavailable as exc:
        return None, str(exc)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None, None
    return open_cache(directory, salt_)


class Cache:
    """The cache of one project root, for one run. Raises fsdir.Unsafe when a cache directory
    is a symlink, not a directory, or another user's."""

    def __init__(self, root: Path, salt_: str, key: bytes):
        self.salt = salt_
        self._key = key
        self._root = fsdir.Directory.open(os.fspath(root))
        self._dirs: Dict[str, Optional[fsdir.Directory]] = {}
        try:
            self._open_dirs(create=False)
        except BaseException:
            self.close()
            raise
        self.index: Dict[str, Record] = self._read_index()
        self.seen: Set[str] = set()  # paths looked up or recorded in this run
        self.used: Set[str] = set()  # entry keys read or written in this run
        self._dirty = False
        self._stored: Set[str] = set()  # the entry directories ("files", "plans") this run wrote to
        self._writable: Optional[bool] = None

    def _open_dirs(self, create: bool) -> None:
        top = self._dirs.get("top") or self._root.child(DIRNAME, create)
        base = top and (self._dirs.get("base") or top.child(FORMAT, create))
        self._dirs.update(top=top, base=base)
        for name in ("files", "findings", "plans"):
            self._dirs[name] = base and (self._dirs.get(name) or base.child(name, create))

    def close(self) -> None:
        for directory in (*self._dirs.values(), self._root):
            if directory is not None:
                directory.close()
        self._dirs.clear()

    # -- authenticated entries --------------------------------------------------------------
    def _read(self, where: str, name: str) -> Optional[bytes]:
        """The contents of entry ``name`` in ``where``, if this user's key signed them."""
        directory = self._dirs.get(where)
        data = directory.read(name, MAX_ENTRY_BYTES) if directory is not None else None
        if data is None or len(data) < _MAC:
            return None
        body = memoryview(data)[_MAC:]
        if not hmac.compare_digest(data[:_MAC], secret.mac(self._key, where.encode(), name.encode(), body)):
            return None
        return bytes(body)

    def _write(self, where: str, name: str, body: bytes) -> bool:
        if _MAC + len(body) > MAX_ENTRY_BYTES or not self._ensure_dirs():
            return False
        signed = secret.mac(self._key, where.encode(), name.encode(), body) + body
        directory = self._dirs[where]
        if directory is None:  # never once _ensure_dirs() succeeded: created or raised
            return False
        try:
            directory.write(name, signed)
            return True
        except OSError:
            self._writable = False
            return False

    def _ensure_dirs(self) -> bool:
        if self._writable is None:
            try:
                self._open_dirs(create=True)
                top = self._dirs["top"]
                for name, text in ((".gitignore", _IGNORE), ("CACHEDIR.TAG", _TAG)):
                    if top is not None and not top.exists(name):
                        top.write(name, text.encode())
                self._writable = True
            except (OSError, fsdir.Unsafe):
                self._writable = False
        return bool(self._writable)

    # -- index ----------------------------------------------------------------------------
    def _read_index(self) -> Dict[str, Record]:
        body = self._read("base", "index")
        if body is None:
            return {}
        try:
            return _valid_index(codec.decode_data(body))
        except (ValueError, TypeError):  # codec.Invalid included: start afresh
            return {}

    def known_digest(self, path: str, st: Stat) -> Optional[str]:
        """The recorded digest of ``path`` when its stat still matches and is not racy."""
        self.seen.add(path)
        record = self.index.get(path)
        if record is None or record[:3] != st:
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
    def load(self, key: str, shown: str, module: str) -> Optional[ModuleSummary]:
        """The summary stored under ``key``, or None when missing or unusable."""
        self.used.add(key)
        body = self._read("files", key)
        if body is None:
            return None
        try:
            summary = codec.decode_summary(body)
        except (ValueError, TypeError):  # codec.Invalid included
            return None
        if summary.path != shown or summary.module != module:
            return None
        return summary

    def store(self, key: str, body: bytes) -> None:
        """Store a summary already encoded (``codec.encode_summary``, done by the worker)."""
        self.used.add(key)
        if self._write("files", key, body):
            self._stored.add("files")

    # -- whole-run findings ---------------------------------------------------------------
    def findings_key(self, keys: Sequence[str], shown: Sequence[str], config: Config, environment: str = "") -> str:
        """Every input of a run's findings: all file keys in order, the checked files, the
        complete configuration, the working directory (display paths are relative to it) and
        the installed distributions calls are followed into."""
        return _hash("\0".join((self.salt, repr(config), os.getcwd(), "\n".join(shown), "\n".join(keys), environment)))

    def load_findings(self, key: str) -> Optional[List[Finding]]:
        """The findings of a run with the same inputs, unless a library file it read has changed since."""
        body = self._read("findings", key)
        if body is None:
            return None
        try:
            run = codec.decode_findings(body)
        except (ValueError, TypeError):  # codec.Invalid included
            return None
        for path, recorded in run.inputs.items():
            try:
                if stat_key(os.stat(path)) != recorded:
                    return None
            except (OSError, ValueError):
                return None
        return run.findings

    def store_findings(self, key: str, findings: List[Finding], inputs: Mapping[str, Stat]) -> None:
        """``inputs``: the library files the findings come from, with their stat when read."""
        if not self._write("findings", key, codec.encode_findings(codec.RunFindings(findings, dict(inputs)))):
            return
        directory = self._dirs["findings"]
        if directory is None:  # written just now, so open
            return
        entries = self._own_entries(directory)
        entries.sort(key=lambda entry: entry[1], reverse=True)
        for name, _ in entries[KEEP_FINDINGS:]:
            directory.remove(name)

    # -- fix plans --------------------------------------------------------------------------
    def plan_key(self, *inputs: str) -> str:
        return _hash("\0".join((self.salt, "plan", *inputs)))

    def load_refusals(self, key: str) -> Optional[Dict[int, str]]:
        """What a plan stored under ``key`` refused: a finding's position among its file's -> the reason."""
        self.used.add(key)
        body = self._read("plans", key)
        if body is None:
            return None
        try:
            data = codec.decode_data(body)
        except (ValueError, TypeError):  # codec.Invalid included
            return None
        if type(data) is not dict or not all(type(position) is str and position.isascii() and position.isdigit()
                                             and type(reason) is str for position, reason in data.items()):
            return None
        return {int(position): reason for position, reason in data.items()}

    def store_refusals(self, key: str, refused: Mapping[int, str]) -> None:
        self.used.add(key)
        if self._write("plans", key, codec.encode_data({str(position): reason for position, reason in refused.items()})):
            self._stored.add("plans")

    # -- saving and pruning ---------------------------------------------------------------
    def save(self) -> None:
        """Write the index if it changed; when this run added entries, drop stale ones."""
        try:
            for path in [p for p in self.index if p not in self.seen]:
                if not os.path.exists(path):
                    del self.index[path]  # a deleted file
                    self._dirty = True
            if self._dirty:
                self._write("base", "index", codec.encode_data({path: list(record) for path, record in self.index.items()}))
            if self._stored:
                self._prune()
        finally:
            self.close()

    @staticmethod
    def _own_entries(directory: fsdir.Directory) -> List[Tuple[str, float]]:
        """(name, mtime) of the entries in ``directory``: regular files named like a key, and
        temporary files older than TEMP_AGE_S (removed here). Nothing else is touched."""
        now = time.time()
        found = []
        for entry in directory.regular_files():
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if _ENTRY_NAME.match(entry.name):
                found.append((entry.name, mtime))
            elif entry.name.startswith(fsdir.TEMP_PREFIX) and now - mtime > TEMP_AGE_S:
                directory.remove(entry.name)
        return found

    def _prune(self) -> None:
        """Entries not used for PRUNE_AGE_S, in the directories this run wrote to (another run,
        or another part of this one, uses the others)."""
        cutoff = time.time() - PRUNE_AGE_S
        for where in sorted(self._stored):
            directory = self._dirs.get(where)
            if directory is None:
                continue
            for name, mtime in self._own_entries(directory):
                if name not in self.used and mtime < cutoff:
                    directory.remove(name)
