"""The pytest plugin's settings checked: a bad ini value is one usage error, a bad
``@pytest.mark.offload`` one error of its test (real inner pytest sessions)."""
from __future__ import annotations

import pytest

from runtime_helpers import INNER_INI

pytest_plugins = ["pytester"]



@pytest.fixture
def inner(pytester):
    pytester.makeini(INNER_INI)
    return pytester


def test_offload_watch_ini_value_that_is_not_a_bool_is_a_usage_error(pytester):
    pytester.makeini(INNER_INI + "offload_watch = sometimes\n")
    pytester.makepyfile(test_inner="def test_nothing():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[:1] == ["ERROR: offload_watch must be true or false, not 'sometimes'"], result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("arguments, message", [
    ('threshold="x"', "@pytest.mark.offload: threshold must be a positive number of seconds, not 'x'"),
    ("threshold=-1", "@pytest.mark.offload: threshold must be a positive number of seconds, not -1"),
    ('threshold=float("inf")', "@pytest.mark.offload: threshold must be a positive number of seconds, not inf"),
    ('strict="maybe"', "@pytest.mark.offload: strict must be true, false, fail or warn, not 'maybe'"),
    ('enabled="no"', "@pytest.mark.offload: enabled must be True or False, not 'no'"),
    ("bogus=1", "@pytest.mark.offload: unknown argument bogus (it takes threshold, enabled, strict)"),
    ("0.05", "@pytest.mark.offload takes keyword arguments only (threshold, enabled, strict), not 0.05"),
])
@pytest.mark.parametrize("kind", ["async", "sync"])
def test_bad_marker_is_one_clear_error_of_its_test(inner, arguments, message, kind):
    body = "await asyncio.sleep(0)" if kind == "async" else "pass"
    inner.makepyfile(test_inner=f"""
        import asyncio

        import pytest

        {"@pytest.mark.asyncio" if kind == "async" else ""}
        @pytest.mark.offload({arguments})
        {"async " if kind == "async" else ""}def test_marked():
            {body}


        def test_other():
            pass
    """)
    result = inner.runpytest("-rE")
    result.assert_outcomes(passed=1, errors=1)
    output = result.stdout.str()
    assert output.count("ERROR at setup of test_marked") == 1 and "ERROR at teardown" not in output, output
    assert message in result.stdout.lines, output
    assert "KeyError" not in output and "Traceback" not in output, output


def test_marker_with_good_arguments_still_watches_its_test(inner):
    inner.makepyfile(test_inner="""
        import asyncio
        import time

        import pytest


        @pytest.mark.asyncio
        @pytest.mark.offload(threshold=0.1, enabled=True, strict=False)
        async def test_blocks():
            time.sleep(0.3)
    """)
    result = inner.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_blocks*", "*the event loop stalled during this test*"])
