"""The distributions installed in an environment, from their ``*.dist-info`` directories, read as data.

Which import roots a distribution installs comes from ``top_level.txt`` (else the first parts of
``RECORD``); its name and version from the ``Name:`` and ``Version:`` headers of ``METADATA``
(the first ``METADATA_HEAD`` bytes only: the long description after them can be megabytes),
else from the directory name (``charset_normalizer-3.5.3.dist-info``). When several
distributions claim one root (a namespace package, a fork installed over the original), the
owner of a module is the one whose ``RECORD`` lists the module's file; only then is ``RECORD``
read. Every file is read through ``files``: a FIFO, a huge file or garbage is no information,
never a hang or an error; a symlink to outside site-packages is not read.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Sequence

from detector import files

METADATA_HEAD = 64 * 1024
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# PEP 508 names and PEP 440-ish versions: anything else in METADATA is not believed.
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$")
_HEADER = re.compile(r"^([A-Za-z0-9-]+):(.*?)\r?$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}$")
_SITE_DIRECTORIES = ("site-packages", "dist-packages")


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Distributions:
    """The ``*.dist-info`` directories of an environment, read when first asked about."""

    def __init__(self, dist_infos: Sequence[Path]):
        self._dist_infos = tuple(dist_infos)
        self._claims: Optional[Dict[str, List[Path]]] = None  # import root -> dist-infos that list it
        self._metadata: Dict[Path, Distribution] = {}
        self._records: Dict[Path, FrozenSet[str]] = {}

    def owner(self, root: str, site: Optional[Path] = None, relative: Optional[str] = None) -> Optional[Distribution]:
        """The distribution that installed ``relative`` (a path inside site-packages ``site``) under the
        import root ``root``; without a file, or when no ``RECORD`` lists it, the first that claims ``root``."""
        claimants = self.claimants(root)
        if not claimants:
            return None
        if len(claimants) > 1 and site is not None and relative is not None:
            for dist_info in claimants:
                if relative in self._recorded(dist_info, site):
                    return self._distribution(dist_info)
        return self._distribution(claimants[0])

    def claimants(self, root: str) -> List[Path]:
        if self._claims is None:
            self._claims = {}
            for path in self._dist_infos:
                for top in _top_level(path):
                    self._claims.setdefault(top, []).append(path)
        return self._claims.get(root, [])

    def names(self, root: str) -> List[str]:
        """The names of every distribution that claims ``root``."""
        return [self._distribution(path).name for path in self.claimants(root)]

    def all_names(self) -> List[str]:
        return [self._distribution(path).name for path in self._dist_infos]

    def _distribution(self, dist_info: Path) -> Distribution:
        found = self._metadata.get(dist_info)
        if found is None:
            found = self._metadata[dist_info] = _read_metadata(dist_info)
        return found

    def _recorded(self, dist_info: Path, site: Path) -> FrozenSet[str]:
        """The files ``RECORD`` lists, as paths relative to ``site`` (``pkg/mod.py``)."""
        found = self._records.get(dist_info)
        if found is None:
            found = self._records[dist_info] = frozenset(_record_paths(dist_info)) if dist_info.parent == site else frozenset()
        return found


def in_site_packages(path: Path, site: Path) -> bool:
    """Whether ``path``, a name inside the site-packages directory ``site``, is that directory's
    own file once symlinks are followed: it stays inside ``site``, or it is the same file at the
    same place under another site-packages directory, where a package store (Nix, Guix) keeps
    what it links into an environment. A link anywhere else is not."""
    real = os.path.realpath(path)
    if real.startswith(os.path.join(os.path.realpath(site), "")):
        return True
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(site))
    tails = tuple(os.sep + os.path.join(kind, relative) for kind in _SITE_DIRECTORIES)
    return not relative.startswith(os.pardir) and real.endswith(tails)


def _read(dist_info: Path, name: str, head: Optional[int] = None) -> str:
    """The text of a file of ``dist_info`` (its first ``head`` bytes). As for modules, a symlink to
    outside site-packages is not read: UnreadableFile."""
    path = dist_info / name
    if not in_site_packages(path, dist_info.parent):
        raise files.UnreadableFile("a link to outside site-packages")
    data = files.read_file(path).data if head is None else files.read_head(path, head)
    return data.decode("utf-8", "replace")


def _read_metadata(dist_info: Path) -> Distribution:
    """Name and version from ``METADATA``'s headers, each else from the directory name."""
    name, _, version = dist_info.name[: -len(".dist-info")].partition("-")
    try:
        head = _read(dist_info, "METADATA", METADATA_HEAD)
    except files.UnreadableFile:
        return Distribution(name, version)
    fields: Dict[str, str] = {}
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):
            continue  # a folded header's continuation
        header = _HEADER.match(line)
        if header is None:
            break  # the headers end at the first empty line (or at anything that is no header)
        key = header.group(1).lower()
        if key in ("name", "version") and key not in fields:
            fields[key] = header.group(2).strip()
    found_name, found_version = fields.get("name", ""), fields.get("version", "")
    return Distribution(found_name if _NAME.match(found_name) else name,
                        found_version if _VERSION.match(found_version) else version)


def _record_paths(dist_info: Path) -> List[str]:
    try:
        text = _read(dist_info, "RECORD")
    except files.UnreadableFile:
        return []
    try:
        return [row[0] for row in csv.reader(text.splitlines()) if row]
    except csv.Error:  # a NUL byte, an unterminated quote...
        return []


def _top_level(dist_info: Path) -> List[str]:
    """Import roots a distribution installs: ``top_level.txt``, else the first parts of ``RECORD``."""
    for name, first in (("top_level.txt", False), ("RECORD", True)):
        try:
            text = _read(dist_info, name)
        except files.UnreadableFile:
            continue
        roots = []
        for line in text.splitlines():
            item = line.split(",", 1)[0].split("/", 1)[0] if first else line.strip()
            item = item[:-3] if item.endswith(".py") else item
            if _IDENTIFIER.match(item) and item not in roots:
                roots.append(item)
        return roots
    return []
