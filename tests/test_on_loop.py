"""Sync code a framework runs on the loop ([[on-loop]] data): user entries, validation, other modules."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from offload_cli import invoke_offload

from detector import catalog

HANDLERS = '''\
import time

import myframework


class Plugin(myframework.Handler):
    def on_event(self, event):
        time.sleep(1)

    def on_other(self, event):
        time.sleep(1)


@myframework.loop_callback
def tick():
    open("/tmp/state").read()


def registered():
    time.sleep(2)


def setup(bus):
    bus.add_listener(registered)
    myframework.register("topic", registered)
'''


def check(cwd: Path, *paths: str) -> subprocess.CompletedProcess:
    return invoke_offload("check", "--no-cache", "--output-format", "json", *paths, cwd=cwd)


def findings(result: subprocess.CompletedProcess) -> list:
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_user_on_loop_entries_put_methods_decorated_functions_and_callbacks_on_the_loop(tmp_path: Path):
    (tmp_path / "app.py").write_text(HANDLERS)
    assert findings(check(tmp_path, "app.py")) == []  # without the entries nothing says these run on the loop
    (tmp_path / "pyproject.toml").write_text(
        '[tool.offload]\n'
        '[[tool.offload.on-loop]]\n'
        'framework = "MyFramework"\n'
        'subclass-of = ["myframework.Handler"]\n'
        'methods = ["on_event"]\n'
        'decorators = ["myframework.loop_callback"]\n'
        'callbacks = { ".add_listener" = 0 }\n'
        'advice = "make it async"\n'
    )
    found = findings(check(tmp_path, "app.py"))
    rows = sorted((f["location"]["row"], f["code"]) for f in found)
    assert rows == [(8, "BLK304"), (16, "BLK304"), (16, "BLK304"), (20, "BLK304")]
    messages = " ".join(f["message"] for f in found)
    assert "a method MyFramework runs on the event loop (`on_event` of a `Handler` subclass); make it async" in messages
    assert "a function MyFramework runs on the event loop (decorated with `@loop_callback`)" in messages
    assert "a callback MyFramework runs on the event loop (registered with `bus.add_listener`" in messages


@pytest.mark.parametrize("entry, complaint", [
    ('framework = "X"\nmethods = ["get"]\n', "'subclass-of' and 'methods' go together"),
    ('framework = "X"\n', "one of 'subclass-of' with 'methods', 'decorators' or 'callbacks' is required"),
    ('decorators = ["x.y"]\n', "'framework'"),
    ('framework = "X"\ncallbacks = { "x.register" = "first" }\n', "expected a table of call name = index"),
    ('framework = "X"\ncallbacks = { "x.register" = { keyword = 3 } }\n', "expected a table of call name = index"),
    ('framework = "X"\ncallbacks = { "x.register" = { position = -1 } }\n', "expected a table of call name = index"),
    ('framework = "X"\ncallbacks = { "x.register" = { where = "here" } }\n', "expected a table of call name = index"),
    ('framework = "X"\ndecorators = ["x.y"]\nwhen = "always"\n', "unknown key(s) when"),
])
def test_a_bad_on_loop_entry_is_one_error_line(tmp_path: Path, entry: str, complaint: str):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n[[tool.offload.on-loop]]\n" + entry)
    (tmp_path / "app.py").write_text("import time\n")
    result = check(tmp_path, "app.py")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and complaint in lines[0], result.stderr
    assert "on-loop" in lines[0]


def test_a_framework_base_class_reached_through_another_module(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("import tornado.web\n\n\nclass BaseHandler(tornado.web.RequestHandler):\n    pass\n")
    (package / "views.py").write_text(
        "import subprocess\n\nfrom app.base import BaseHandler\n\n\n"
        "class Status(BaseHandler):\n    def get(self):\n        subprocess.run(['uptime'])\n"
    )
    found = findings(check(tmp_path, "app"))
    assert [(f["filename"].replace("\\", "/"), f["location"]["row"], f["code"]) for f in found] == [
        ("app/views.py", 8, "BLK304")]
    assert "a method Tornado runs on the event loop (`get` of a `RequestHandler` subclass)" in found[0]["message"]


def test_the_shipped_on_loop_data_covers_the_documented_frameworks():
    frameworks = {entry.framework for entry in catalog.builtin().on_loop}
    assert frameworks == {"asyncio", "Tornado", "Home Assistant", "aiohttp", "python-zeroconf"}
    assert catalog.builtin().callback_argument("<unknown>.call_later") == (catalog.CallbackSlot(1), "asyncio")
    assert catalog.builtin().callback_argument("zeroconf.asyncio.AsyncServiceBrowser") == (
        catalog.CallbackSlot(2, "handlers"), "python-zeroconf")
    assert catalog.builtin().callback_argument("concurrent.futures.Future.add_done_callback") is None


def test_a_user_callback_entry_by_keyword_takes_each_callback_of_a_list(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.offload]\n'
        '[[tool.offload.on-loop]]\n'
        'framework = "Bus"\n'
        'callbacks = { "bus.subscribe" = { position = 1, keyword = "listeners" } }\n'
    )
    (tmp_path / "app.py").write_text(
        "import time\n\nimport bus\n\n\n"
        "def first(event):\n    time.sleep(1)\n\n\n"
        "def second(event):\n    time.sleep(2)\n\n\n"
        "def third(event):\n    time.sleep(3)\n\n\n"
        "def unused(event):\n    time.sleep(4)\n\n\n"
        "async def setup(*extra):\n"
        "    bus.subscribe('topic', listeners=[first, second])\n"
        "    bus.subscribe('topic', (third,), *extra)\n"
        "    bus.subscribe('topic', *extra)\n"
    )
    found = findings(check(tmp_path, "app.py"))
    assert sorted(f["location"]["row"] for f in found) == [7, 11, 15]
    assert all(f["code"] == "BLK304" and "a callback Bus runs on the event loop" in f["message"] for f in found)


TEST_CASES = '''\
import asyncio
import unittest
from pathlib import Path

import something

MARK = Path(__file__).with_name("ran")


class Plain(unittest.TestCase):
    @unittest.expectedFailure
    async def test_never_awaited(self):
        MARK.joinpath("plain").write_text("x")

        async def nested():
            MARK.joinpath("nested").write_text("x")

        await nested()

    def test_runs_a_loop(self):
        asyncio.run(self._helper())

    async def _helper(self):
        MARK.joinpath("helper").write_text("x")


class Base(unittest.TestCase):
    pass


class Derived(Base):
    async def test_through_a_project_base(self):
        MARK.joinpath("derived").write_text("x")


class Isolated(unittest.IsolatedAsyncioTestCase):
    async def test_awaited(self):
        MARK.joinpath("isolated").write_text("x")


class Other(something.TestCase):
    async def test_unknown_base(self):
        MARK.joinpath("other").write_text("x")


def run_it(test):
    def run(self):
        asyncio.run(test(self))
    return run


class Decorated(unittest.TestCase):
    @run_it
    async def test_decorated(self):
        MARK.joinpath("decorated").write_text("x")


def run_all(cls):
    for name in [name for name in vars(cls) if name.startswith("test")]:
        setattr(cls, name, run_it(getattr(cls, name)))
    return cls


@run_all
class WholeClass(unittest.TestCase):
    async def test_in_a_decorated_class(self):
        MARK.joinpath("whole").write_text("x")


class Runner(unittest.TestCase):
    def _callTestMethod(self, method):
        asyncio.run(method())


class ThroughRunner(Runner):
    async def test_through_a_runner(self):
        MARK.joinpath("runner").write_text("x")
'''


def test_coroutine_test_methods_plain_unittest_never_awaits_are_not_on_the_loop(tmp_path: Path):
    (tmp_path / "test_cases.py").write_text(TEST_CASES)
    found = findings(check(tmp_path, "test_cases.py"))
    reported = {f["message"].split("async function `")[1].split("`")[0] for f in found}
    # A plain TestCase drops the coroutine its test method returns: nothing in it ever runs.
    assert reported == {"Plain._helper", "Isolated.test_awaited", "Other.test_unknown_base", "Decorated.test_decorated",
                        "WholeClass.test_in_a_decorated_class", "ThroughRunner.test_through_a_runner"}
    # A base from elsewhere may be one that awaits them.
    (tmp_path / "something.py").write_text("import unittest\nTestCase = unittest.IsolatedAsyncioTestCase\n")
    (tmp_path / "ran").mkdir()
    subprocess.run([sys.executable, "-W", "ignore", "-m", "unittest", "-q", "test_cases"], cwd=tmp_path,
                   capture_output=True, timeout=120)
    assert sorted(p.name for p in (tmp_path / "ran").iterdir()) == ["decorated", "helper", "isolated", "other", "runner",
                                                                        "whole"]
