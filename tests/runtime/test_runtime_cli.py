"""`offload watch`: options, exit codes, report file, child processes, sitecustomize chaining."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.runtime.session import BOOTSTRAP_DIR
from detector.runtime.cli import watch as watch_command
from runtime_helpers import PROGRAMS, marked, watch, watch_json


def test_no_command_is_a_usage_error():
    result = CliRunner().invoke(watch_command, [])
    assert result.exit_code == 2
    assert "missing command" in result.output


def test_threshold_must_be_positive():
    result = CliRunner().invoke(watch_command, ["--threshold", "0", "--", sys.executable, "-c", "pass"])
    assert result.exit_code == 2
    assert "positive" in result.output


@pytest.mark.parametrize("case, status, reason", [
    ("missing", 127, "command not found"),
    ("no-shebang", 126, "Exec format error"),
    ("through-a-file", 126, "Not a directory"),
    ("not-executable", 126, "Permission denied"),
])
def test_command_that_cannot_start_gets_one_line_and_a_shell_status(tmp_path, case, status, reason):
    (tmp_path / "notexec.bin").write_text("not a program\n")
    (tmp_path / "notexec.bin").chmod(0o755)
    (tmp_path / "file.txt").write_text("x\n")
    (tmp_path / "plain").write_text("#!/bin/sh\n")
    (tmp_path / "plain").chmod(0o644)
    command = {"missing": "./no-such-command", "no-shebang": "./notexec.bin",
               "through-a-file": "file.txt/x", "not-executable": "./plain"}[case]
    result = watch("--", command, cwd=tmp_path)
    assert result.returncode == status
    assert result.stderr == f"offload: cannot start {command}: {reason}\n"


def test_exit_code_passes_through_and_report_is_written(tmp_path):
    report_path = tmp_path / "stalls.json"
    result = watch("--report", str(report_path), "--", "exit_code.py")  # a .py runs with this Python
    assert result.returncode == 3
    report = json.loads(report_path.read_text())
    assert report["version"] == 1 and report["exit_code"] == 3 and report["threshold"] == 0.1
    assert report["command"] == ["exit_code.py"]
    assert report["cwd"] == str(PROGRAMS)
    (stall,) = report["stalls"]
    row, _ = marked(PROGRAMS / "exit_code.py", "STALL")
    assert stall["user_frame"]["row"] == row
    assert [p.name for p in tmp_path.iterdir()] == ["stalls.json"]  # no temporary file left
    assert result.stdout == ""  # text format: the summary goes to stderr
    assert f"exit_code.py:{row}:5: event loop stalled" in result.stderr


def test_json_format_prints_the_report_on_stdout_through_click():
    result = CliRunner().invoke(
        watch_command, ["--format", "json", "--", sys.executable, str(PROGRAMS / "sleep.py")]
    )
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert [stall["verdict"] for stall in report["stalls"]] == ["blocking"]
    assert "1 event-loop stall over 100 ms" in result.stderr


def test_threshold_option_filters_short_stalls():
    report = watch_json(sys.executable, "sleep.py", threshold="1.0")
    assert report["stalls"] == [] and report["threshold"] == 1.0 and report["processes"] == 1


def test_python_dash_m_module():
    report = watch_json(sys.executable, "-m", "sleep", "uvloop")
    (stall,) = report["stalls"]
    assert stall["user_frame"]["filename"] == str(PROGRAMS / "sleep.py")


def test_stalls_in_child_python_processes_are_merged():
    report = watch_json(sys.executable, "parent.py")
    (stall,) = report["stalls"]
    assert stall["user_frame"]["filename"] == str(PROGRAMS / "sleep.py")
    assert report["processes"] == 1  # parent.py itself never runs an event loop


def test_forked_children_write_their_own_stalls(tmp_path):
    program = tmp_path / "forks.py"
    program.write_text(
        "import asyncio, multiprocessing, os, time\n"
        "async def block():\n"
        "    time.sleep(0.3)  # STALL\n"
        "def child():\n"
        "    asyncio.run(block())\n"
        "asyncio.run(block())\n"
        "process = multiprocessing.get_context('fork').Process(target=child)\n"
        "process.start(); process.join()\n"
    )
    report = watch_json(sys.executable, str(program), cwd=tmp_path)
    stalls = report["stalls"]
    assert len(stalls) == 2 and len({stall["pid"] for stall in stalls}) == 2, report["_stderr"]
    assert report["processes"] == 2


def test_not_a_python_command_is_reported():
    result = watch("--", "true")
    assert result.returncode == 0
    assert "no event loop ran under the watchdog" in result.stderr


def _user_sitecustomize(tmp_path: Path) -> Path:
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "sitecustomize.py").write_text(
        "import os\n"
        "open(os.environ['USER_SITECUSTOMIZE_MARK'], 'w').write('ran')\n"
    )
    return site_dir


def test_existing_sitecustomize_still_runs(tmp_path):
    site_dir = _user_sitecustomize(tmp_path)
    mark = tmp_path / "mark"
    env = dict(os.environ, PYTHONPATH=str(site_dir), USER_SITECUSTOMIZE_MARK=str(mark))
    report = watch_json(sys.executable, "sleep.py", env=env)
    assert len(report["stalls"]) == 1
    assert mark.read_text() == "ran"


def test_bootstrap_is_inert_without_the_environment_variable(tmp_path):
    site_dir = _user_sitecustomize(tmp_path)
    mark = tmp_path / "mark"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFLOAD_")}
    env.update(PYTHONPATH=os.pathsep.join([BOOTSTRAP_DIR, str(site_dir)]), USER_SITECUSTOMIZE_MARK=str(mark))
    code = (
        "import sys, asyncio\n"
        "print(sorted(m for m in sys.modules if m.startswith(('detector', '_offload'))))\n"
        "print(type(asyncio.BaseEventLoop.run_forever).__name__, asyncio.BaseEventLoop.run_forever.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "function asyncio.base_events"]
    assert mark.read_text() == "ran"


def test_runtime_loads_privately_where_offload_is_not_installed(tmp_path):
    # An interpreter that cannot import `detector` (-S: no site-packages, so no editable
    # install) still gets the watchdog, without a `detector` module appearing.
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import sitecustomize, asyncio, time\n"
        "async def main():\n"
        "    time.sleep(0.2)\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('detector', '_offload_runtime'))[:1])\n"
    )
    env = dict(os.environ, OFFLOAD_WATCH_DIR=str(tmp_path), OFFLOAD_WATCH_THRESHOLD="0.1")
    env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, BOOTSTRAP_DIR], env=env, capture_output=True, text=True,
        check=True, cwd=tmp_path,
    )
    assert out.stdout.strip() == "['_offload_runtime']", out.stderr
    (written,) = [p for p in tmp_path.iterdir() if p.suffix == ".jsonl"]
    records = [json.loads(line) for line in written.read_text().splitlines()]
    assert [r["type"] for r in records] == ["process", "stall"]
    assert records[1]["verdict"] == "blocking"
