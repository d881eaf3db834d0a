"""A rule selection that names no rule (a typo such as BLK999 or BLK50) or selects nothing is an
error, exit 2, one line naming the code and where it came from: it must never switch the check off
and pass. The real CLI in a subprocess, on real files in tmp_path."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Tuple

import pytest

from offload_cli import run_offload

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CUSTOM_RULE = ('[[tool.offload.blocking-calls]]\ncode = "BLK191"\nname = "blocking-legacy-db"\n'
               'summary = "legacy database call in an async function"\ncalls = ["legacy.db.query"]\n')
LEGACY = "import legacy.db\n\n\nasync def handler():\n    legacy.db.query()\n"


def project(tmp_path: Path, config: str = "", source: str = BLOCKING) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n' + config)
    (tmp_path / "app.py").write_text(source)
    return tmp_path


def error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("option, value, message", [
    ("--select", "BLK999", "--select: 'BLK999' matches no rule"),
    ("--select", "BLK50", "--select: 'BLK50' matches no rule"),
    ("--select", "BLK100,blk777", "--select: 'BLK777' matches no rule"),
    ("--select", "", "--select: empty: it selects no rule"),
    ("--ignore", "BLK5", "--ignore: 'BLK5' matches no rule"),
])
def test_option_naming_no_rule_is_an_error(tmp_path: Path, option: str, value: str, message: str):
    line = error_line(run_offload("check", "--no-cache", option, value, "app.py", cwd=project(tmp_path)))
    assert line.startswith(f"error: {message}"), line


@pytest.mark.parametrize("config, message", [
    ('select = ["BLK999"]', "[tool.offload].select: 'BLK999' matches no rule"),
    ("select = []", "[tool.offload].select: empty: it selects no rule"),
    ('select = ["BLK50"]', "[tool.offload].select: 'BLK50' matches no rule"),
    ('ignore = ["BLK100", "BLK998"]', "[tool.offload].ignore: 'BLK998' matches no rule"),
    ('[tool.offload.per-file-ignores]\n"tests/*" = ["BLK77"]',
     "[tool.offload].per-file-ignores.tests/*: 'BLK77' matches no rule"),
    ('select = ["BLK192"]\n' + CUSTOM_RULE, "[tool.offload].select: 'BLK192' matches no rule"),
])
def test_config_naming_no_rule_is_an_error_naming_the_file(tmp_path: Path, config: str, message: str):
    line = error_line(run_offload("check", "--no-cache", "app.py", cwd=project(tmp_path, "[tool.offload]\n" + config)))
    assert line.startswith(f"error: pyproject.toml: {message}"), line


@pytest.mark.parametrize("args, config", [
    (("--select", "BLK1", "--ignore", "BLK1"), ""),
    (("--ignore", "BLK"), ""),
    (("--select", "ALL", "--ignore", "BLK1,BLK2,BLK3"), ""),
    (("--select", "BLK19", "--ignore", "BLK190,BLK191"), CUSTOM_RULE),  # the config defines BLK191
    ((), 'select = ["BLK110"]\nignore = ["BLK11"]'),
])
def test_a_selection_that_leaves_no_rule_is_an_error(tmp_path: Path, args: Tuple[str, ...], config: str):
    # It would pass every file without looking: diagnostics (BLK9xx) alone check nothing.
    line = error_line(run_offload("check", "--no-cache", *args, "app.py", cwd=project(tmp_path, "[tool.offload]\n" + config)))
    assert line.startswith("error: no rule is left to check: select "), line


def codes(result: subprocess.CompletedProcess) -> Tuple[str, ...]:
    return tuple(line.split(" ")[1] for line in result.stdout.splitlines())


def test_codes_of_rules_the_config_defines_are_known(tmp_path: Path):
    root = project(tmp_path, '[tool.offload]\nselect = ["BLK191"]\n' + CUSTOM_RULE, LEGACY)
    selected = run_offload("check", "--no-cache", "app.py", cwd=root)
    assert selected.returncode == 1 and codes(selected) == ("BLK191",), selected.stderr
    ignored = run_offload("check", "--no-cache", "--select", "BLK1", "--ignore", "BLK191", "app.py", cwd=root)
    assert ignored.returncode == 0 and ignored.stdout == "", ignored.stderr


def test_codes_and_prefixes_that_name_rules_still_select(tmp_path: Path):
    root = project(tmp_path, '[tool.offload]\nselect = ["BLK1"]\nignore = []\n'
                   '[tool.offload.per-file-ignores]\n"tests/*" = []\n')
    for selection in ("BLK100", "BLK1", "ALL", "blk"):
        result = run_offload("check", "--no-cache", "--select", selection, "--ignore", "", "app.py", cwd=root)
        assert result.returncode == 1 and codes(result) == ("BLK100",), (selection, result.stderr)


def test_files_that_could_not_be_analysed_are_reported_whatever_select_names(tmp_path: Path):
    root = project(tmp_path, '[tool.offload]\nselect = ["BLK100"]\n')
    (root / "broken.py").write_text("async def f(:\n    pass\n")
    (root / "latin1.py").write_bytes("# caf\xe9\nx = 1\n".encode("latin-1"))
    result = run_offload("check", "--no-cache", "--select", "BLK1", ".", cwd=root)
    assert result.returncode == 1 and sorted(codes(result)) == ["BLK100", "BLK900", "BLK901"], result.stderr
    ignored = run_offload("check", "--no-cache", "--ignore", "BLK900,BLK901", "broken.py", "latin1.py", cwd=root)
    assert ignored.returncode == 0 and ignored.stdout == "", ignored.stderr
