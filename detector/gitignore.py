"""``.gitignore`` rules, applied the way git applies them.

Rules come from every ``.gitignore`` between the top of the tree (the git repository, else
the project root) and the path, each relative to its own directory, and from
``.git/info/exclude``; a deeper file's rule wins over a shallower one, and within a file the
last matching rule wins (so ``!keep.py`` re-includes). The user's global excludes file is not
read: what is checked depends on the project only.

Patterns are matched component by component (``wildmatch``), never through a regular
expression: a hostile line such as ``*a*a*a*a*a*a*a*a*a*a*b`` costs at most its length times
the path's, where a backtracking regular expression takes hours. A line git discards (an
unclosed ``[``, a trailing ``\\``) is no rule.
"""
from __future__ import annotations

import os
from functools import partial
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from detector import files
from detector.wildmatch import BadGlob, Glob, compile_glob

# A .gitignore is a few kB; one this large is not a list of patterns worth compiling.
MAX_GITIGNORE_BYTES = 1024 * 1024


class _GlobStar:
    """``**`` as a whole component: any number of directories."""


GLOBSTAR = _GlobStar()
Segment = Union[Glob, _GlobStar]


class Match(NamedTuple):
    """How a rule matched a path: the path itself, or only a directory above it."""

    by_directory: bool


_ITSELF = Match(by_directory=False)
_BELOW = Match(by_directory=True)


class Rule:
    """One pattern line. ``ignores`` is False for a ``!`` line; ``everything``: ``**`` or ``*``.

    ``match(parts)`` says whether the rule matches a path's components (a directory's end with
    ``""``); it is chosen once per rule, as the walk asks every rule about every path.
    """

    def __init__(self, ignores: bool, segments: Tuple[Segment, ...], directory_only: bool,
                 everything: bool = False) -> None:
        self.ignores = ignores
        self.segments = segments
        self.directory_only = directory_only  # the line ended with ``/``
        self.match: Callable[[Sequence[str]], Optional[Match]] = self._match
        if everything:
            self.match = _everything
        elif len(segments) == 2 and segments[0] is GLOBSTAR and isinstance(segments[1], Glob):
            # ``name``: one component at any depth (most lines).
            glob = segments[1]
            self.match = (partial(_literal_anywhere, glob.literal) if glob.literal is not None
                          else partial(_anywhere, glob.matches))
        elif len(segments) == 3 and segments[0] is GLOBSTAR and isinstance(segments[1], Glob) \
                and segments[2] is GLOBSTAR:
            # ``name/``: a directory at any depth, and what is below it.
            self.match = partial(_directory_anywhere, segments[1].matches, Match(directory_only))

    def _match(self, parts: Sequence[str]) -> Optional[Match]:
        segments = self.segments
        count = len(parts)
        positions = {0}  # which component the next segment starts at
        for index, segment in enumerate(segments):
            if isinstance(segment, _GlobStar):
                if index == len(segments) - 1:  # a trailing ``/**``: anything below what matched so far
                    below = count > 1 if index == 0 else any(p < count for p in positions)
                    return Match(self.directory_only) if below else None
                low = 0 if index == 0 else min(positions)
                positions = set(range(low, count))
            else:
                positions = {p + 1 for p in positions if p < count and segment.matches(parts[p])}
            if not positions:
                return None
        # Ends at the path's end: the path itself; earlier: a directory above it.
        return Match(by_directory=count not in positions)


def _everything(parts: Sequence[str]) -> Match:
    return _ITSELF


def _literal_anywhere(name: str, parts: Sequence[str]) -> Optional[Match]:
    if parts[-1] == name:  # the last component is the path itself
        return _ITSELF
    return _BELOW if name in parts else None


def _directory_anywhere(matches: Callable[[str], bool], found: Match, parts: Sequence[str]) -> Optional[Match]:
    return found if any(map(matches, parts[:-1])) else None


def _anywhere(matches: Callable[[str], bool], parts: Sequence[str]) -> Optional[Match]:
    if matches(parts[-1]):
        return _ITSELF
    return _BELOW if any(map(matches, parts)) else None


def parse(line: str) -> Optional[Rule]:
    """The rule of one ``.gitignore`` line; None for a blank line, a comment or a line git discards."""
    if not line.endswith("\\ "):
        line = line.rstrip()  # trailing blanks are not part of the pattern, unless escaped
    if not line or line.startswith("#") or line == "/":
        return None
    ignores = not line.startswith("!")
    if not ignores:
        line = line[1:]
    parts = line.split("/")
    directory_only = not parts[-1]
    if not parts[0]:
        del parts[0]  # ``/name``: anchored to the ignore file's directory
    elif len(parts) == 1 or (len(parts) == 2 and not parts[1]):
        if parts[0] != "**":
            parts.insert(0, "**")  # ``name`` or ``name/``: at any depth
    if not parts:
        return None
    if not parts[-1]:
        parts[-1] = "**"  # ``name/``: the directory and everything below it
    parts = [part for i, part in enumerate(parts) if not (i and part == "**" and parts[i - 1] == "**")]
    if (parts == ["**"] and not directory_only) or parts == ["**", "*"]:
        return Rule(ignores, (), directory_only, everything=True)
    try:
        segments = tuple(GLOBSTAR if part == "**" else _segment_glob(part) for part in parts)
    except BadGlob:
        return None
    return Rule(ignores, segments, directory_only)


def _segment_glob(part: str) -> Glob:
    """A component's glob; a lone ``*`` needs at least one character (it names something)."""
    if part == "*":
        return compile_glob("?*")
    return compile_glob(part)


class RuleSet:
    """The rules of one directory's ignore files, in order."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.rules = [rule for rule in map(parse, lines) if rule is not None]

    def verdict(self, parts: Sequence[str]) -> Optional[bool]:
        """Whether the rules ignore the path (None: no rule says).

        The last rule matching the path itself wins; a rule matching only a directory above it
        counts when none does (so ``!dir/keep.py`` after ``dir/`` re-includes the file).
        """
        by_directory: Optional[bool] = None
        for rule in reversed(self.rules):
            found = rule.match(parts)
            if found is None:
                continue
            if not found.by_directory:
                return rule.ignores
            if by_directory is None:
                by_directory = rule.ignores
        return by_directory


class GitIgnore:
    """Whether paths below ``top`` are ignored; each directory's rules are read once."""

    def __init__(self, top: str) -> None:
        self.top = os.path.abspath(top)
        self._rules: Dict[str, Optional[RuleSet]] = {}

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
            rules = self._rule_set(directory)
            if rules is None:
                continue
            verdict = rules.verdict(parts[depth:] + ([""] if is_dir else []))
            if verdict is not None:
                ignored = verdict
        return ignored

    def _rule_set(self, directory: str) -> Optional[RuleSet]:
        if directory not in self._rules:
            lines = _lines(os.path.join(directory, ".gitignore"))
            if directory == self.top:
                lines = _lines(os.path.join(directory, ".git", "info", "exclude")) + lines
            rules = RuleSet(lines)
            self._rules[directory] = rules if rules.rules else None
        return self._rules[directory]


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
