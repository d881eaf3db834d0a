"""`offload check --diff` headers for file names a shell allows but a patch line cannot hold as they
are: quoted as git quotes them, so the patch applies with git (and GNU patch) and a name cannot
drive the terminal the patch is shown on. The real CLI in a subprocess, real git in tmp_path."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from detector.patch import unified

BLOCKING = b"import time\n\n\nasync def handler():\n    time.sleep(1)\n"
FIXED = b"import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"
# Each name, and its header as `git diff` writes it (core.quotePath's default).
NAMES: Dict[str, bytes] = {
    "new\nline.py": b'"a/new\\nline.py"',
    "esc\x1b]0;pwned\x07.py": b'"a/esc\\033]0;pwned\\a.py"',
    "tab\there.py": b'"a/tab\\there.py"',
    'say "hi".py': b'"a/say \\"hi\\".py"\t',
    "back\\slash.py": b'"a/back\\\\slash.py"',
    "caf\u00e9.py": b'"a/caf\\303\\251.py"',
    "bad\udcff.py": b'"a/bad\\377.py"',  # a name that is not UTF-8: its byte
    "plain.py": b"a/plain.py",
    "with space.py": b"a/with space.py\t",
}


def headers(diff: bytes) -> List[bytes]:
    return [line for line in diff.split(b"\n") if line.startswith((b"--- ", b"+++ "))]


def test_headers_quote_names_as_git_does_and_leave_plain_names_alone():
    for name, expected in NAMES.items():
        lines = headers(unified(name, BLOCKING, FIXED))
        assert lines == [b"--- " + expected, b"+++ " + expected.replace(b"a/", b"b/", 1)], name


def git(cwd: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd,
                          input=stdin, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_of_files_with_control_characters_in_their_names_applies_with_git(tmp_path: Path):
    assert git(tmp_path, "init", "-q").returncode == 0
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "x"\n')
    for name in NAMES:
        (tmp_path / name).write_bytes(BLOCKING)
    assert git(tmp_path, "add", "-A").returncode == 0
    assert git(tmp_path, "commit", "-qm", "start").returncode == 0
    result = subprocess.run([sys.executable, "-m", "detector", "check", "--no-cache", "-q", "--diff"], cwd=tmp_path,
                            capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 1, result.stderr
    lines = headers(result.stdout)
    assert len(lines) == 2 * len(NAMES), lines
    # Nothing in a header can drive a terminal: no control character but the tab after a name with a space.
    assert not [line for line in lines if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", line)], lines
    assert sorted(line for line in lines if line.startswith(b"--- ")) == sorted(b"--- " + h for h in NAMES.values())
    check = git(tmp_path, "apply", "--check", stdin=result.stdout)
    assert check.returncode == 0, check.stderr
    if shutil.which("patch"):
        dry_run = subprocess.run(["patch", "-p1", "--dry-run"], cwd=tmp_path, input=result.stdout,
                                 capture_output=True, timeout=60)
        assert dry_run.returncode == 0, dry_run.stdout + dry_run.stderr
    assert git(tmp_path, "apply", stdin=result.stdout).returncode == 0
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == FIXED, name
    # The headers are the ones git writes for the same changes.
    assert sorted(lines) == sorted(headers(git(tmp_path, "diff").stdout))


def test_a_refused_fix_names_its_file_with_control_characters_escaped(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "x"\n')
    (tmp_path / "clear\x1b[2J.py").write_bytes(b"import time\n\n\nasync def g(asyncio):\n    time.sleep(0.01)\n")
    result = subprocess.run([sys.executable, "-m", "detector", "check", "--no-cache", "--diff"], cwd=tmp_path,
                            capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 1, result.stderr
    assert b"\x1b" not in result.stderr
    assert b"clear\\x1b[2J.py:5:5: BLK100 not fixed: `asyncio` here is a parameter" in result.stderr
