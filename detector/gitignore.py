"""``.gitignore`` rules, applied the way git applies them, with the ``pathspec`` library.

Rules come from every ``.gitignore`` between the top of the tree (the git repository, else
the project root) and the path, each relative to its own directory, and from
``.git/info/exclude``; a deeper file's rule wins over a shallower one, and within a file the
last matching rule wins (so ``!keep.py`` re-includes). The user's global excludes file is not
read: what is checked depends on the project only.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

import pathspec

from detector import files

# A .gitignore is a few kB; one this large is not a list of patterns worth compiling.
MAX_GITIGNORE_BYTES = 1024 * 1024


class GitIgnore:
    """Whether paths below ``top`` are ignored; each directory's rules are read once."""

    def __init__(self, top: str) -> None:
        self.top = os.path.abspath(top)
        self._specs: Dict[str, Optional[pathspec.PathSpec[Any]]] = {}

    def is_ignored(self, path: str, is_dir: bool) -> bool:
        relative = os.path.relpath(os.path.abspath(path), self.top)
        if relative == os.curdir or relative.startswith(os.pardir + os.sep) or relative == os.pardir:
            return False
        parts = relative.split(os.sep)
        ignored = False
        directory = self.top
        for depth in range(len(parts)):
            if depth:
                directory = os.path.join(directory, parts[depth - 1])
            spec = self._spec(directory)
            if spec is None:
                continue
            below = "/".join(parts[depth:]) + ("/" if is_dir else "")
            verdict = spec.check_file(below).include
            if verdict is not None:
                ignored = verdict
        return ignored

    def _spec(self, directory: str) -> Optional[pathspec.PathSpec[Any]]:
        if directory not in self._specs:
            lines = _lines(os.path.join(directory, ".gitignore"))
            if directory == self.top:
                lines = _lines(os.path.join(directory, ".git", "info", "exclude")) + lines
            self._specs[directory] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[directory]


def _lines(path: str) -> List[str]:
    """The patterns of one ignore file; a missing or unreadable one has none."""
    try:
        data = files.read_file(path, limit=MAX_GITIGNORE_BYTES).data
    except files.UnreadableFile:
        return []
    return data.decode("utf-8", errors="replace").splitlines()


def top_for(directory: str, root: str) -> str:
    """Where ignore rules start for a walk of ``directory``: its git repository, else the project root
    when ``directory`` is inside it, else ``directory`` itself."""
    directory = os.path.abspath(directory)
    candidate = directory
    while True:
        if os.path.exists(os.path.join(candidate, ".git")):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            break
        candidate = parent
    root = os.path.abspath(root)
    inside = os.path.commonpath([directory, root]) == root
    return root if inside else directory
