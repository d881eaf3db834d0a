import sys
from pathlib import Path

# The fixture-format helpers live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache_key_home(tmp_path_factory):
    """The cache's secret key goes to a temporary XDG_CACHE_HOME, never the real home
    (subprocesses inherit it)."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved
