"""``--write-baseline`` / ``--baseline``: findings matched by content, not by line numbers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector import baseline
from detector.cli import main

APP = '''import asyncio, time


async def main():
    time.sleep(1)
    time.sleep(2)
    open("x")
'''


@pytest.fixture()
def project(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def test_write_then_check_reports_nothing(project: Path):
    written = run("--write-baseline", "offload-baseline.json")
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert "Wrote 3 findings to the baseline" in written.stderr
    data = json.loads((project / "offload-baseline.json").read_text())
    assert data["version"] == 1
    assert data["findings"] == [
        {"code": "BLK100", "path": "app.py", "function": "main", "call": "time.sleep", "occurrence": 0},
        {"code": "BLK100", "path": "app.py", "function": "main", "call": "time.sleep", "occurrence": 1},
        {"code": "BLK130", "path": "app.py", "function": "main", "call": "open", "occurrence": 0},
    ]
    checked = run("--baseline", "offload-baseline.json")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout == ""
    assert "3 more findings hidden by the baseline" in checked.stderr


def test_unrelated_edits_do_not_resurface_and_new_findings_do(project: Path):
    run("--write-baseline", "baseline.json")
    # Lines added above, the function renamed nowhere, arguments changed: still the same findings.
    (project / "app.py").write_text("import time\n# a comment\n\n\n" + APP.split("\n", 1)[1].replace("sleep(2)", "sleep(  20 )"))
    assert run("--baseline", "baseline.json").exit_code == 0
    # A third sleep in the same function is new: exactly one finding, and it is the last one.
    (project / "app.py").write_text(APP + "    time.sleep(3)\n")
    result = run("--baseline", "baseline.json")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("app.py:8:5: BLK100"), lines
    # The same call in a new function is new too.
    (project / "app.py").write_text(APP + "\n\nasync def other():\n    time.sleep(1)\n")
    result = run("--baseline", "baseline.json")
    assert result.exit_code == 1 and "async function `other`" in result.stdout and result.stdout.count("\n") == 1


def test_fixed_findings_leave_stale_entries_reported(project: Path):
    run("--write-baseline", "baseline.json")
    (project / "app.py").write_text(APP.replace('    open("x")\n', ""))
    result = run("--baseline", "baseline.json")
    assert result.exit_code == 0
    assert "1 baseline entry no longer found" in result.stderr


def test_baseline_paths_are_relative_to_the_baseline_file(project: Path, monkeypatch):
    (project / "ci").mkdir()
    run("--write-baseline", "ci/baseline.json")
    data = json.loads((project / "ci" / "baseline.json").read_text())
    assert {entry["path"] for entry in data["findings"]} == {"../app.py"}
    monkeypatch.chdir(project / "ci")
    assert run("--baseline", "baseline.json", "..").exit_code == 0


def test_fix_with_a_baseline_fixes_everything_and_reports_only_new(project: Path):
    run("--write-baseline", "baseline.json")
    (project / "app.py").write_text(APP + "    time.sleep(3)\n")
    result = run("--baseline", "baseline.json", "--fix")
    assert result.exit_code == 0, result.output  # open() is left (unsafe fix) but baselined
    text = (project / "app.py").read_text()
    assert "await asyncio.sleep(1)" in text and "await asyncio.sleep(3)" in text and 'open("x")' in text
    assert "2 baseline entries no longer found" in result.stderr


@pytest.mark.parametrize("content, message", [
    (None, "baseline file not found"),
    ("{not json", "invalid JSON"),
    ("[]", "'version' field"),
    ('{"version": 99, "findings": []}', "unsupported baseline version 99"),
    ('{"version": 1, "findings": {}}', "'findings' must be a list"),
    ('{"version": 1, "findings": [{"code": "BLK100"}]}', "findings[0]: expected the keys"),
    ('{"version": 1, "findings": [{"code": "BLK100", "path": "a", "function": "f", "call": "c", "occurrence": -1}]}',
     "findings[0]: expected strings"),
])
def test_missing_or_invalid_baseline_is_exit_2(project: Path, content, message):
    if content is not None:
        (project / "baseline.json").write_text(content)
    result = run("--baseline", "baseline.json")
    assert result.exit_code == 2
    assert "error: baseline.json: " in result.stderr and message in result.stderr
    assert result.stdout == ""


def test_baseline_and_write_baseline_together_is_usage_error(project: Path):
    (project / "b.json").write_text(baseline.dumps([], project / "b.json"))
    assert run("--baseline", "b.json", "--write-baseline", "c.json").exit_code == 2


def test_write_baseline_with_an_unreadable_path_writes_nothing(project: Path):
    result = run("app.py", "missing.py", "--write-baseline", "b.json")
    assert result.exit_code == 2
    assert not (project / "b.json").exists()


def test_keys_number_identical_findings_in_file_order():
    from detector.runner import check_source

    findings = check_source(APP, "app.py")
    reversed_keys = baseline.keys(list(reversed(findings)))
    assert list(reversed(reversed_keys)) == baseline.keys(findings)
    assert [key[-1] for key in baseline.keys(findings)] == [0, 1, 0]
