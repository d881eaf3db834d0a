"""Fixtures for the runtime tests (helpers live in runtime_helpers.py)."""
import pytest

from runtime_helpers import LOOPS


@pytest.fixture(params=LOOPS)
def loop_kind(request) -> str:
    return request.param
