"""``.gitignore`` patterns: git's semantics, in time bounded by pattern length times path length."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pytest

from detector.gitignore import GitIgnore, RuleSet
from detector.wildmatch import compile_glob

from offload_cli import invoke_offload, run_offload

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def verdict(lines: List[str], path: str) -> Optional[bool]:
    """Whether ``lines`` ignore ``path`` (a trailing ``/``: a directory); None when no rule matches."""
    parts = path.split("/")
    return RuleSet(lines).verdict(parts)


def test_a_backtracking_pattern_does_not_hang_the_walk(tmp_path: Path):
    # With a backtracking matcher, each more ``*a`` pair multiplies the time: 25 take hours.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / ("a" * 40 + ".py")).write_text(BLOCKING)
    (tmp_path / ".gitignore").write_text("*a" * 25 + "b\n")
    run = run_offload("check", "--no-cache", "-q", ".", cwd=tmp_path, timeout=60)
    assert run.returncode == 1 and run.stdout.startswith("a" * 40 + ".py:5:5: BLK"), run.stdout + run.stderr


@pytest.mark.parametrize("glob, name, expected", [
    ("*a" * 30 + "b", "a" * 60, False),
    ("*a" * 30 + "b", "a" * 60 + "b", True),
    ("a*b*c", "aXbYc", True),
    ("a*b*c", "abcb", False),
    ("*", "", True),
    ("?", "", False),
    ("[a-c]x", "bx", True),
    ("[!a-c]x", "bx", False),
    ("[]]", "]", True),
    ("[a-]", "-", True),
    ("[c-a]", "b", False),  # a reversed range holds nothing
    ("\\*", "*", True),
    ("\\*", "x", False),
    ("a**b", "aXYb", True),  # ``**`` inside a component is ``*``
    ("ab*ba", "aba", False),  # a prefix and a suffix may not overlap
    ("ab*ba", "abba", True),
    ("*.py[cod]", "x.pyc", True),
    ("*.py[cod]", "x.py", False),
    ("test_*", "test_", True),
    ("test_*", "tes", False),
    ("build", "build", True),
    ("build", "builds", False),
])
def test_component_globs(glob: str, name: str, expected: bool):
    assert compile_glob(glob).matches(name) is expected


@pytest.mark.parametrize("lines, path, expected", [
    (["*.py"], "a/b/c.py", True),  # a pattern without ``/`` matches at any depth
    (["a*"], "ab/c", True),  # ... and a directory above the path
    (["a*c"], "ab/c", None),  # ``*`` does not cross ``/``
    (["a?c"], "a/c", None),  # nor does ``?``
    (["a[/]c"], "a/c", None),  # a class with ``/`` in it splits the pattern: an unclosed ``[``
    (["/top.py"], "top.py", True),  # a leading ``/`` anchors
    (["/top.py"], "sub/top.py", None),
    (["sub/x.py"], "sub/x.py", True),  # so does a ``/`` inside
    (["sub/x.py"], "deeper/sub/x.py", None),
    (["**/x.py"], "a/b/x.py", True),
    (["**/x.py"], "x.py", True),
    (["a/**/x.py"], "a/x.py", True),  # an inner ``**`` is zero or more directories
    (["a/**/x.py"], "a/b/c/x.py", True),
    (["a/**/x.py"], "b/a/x.py", None),
    (["a/**"], "a/b/c.py", True),
    (["a/**"], "a", None),  # a trailing ``/**`` is what is inside
    (["**"], "anything/at/all.py", True),
    (["**/"], "a/", True),  # ``**/``: any directory
    (["**/"], "a.py", None),
    (["*"], "x.py", True),
    (["*/"], "x.py", None),
    (["build/"], "build/", True),  # a trailing ``/``: directories only
    (["build/"], "build", None),
    (["build/"], "build/x.py", True),
    (["*.py", "!keep.py"], "keep.py", False),  # the last matching rule wins
    (["!keep.py", "*.py"], "keep.py", True),
    (["build/", "!build/keep.py"], "build/keep.py", False),  # a rule on the file beats one on its directory
    (["\\#x.py"], "#x.py", True),  # escapes
    (["\\!x.py"], "!x.py", True),
    (["# x.py", "", "/"], "x.py", None),  # a comment, a blank line and ``/`` are no rules
    (["x.py   "], "x.py", True),  # trailing blanks are dropped...
    (["x.py\\ "], "x.py ", True),  # ... unless escaped
    (["x.py\\"], "x.py", None),  # git discards a trailing backslash...
    (["[x.py"], "[x.py", None),  # ... and an unclosed ``[``
    (["!"], "x.py", None),
])
def test_gitignore_semantics(lines: List[str], path: str, expected: Optional[bool]):
    assert verdict(lines, path) is expected


def test_deeper_ignore_file_wins_and_paths_are_relative_to_it(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".gitignore").write_text("*.py\n")
    (tmp_path / "sub" / ".gitignore").write_text("!/kept.py\n")
    ignore = GitIgnore(str(tmp_path))
    assert ignore.is_ignored(str(tmp_path / "sub" / "kept.py"), is_dir=False) is False
    assert ignore.is_ignored(str(tmp_path / "sub" / "other.py"), is_dir=False) is True
    assert ignore.is_ignored(str(tmp_path / "kept.py"), is_dir=False) is True


def test_a_line_git_discards_is_no_error(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    (tmp_path / ".gitignore").write_text("app.py\\\n!\n[z-a]\n")
    run = invoke_offload("check", "--no-cache", "-q", ".", cwd=tmp_path)
    assert run.returncode == 1 and run.stdout.startswith("app.py:5:5: BLK"), run.stdout + run.stderr
