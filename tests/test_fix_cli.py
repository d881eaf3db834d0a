"""`offload check --fix / --diff` from the command line: the project view of the re-check, refused
fixes reported with their reason (exit 1), diffs that git and GNU patch apply (the real CLI's
standard output, in a subprocess), SARIF fixes from one parse per file."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import libcst
import pytest

from detector.config import Config
from detector.fix import plan_findings
from detector.report import sarif
from detector.runner import check_paths

from offload_cli import invoke_offload


def offload(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return invoke_offload("check", "--no-cache", *args, cwd=cwd, text=False)


def offload_process(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "detector", "check", "--no-cache", *args], cwd=cwd,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=120)


def write(root: Path, files: Dict[str, bytes]) -> None:
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.offload]\n")
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


CROSS_MODULE = {
    "pkg/__init__.py": b"",
    "pkg/util.py": b"def load(path):\n    with open(path) as f:\n        return f.read()\n",
    "pkg/app.py": b"import time\n\nfrom pkg.util import load\n\n\nasync def refresh(path):\n"
                  b"    time.sleep(0.1)\n    return load(path)\n",
}


def test_helper_in_another_module_is_fixed_with_the_rest_of_its_file(tmp_path: Path):
    write(tmp_path, CROSS_MODULE)
    diff = offload(tmp_path, "--diff", "--unsafe-fixes", ".")
    assert diff.returncode == 1, diff.stderr
    assert b"+    return await asyncio.to_thread(load, path)\n" in diff.stdout
    result = offload(tmp_path, "--fix", "--unsafe-fixes", ".")
    assert result.returncode == 0, result.stderr
    assert b"Fixed 2 findings in 1 file." in result.stderr
    assert (tmp_path / "pkg/app.py").read_bytes() == (
        b"import asyncio\n\nfrom pkg.util import load\n\n\nasync def refresh(path):\n"
        b"    await asyncio.sleep(0.1)\n    return await asyncio.to_thread(load, path)\n")


def test_a_refused_fix_is_reported_with_its_reason_and_the_other_files_are_fixed(tmp_path: Path):
    write(tmp_path, {
        "m.py": b"import asyncio\nimport time\n\n\ndef work(url, timeout=None):\n    time.sleep(0.001)\n    return url\n\n\n"
                b"async def fetch(url):\n    return await asyncio.to_thread(work(url, timeout=3), 2)\n",
        "other.py": b"import time\n\n\nasync def unrelated():\n    time.sleep(1)\n",
        "n.py": b"import time\n\n\nasync def g(asyncio):\n    time.sleep(0.01)\n",
    })
    before = (tmp_path / "m.py").read_bytes(), (tmp_path / "n.py").read_bytes()
    result = offload(tmp_path, "--fix", "--unsafe-fixes", ".")
    assert result.returncode == 1, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"m.py:11:36: BLK301 not fixed: the offload call passes more arguments after this call" in result.stderr
    assert b"n.py:5:5: BLK100 not fixed: `asyncio` here is a parameter at line 4" in result.stderr
    assert ((tmp_path / "m.py").read_bytes(), (tmp_path / "n.py").read_bytes()) == before
    assert b"    await asyncio.sleep(1)\n" in (tmp_path / "other.py").read_bytes()
    diff = offload(tmp_path, "--diff", "--unsafe-fixes", ".")
    assert diff.returncode == 1 and b"Traceback" not in diff.stderr
    assert b"BLK301 not fixed" in diff.stderr


def test_a_refusal_in_a_rewritten_file_is_named_at_its_line_in_the_file_as_written(tmp_path: Path):
    write(tmp_path, {"a.py": b"import time\n\n\nasync def f():\n    time.sleep(1)\n    try:\n        pass\n"
                             b"    finally:\n        time.sleep(2)\n"})
    result = offload(tmp_path, "--fix", ".")
    fixed = (tmp_path / "a.py").read_bytes().splitlines()
    assert fixed[0] == b"import asyncio" and fixed[9] == b"        time.sleep(2)"  # one line lower
    assert b"a.py:10:9: BLK100 not fixed: in a `finally` block" in result.stderr
    assert b"a.py:10:9: BLK100 blocking call `time.sleep()`" in result.stdout
    diff = offload(tmp_path, "--diff", ".")  # nothing written: the lines are the file's
    assert b"a.py:10:9: BLK100 not fixed: in a `finally` block" in diff.stderr


BASE = b"import time\n\n\nasync def handler():\n    time.sleep(1)\n"
ODD_FILES = {
    "noeol.py": BASE.rstrip(b"\n"),
    "latin1.py": b'# -*- coding: latin-1 -*-\nimport time\nNAME = "Jos\xe9"\n\n\nasync def handler():\n    time.sleep(1)\n',
    "formfeed.py": b"import time\n\x0c\n\nasync def handler():\n    time.sleep(1)\n",
    "u2028.py": 'import time\nS = "a\u2028b"\n\n\nasync def handler():\n    time.sleep(1)\n'.encode(),
    "cronly.py": BASE.replace(b"\n", b"\r"),
    "crlf.py": BASE.replace(b"\n", b"\r\n"),
    "space name.py": BASE,
}


def per_file(diff: bytes) -> Dict[str, bytes]:
    """The diff of each file in a diff of several: each starts at its ``--- a/NAME`` header."""
    starts: List[int] = [0] if diff.startswith(b"--- a/") else []
    index = diff.find(b"\n--- a/")
    while index != -1:
        starts.append(index + 1)
        index = diff.find(b"\n--- a/", index + 1)
    parts = [diff[start:end] for start, end in zip(starts, starts[1:] + [len(diff)])]
    return {part.split(b"\n", 1)[0][len(b"--- a/"):].rstrip(b"\t").decode(): part for part in parts}


@pytest.fixture(scope="module")
def odd_files_diffed_and_fixed(tmp_path_factory):
    """(each file's diff, each file as --fix writes it): one real ``offload`` run of each for all the files."""
    root = tmp_path_factory.mktemp("odd")
    names = sorted(ODD_FILES)
    write(root / "diffed", ODD_FILES)
    diff = offload_process(root / "diffed", "-q", "--diff", *names)
    assert diff.returncode == 1 and diff.stdout, diff.stderr
    write(root / "fixed", ODD_FILES)
    fixed = offload_process(root / "fixed", "-q", "--fix", *names)
    assert fixed.returncode == 0, fixed.stderr
    return per_file(diff.stdout), {name: (root / "fixed" / name).read_bytes() for name in names}


@pytest.mark.skipif(not (shutil.which("git") and shutil.which("patch")), reason="needs git and GNU patch")
@pytest.mark.parametrize("name", sorted(ODD_FILES))
@pytest.mark.xdist_group("odd-file-diffs")  # on one test process: one pair of runs for all the files
def test_diff_applies_with_git_and_patch_and_gives_what_fix_writes(tmp_path: Path, name: str,
                                                                   odd_files_diffed_and_fixed):
    diffs, fixed = odd_files_diffed_and_fixed
    original = ODD_FILES[name]
    write(tmp_path / "diffed", {name: original})
    assert name in diffs, sorted(diffs)
    (tmp_path / "change.patch").write_bytes(diffs[name])
    expected = fixed[name]
    assert expected != original
    for tool in (["git", "apply", "--check"], ["patch", "-p1", "--dry-run", "--quiet"], ["patch", "-p1", "--quiet"]):
        with open(tmp_path / "change.patch", "rb") as patch_file:
            applied = subprocess.run(tool if tool[0] == "patch" else tool + [str(tmp_path / "change.patch")],
                                     cwd=tmp_path / "diffed", stdin=patch_file, capture_output=True)
        assert applied.returncode == 0, (tool, applied.stdout, applied.stderr)
    assert (tmp_path / "diffed" / name).read_bytes() == expected


def test_fixes_for_sarif_parse_each_file_once(tmp_path: Path, monkeypatch):
    lines = ["import time", "", "", "async def f():"] + [f"    time.sleep({i + 1})" for i in range(43)]
    write(tmp_path, {"app.py": ("\n".join(lines) + "\n").encode()})
    monkeypatch.chdir(tmp_path)
    findings = check_paths(["app.py"]).findings
    assert len(findings) == 43
    parses = []
    real = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module", lambda *a, **k: parses.append(1) or real(*a, **k))
    planned = plan_findings(findings, Config())
    assert len(parses) == 1
    results = json.loads(sarif.render(planned))["runs"][0]["results"]
    assert all(r["fixes"][0]["artifactChanges"][0]["replacements"] for r in results)


SHADOWED = {"jobs.py": b"import time\n\n\nasync def run(asyncio):\n    time.sleep(1)\n\n\nasync def wait():\n    time.sleep(1)\n"}


def test_check_counts_a_fix_the_rewrite_refuses_as_refused_not_fixable(tmp_path: Path):
    write(tmp_path, SHADOWED)
    text = offload(tmp_path, "jobs.py")
    assert b"1 fixable with --fix." in text.stderr  # wait() only
    assert b"(no fix: `asyncio` here is a parameter at line 4" in text.stdout
    records = json.loads(offload(tmp_path, "jobs.py", "--output-format", "json").stdout)
    assert [r["fix"]["applicability"] for r in records] == ["suggestion", "safe"]
    assert "`asyncio` here is a parameter" in records[0]["fix"]["reason"]
    fixed = offload(tmp_path, "jobs.py", "--fix")
    assert b"Fixed 1 finding in 1 file." in fixed.stderr
    assert b"1 fix refused (reasons above); its finding remains." in fixed.stderr
    assert b"Found 1 finding in 1 file checked." in fixed.stderr


SLEEPS = b"import time\n\n\nasync def f():\n    time.sleep(1)\n"


def one_file_under_two_names(root: Path, link: str) -> Path:
    """``src/real.py`` and a second name for it in the project root: a hard link or a symlink."""
    write(root, {"src/real.py": SLEEPS})
    if link == "hard link":
        os.link(root / "src" / "real.py", root / "alias.py")
    else:
        (root / "alias.py").symlink_to(Path("src") / "real.py")
    return root / "src" / "real.py"


# The first name in the walk's order is reported (alias.py, at the top), unless it is a symlink:
# then the file's own name is.
@pytest.mark.parametrize("link, shown", [("hard link", "alias.py"), ("symlink", "src/real.py")])
def test_one_file_under_two_names_is_checked_reported_and_fixed_once(tmp_path: Path, link: str, shown: str):
    real = one_file_under_two_names(tmp_path, link)
    check = offload(tmp_path, ".")
    assert check.returncode == 1 and check.stdout.decode().splitlines() == [
        f"{shown}:5:5: BLK100 blocking call `time.sleep()` in async function `f`; use `await asyncio.sleep(1)`"]
    assert b"1 file checked" in check.stderr, check.stderr
    diff = offload(tmp_path, "--diff", ".")
    assert diff.stdout.decode().count("--- a/") == 1 and f"--- a/{shown}\n" in diff.stdout.decode(), diff.stdout
    fixed = offload(tmp_path, "--fix", ".")
    assert fixed.returncode == 0 and b"error" not in fixed.stderr, fixed.stderr
    assert b"Fixed 1 finding in 1 file." in fixed.stderr
    assert real.read_bytes() == b"import asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)\n"
    assert (tmp_path / "alias.py").read_bytes() == real.read_bytes()
    assert (tmp_path / "alias.py").is_symlink() == (link == "symlink")
