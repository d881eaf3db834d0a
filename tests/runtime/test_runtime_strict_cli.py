"""Strict mode through `offload watch --strict`, the pytest plugin and `offload confirm`."""
from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from detector.runtime.confirm import CONFIRMED, NO_STALL, join
from detector.runtime.cli import confirm as confirm_command
from runtime_helpers import INNER_INI as INI, marked, watch

pytest_plugins = ["pytester"]

APP = """
import asyncio
import os
import sys


def read_config(path):
    with open(path) as handle:  # BLOCKING
        return handle.read()


async def handler(path):
    return read_config(path)  # FIX-SITE


async def main():
    for _ in range(3):
        await handler(__file__)
    await asyncio.to_thread(os.listdir, ".")


if sys.argv[1:] == ["uvloop"]:
    import uvloop

    uvloop.run(main())
else:
    asyncio.run(main())
"""


@pytest.fixture
def app(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(APP.lstrip())
    return path


def strict_json(app, *options, loop="asyncio"):
    # A threshold no call reaches: only strict mode can see these calls.
    result = watch("--threshold", "30", *options, "--format", "json", "--", "python", str(app), loop, cwd=app.parent)
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def test_watch_strict_reports_each_site_once_with_count_and_fix_site(app, loop_kind):
    result, report = strict_json(app, "--strict", loop=loop_kind)
    assert result.returncode == 0, result.stderr
    (call,) = report["strict"]
    row, _ = marked(app, "BLOCKING")
    fix_row, _ = marked(app, "FIX-SITE")
    assert (call["event"], call["count"], call["events"]) == ("open", 3, {"open": 3})
    assert (call["user_frame"]["filename"], call["user_frame"]["row"]) == (str(app), row)
    assert (call["coroutine_frame"]["function"], call["coroutine_frame"]["row"]) == ("handler", fix_row)
    assert call["task"] == "Task-1"
    assert f"app.py:{row}:" in result.stderr and "open on the event loop, 3 times" in result.stderr


def test_watch_strict_fail_exits_1_and_the_allow_list_silences(app):
    result, report = strict_json(app, "--strict=fail")
    assert result.returncode == 1 and report["strict"]
    (app.parent / "pyproject.toml").write_text('[tool.offload]\nstrict-allow = ["app:read_config"]\n')
    result, report = strict_json(app, "--strict=fail")
    assert result.returncode == 0, result.stderr
    assert report["strict"] == []


def test_watch_without_strict_has_no_strict_section(app):
    result, report = strict_json(app)
    assert "strict" not in report


def test_bad_strict_allow_is_a_usage_error(app):
    (app.parent / "pyproject.toml").write_text("[tool.offload]\nstrict-allow = 3\n")
    result = watch("--strict", "--", "python", str(app), cwd=app.parent)
    assert result.returncode == 2
    assert "strict-allow" in result.stderr


def test_confirm_marks_a_finding_confirmed_by_a_strict_record(app, tmp_path):
    _, report = strict_json(app, "--strict")
    row, line = marked(app, "BLOCKING")
    other_row, _ = marked(app, "FIX-SITE")
    findings = [
        {"code": "BLK130", "message": "open", "filename": "app.py",
         "location": {"row": row, "column": line.index("open") + 1}},
        {"code": "BLK100", "message": "elsewhere", "filename": "app.py",
         "location": {"row": other_row + 100, "column": 1}},
    ]
    result = join(findings, report, cwd=str(tmp_path))
    assert [f.status for f in result.findings] == [CONFIRMED, NO_STALL]
    assert result.findings[0].strict == [0] and result.findings[0].durations == []
    (tmp_path / "static.json").write_text(json.dumps(findings))
    (tmp_path / "runtime.json").write_text(json.dumps(report))
    output = CliRunner().invoke(confirm_command, [str(tmp_path / "static.json"), str(tmp_path / "runtime.json")])
    assert output.exit_code == 0, output.output
    assert "BLK130 confirmed (strict: open on the loop 3 times)" in output.output


# -- pytest plugin ------------------------------------------------------------------------------
INNER = """
import asyncio
import os

import pytest


async def load(path):
    return os.listdir(path)  # BLOCKING


@pytest.mark.asyncio
async def test_blocks(tmp_path):
    await load(tmp_path)
    await load(tmp_path)


@pytest.mark.asyncio
async def test_offloaded(tmp_path):
    await asyncio.to_thread(os.listdir, tmp_path)


@pytest.mark.asyncio
@pytest.mark.offload(strict=False)
async def test_opted_out(tmp_path):
    os.listdir(tmp_path)


@pytest.mark.asyncio
async def test_expects_it(tmp_path, offload_strict):
    os.listdir(tmp_path)
    assert [call.event for call in offload_strict] == ["os.listdir"]
    offload_strict.clear()
"""


@pytest.fixture
def inner(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=INNER)
    return pytester


def blocking_row() -> int:
    lines = textwrap.dedent(INNER).strip("\n").splitlines()
    (row,) = [n for n, line in enumerate(lines, 1) if line.endswith("# BLOCKING")]
    return row


def test_pytest_strict_fails_the_test_at_its_line(inner):
    result = inner.runpytest("--offload-strict", "-p", "no:randomly")
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_blocks*",
        f"*test_inner.py:{blocking_row()}:12: strict: os.listdir on the event loop, 2 times in task*",
    ])


def test_pytest_strict_warn_mode_and_ini(inner):
    inner.makeini(INI + "offload_strict = warn\n")
    result = inner.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, warnings=1)
    assert "OffloadStrictWarning" in result.stdout.str()


def test_pytest_strict_marker_alone_enables_strict_not_the_watchdog(inner):
    inner.makepyfile(test_marked="""
        import os
        import time

        import pytest


        @pytest.mark.asyncio
        @pytest.mark.offload(strict="fail")
        async def test_marked(tmp_path):
            time.sleep(0.3)
            os.listdir(tmp_path)
    """)
    result = inner.runpytest("test_marked.py")
    result.assert_outcomes(passed=1, errors=1)
    output = result.stdout.str()
    assert "strict: os.listdir" in output and "stalled" not in output


def test_pytest_plugin_stays_inert_without_strict(inner):
    result = inner.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)
    assert "on the event loop" not in result.stdout.str()
