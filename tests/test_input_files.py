"""Baselines, static findings and runtime reports read back from disk are untrusted: a malformed
one is "not a valid ..." and exit 2, never a traceback; diagnostics are never baselined; with
``--runtime``, json and sarif output stay one valid document on stdout."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from offload_cli import invoke_offload as offload
from offload_cli import run_offload

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    return tmp_path


def stall_report(project: Path, **stall_changes) -> dict:
    frame = {"filename": str(project / "app.py"), "function": "handler", "row": 5, "column": 5, "end_row": 5,
             "end_column": 18, "line": "    time.sleep(1)", "kind": "user"}
    stall = {"duration": 0.3, "started_at": 1.0, "verdict": "blocking", "task": "Task-1", "loop_thread": "MainThread",
             "loop": "asyncio", "pid": 1, "samples": 3, "cpu": 0.0, "runnable": 0.0, "user_frame": frame,
             "innermost_frame": frame, "coroutine_frame": frame, "stack": [frame], "seen": []}
    stall.update(stall_changes)
    return {"version": 1, "tool": "offload", "command": ["python", "app.py"], "cwd": str(project),
            "threshold": 0.1, "exit_code": 0, "processes": 1, "stalls": [stall]}


def assert_clean_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr


# -- baselines ------------------------------------------------------------------------------------
@pytest.mark.parametrize("content, why", [
    ("[" * 100000, "invalid JSON: nested too deeply"),
    ('{"version": ' + "1" * 5000 + ', "findings": []}', "invalid JSON: Exceeds the limit"),
    ('{"version": true, "findings": []}', "'version' must be an integer"),
    ('{"version": 1, "findings": {}}', "'findings' must be a list"),
    ('{"version": 1, "findings": [{"code": 1, "path": "a", "function": "f", "call": "c", "occurrence": 0}]}',
     "findings[0]: expected strings"),
    ('{"version": 1, "findings": [{"code": "BLK100", "path": "a", "function": "f", "call": "c", "occurrence": '
     + "9" * 5000 + "}]}", "invalid JSON"),
])
def test_malformed_baseline_is_not_a_valid_baseline(project: Path, content: str, why: str):
    (project / "b.json").write_text(content)
    assert_clean_error(offload("check", "--no-cache", "--baseline", "b.json", "app.py", cwd=project),
                       f"error: b.json: not a valid baseline ({why}")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_baseline_that_is_a_fifo_is_refused_not_waited_on(project: Path):
    os.mkfifo(project / "b.json")
    assert_clean_error(run_offload("check", "--no-cache", "--baseline", "b.json", "app.py", cwd=project),
                       "error: b.json: cannot read baseline: not a regular file")


def test_unparsable_file_is_never_baselined(project: Path):
    (project / "app.py").unlink()
    broken = project / "broken.py"
    broken.write_text("def f(:\n")
    written = offload("check", "--no-cache", "--write-baseline", "b.json", ".", cwd=project)
    assert written.returncode == 0, written.stderr
    assert "1 file could not be analysed" in written.stderr
    assert json.loads((project / "b.json").read_text())["findings"] == []
    # The file gains a blocking call; it still does not parse further down: reported, not hidden.
    broken.write_text(BLOCKING + "\n\ndef g(:\n")
    checked = offload("check", "--no-cache", "--baseline", "b.json", ".", cwd=project)
    assert checked.returncode == 1
    assert "broken.py:8:7: BLK900" in checked.stdout
    assert "All checks passed" not in checked.stderr


def test_diagnostic_recorded_by_an_older_baseline_is_still_reported(project: Path):
    (project / "broken.py").write_text("def f(:\n")
    entry = {"code": "BLK900", "path": "broken.py", "function": "", "call": "", "occurrence": 0}
    (project / "b.json").write_text(json.dumps({"version": 1, "findings": [entry]}))
    checked = offload("check", "--no-cache", "--baseline", "b.json", "broken.py", cwd=project)
    assert checked.returncode == 1
    assert "broken.py:1:7: BLK900" in checked.stdout


# -- offload confirm / check --runtime -----------------------------------------------------------
@pytest.mark.parametrize("changes, why", [
    ({"duration": "slow"}, "stalls[0].duration: expected a number"),
    ({"duration": float("nan")}, "stalls[0].duration: expected a number"),
    ({"stack": [5]}, "stalls[0].stack[0]: expected an object"),
    ({"stack": 5}, "stalls[0].stack: expected a list"),
    ({"user_frame": {"filename": "a.py", "row": "5"}}, "stalls[0].user_frame.row: expected an integer"),
    ({"verdict": ["blocking"]}, "stalls[0].verdict: expected a string"),
])
def test_malformed_runtime_report_is_an_error(project: Path, changes: dict, why: str):
    (project / "r.json").write_text(json.dumps(stall_report(project, **changes)))
    (project / "s.json").write_text(offload("check", "--no-cache", "--output-format", "json", "app.py",
                                            cwd=project).stdout)
    expected = f"r.json: not an offload watch report ({why})"
    assert_clean_error(offload("confirm", "s.json", "r.json", cwd=project), expected)
    assert_clean_error(offload("check", "--no-cache", "--runtime", "r.json", "app.py", cwd=project), expected)


@pytest.mark.parametrize("static", [
    "[" * 100000,
    '[{"filename": "app.py", "location": {"row": 5}, "chain": [5]}]',
    '[{"filename": "app.py", "location": {"row": 5}, "message": 5}]',
])
def test_malformed_static_findings_are_an_error(project: Path, static: str):
    (project / "r.json").write_text(json.dumps(stall_report(project)))
    (project / "s.json").write_text(static)
    result = offload("confirm", "s.json", "r.json", cwd=project)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "s.json" in result.stderr


def test_deeply_nested_runtime_report_is_an_error(project: Path):
    (project / "r.json").write_text("[" * 100000)
    assert_clean_error(offload("check", "--no-cache", "--runtime", "r.json", "app.py", cwd=project),
                       "r.json is not valid JSON: nested too deeply")


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_runtime_join_keeps_structured_stdout_one_document(project: Path, fmt: str):
    (project / "r.json").write_text(json.dumps(stall_report(project)))
    result = offload("check", "--no-cache", "--output-format", fmt, "--runtime", "r.json", "app.py", cwd=project)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    if fmt == "json":
        statuses = [record["runtime"]["status"] for record in document]
    else:
        statuses = [r["properties"]["runtime"]["status"] for r in document["runs"][0]["results"]]
    assert statuses == ["confirmed"]
    assert "offload confirm: 1 confirmed" in result.stderr


def test_missing_runtime_report_fails_before_any_output(project: Path):
    result = offload("check", "--no-cache", "--runtime", "nope.json", "app.py", cwd=project)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "nope.json" in result.stderr
