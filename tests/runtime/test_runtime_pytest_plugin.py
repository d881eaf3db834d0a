"""The pytest plugin, driving real inner test sessions (pytest-asyncio, anyio) with real stalls."""
from __future__ import annotations

import textwrap

import pytest

from runtime_helpers import INNER_INI as INI

pytest_plugins = ["pytester"]

ASYNCIO_TESTS = """
import asyncio
import time

import pytest


@pytest.mark.asyncio
async def test_blocks():
    await asyncio.sleep(0.01)
    time.sleep(0.3)  # STALL


@pytest.mark.asyncio
async def test_fine():
    await asyncio.sleep(0.05)
"""


def stall_location(source: str, marker: str = "STALL") -> str:
    lines = textwrap.dedent(source).strip("\n").splitlines()  # as pytester writes it
    (row,) = [n for n, line in enumerate(lines, 1) if line.endswith(f"# {marker}")]
    column = lines[row - 1].index("time.sleep") + 1
    return f"{row}:{column}"


@pytest.fixture
def inner(pytester):
    pytester.makeini(INI)
    return pytester


def test_inert_without_the_option(inner):
    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    result = inner.runpytest()
    result.assert_outcomes(passed=2)
    assert "stalled" not in result.stdout.str()


def test_stalling_test_fails_at_teardown_with_file_line_and_duration(inner):
    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    result = inner.runpytest("--offload-watch")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_blocks*",
        "*the event loop stalled during this test (threshold 100 ms)*",
        f"*test_inner.py:{stall_location(ASYNCIO_TESTS)}: event loop stalled * ms (blocking call) in task*",
        "*time.sleep(0.3)  # STALL*",
        "*offload: event-loop stalls*",
    ])
    assert "test_fine" not in "".join(line for line in result.stdout.lines if "ERROR at teardown" in line)


def test_ini_key_enables_it(inner):
    inner.makeini(INI + "offload_watch = true\n")
    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    inner.runpytest().assert_outcomes(passed=2, errors=1)


def test_warn_mode_only_warns(inner):
    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    result = inner.runpytest("--offload-watch", "--offload-mode", "warn")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*OffloadStallWarning*", f"*test_inner.py:{stall_location(ASYNCIO_TESTS)}*"])


def test_threshold_option(inner):
    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    inner.runpytest("--offload-watch", "--offload-threshold", "1.0").assert_outcomes(passed=2)


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "1e400"])
def test_bad_threshold_is_a_usage_error(inner, value: str):
    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    result = inner.runpytest("--offload-watch", "--offload-threshold", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR


@pytest.mark.parametrize("value", ["inf", "1e400"])
def test_an_ini_threshold_no_stall_can_reach_is_a_usage_error(inner, value: str):
    inner.makeini(INI + f"offload_watch = true\noffload_threshold = {value}\n")
    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    assert inner.runpytest().ret == pytest.ExitCode.USAGE_ERROR


MARKED = """
import asyncio
import time

import pytest


@pytest.mark.asyncio
@pytest.mark.offload(enabled=False)
async def test_off():
    time.sleep(0.3)


@pytest.mark.asyncio
@pytest.mark.offload(threshold=1.0)
async def test_longer_threshold():
    time.sleep(0.3)


@pytest.mark.asyncio
@pytest.mark.offload(threshold=0.1)
async def test_marked_on():
    time.sleep(0.3)  # STALL
"""


def test_marker_sets_threshold_or_disables_per_test(inner):
    inner.makepyfile(test_marked=MARKED)
    for args in ([], ["--offload-watch"]):  # the marker alone turns the watchdog on
        result = inner.runpytest(*args)
        result.assert_outcomes(passed=3, errors=1)
        result.stdout.fnmatch_lines(["*ERROR at teardown of test_marked_on*"])


FIXTURE = """
import asyncio
import time

import pytest


@pytest.mark.asyncio
async def test_expects_a_stall(offload_stalls):
    await asyncio.sleep(0.01)
    time.sleep(0.3)  # STALL
    await asyncio.sleep(0.01)
    (stall,) = offload_stalls
    assert stall.verdict == "blocking"
    assert f"{stall.user_frame.row}:{stall.user_frame.column}" == "{location}"
    offload_stalls.clear()  # expected: the test takes care of it


@pytest.mark.asyncio
async def test_records_without_failing(offload_stalls):
    time.sleep(0.2)
"""


def test_fixture_yields_the_stalls(inner):
    inner.makepyfile(test_fixture=FIXTURE.replace("{location}", stall_location(FIXTURE)))
    inner.runpytest().assert_outcomes(passed=2)  # the fixture alone never fails a test
    inner.runpytest("--offload-watch").assert_outcomes(passed=2, errors=1)


ASYNC_FIXTURE = """
import asyncio
import time

import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def resource():
    yield "r"
    time.sleep(0.3)  # STALL


@pytest.mark.asyncio
async def test_uses_resource(resource):
    assert resource == "r"
"""


def test_stall_in_async_fixture_teardown(inner):
    inner.makepyfile(test_fixture_teardown=ASYNC_FIXTURE)
    result = inner.runpytest("--offload-watch")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*test_fixture_teardown.py:{stall_location(ASYNC_FIXTURE)}: event loop stalled*"])


UVLOOP_POLICY = """
import asyncio
import time

import pytest
import uvloop


@pytest.fixture(scope="session")
def event_loop_policy():
    return uvloop.EventLoopPolicy()


@pytest.mark.asyncio
async def test_on_uvloop():
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    time.sleep(0.3)  # STALL
"""


def test_pytest_asyncio_on_uvloop(inner):
    inner.makepyfile(test_uvloop=UVLOOP_POLICY)
    result = inner.runpytest("--offload-watch")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*test_uvloop.py:{stall_location(UVLOOP_POLICY)}: event loop stalled*"])


ANYIO_TESTS = """
import time

import pytest


@pytest.fixture(params=[("asyncio", {}), ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"])
def anyio_backend(request):
    return request.param


@pytest.mark.anyio
async def test_blocks_under_anyio():
    time.sleep(0.3)  # STALL


@pytest.mark.anyio
async def test_fine_under_anyio():
    pass
"""


def test_anyio_plugin(inner):
    inner.makepyfile(test_anyio=ANYIO_TESTS)
    result = inner.runpytest("--offload-watch")
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_blocks_under_anyio?asyncio?*",
        "*ERROR at teardown of test_blocks_under_anyio?uvloop?*",
    ])
    assert result.stdout.str().count(f"test_anyio.py:{stall_location(ANYIO_TESTS)}: event loop stalled") >= 2


def test_under_offload_watch_both_the_report_and_the_plugin_see_the_stall(inner):
    import json
    import sys

    from runtime_helpers import watch

    inner.makepyfile(test_inner=ASYNCIO_TESTS)
    result = watch("--format", "json", "--", sys.executable, "-m", "pytest", "--offload-watch", "-p",
                   "no:cacheprovider", cwd=inner.path)
    assert result.returncode == 1  # pytest's own status: one test errored at teardown
    report = json.loads(result.stdout[result.stdout.index('{\n  "version"'):])
    (stall,) = report["stalls"]
    assert f"{stall['user_frame']['row']}:{stall['user_frame']['column']}" == stall_location(ASYNCIO_TESTS)
    assert "ERROR at teardown of test_blocks" in result.stdout


def test_inert_plugin_never_imports_the_watchdog(inner):
    inner.makepyfile(test_modules="""
        import sys

        def test_nothing_loaded():
            plugin = ("detector.runtime.pytest_plugin", "detector.runtime.pytest_strict",
                      "detector.runtime.pytest_marker")
            loaded = [m for m in sys.modules if m.startswith("detector.runtime.") and m not in plugin]
            assert loaded == [], loaded
            assert "detector.runtime.pytest_plugin" in sys.modules
    """)
    inner.runpytest_subprocess().assert_outcomes(passed=1)


EXPECTED_RIGHT_AFTER = """
import asyncio
import time

import pytest


@pytest.mark.asyncio
@pytest.mark.parametrize("i", range(8))
async def test_expected_stall_is_there_once_the_loop_ran_again(offload_stalls, i):
    time.sleep(0.2)
    await asyncio.sleep(0)  # the loop has run again: the stall is over
    assert len(offload_stalls) == 1
    offload_stalls.clear()
"""


def test_fixture_holds_the_stall_as_soon_as_the_loop_has_run_again(inner):
    inner.makepyfile(test_right_after=EXPECTED_RIGHT_AFTER)
    result = inner.runpytest("--offload-watch")
    assert result.parseoutcomes().get("passed") == 8, result.stdout.str()
    # A loaded machine may stall the loop anywhere else (a teardown error at another line); the
    # deliberate sleep is always in the fixture, never reported.
    sleep_row = EXPECTED_RIGHT_AFTER.splitlines().index("    time.sleep(0.2)") + 1
    assert f"test_right_after.py:{sleep_row}:" not in result.stdout.str()
