"""A fix is offered only when offload can show the program keeps working; otherwise the finding
keeps its advice as a suggestion, and the output says why there is no fix.

Each test builds a small project in tmp_path, runs the CLI, and where the program can be run
cheaply, runs it (in a subprocess) after the fix.
"""
from __future__ import annotations

import glob
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, NamedTuple

import pytest
from click.testing import CliRunner

from detector import config as config_module
from detector.cli import main


def write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


class Run(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def offload(root: Path, *args: str) -> Run:
    """``offload check --no-cache ARGS`` in ``root``: the CLI itself, in this process (fast)."""
    previous = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["check", "--no-cache", "--jobs", "1", *args])
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def findings(root: Path, *args: str) -> list:
    result = offload(root, "--output-format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def python(root: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def snapshot(root: Path) -> Dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.py"))}


# -- tests that block on purpose ------------------------------------------------------------------
KEEPALIVE_TEST = '''
import asyncio
import time


async def test_keepalive_timeout_sync_sleep():
    # time.sleep is a more challenging scenario than asyncio.sleep
    time.sleep(0.01)
    await asyncio.sleep(0)


if __name__ == "__main__":
    asyncio.run(test_keepalive_timeout_sync_sleep())
'''


# A test that does not say why it sleeps.
PLAIN_TEST = KEEPALIVE_TEST.replace("_sync_sleep", "").replace(
    "    # time.sleep is a more challenging scenario than asyncio.sleep\n", "")


@pytest.mark.parametrize("name", ["test_keepalive.py", "keepalive_test.py", "tests/keepalive.py", "conftest.py"])
def test_plain_fix_leaves_blocking_calls_in_test_files_and_still_reports_them(tmp_path: Path, name: str):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", name: PLAIN_TEST})
    result = offload(tmp_path, "--fix")
    assert result.returncode == 1
    assert "Fixed" not in result.stderr
    assert (tmp_path / name).read_text() == textwrap.dedent(PLAIN_TEST).lstrip("\n")
    [finding] = findings(tmp_path)
    assert finding["code"] == "BLK100" and finding["fix"]["applicability"] == "unsafe"


def test_unsafe_fixes_still_leave_a_test_that_says_it_blocks_on_purpose(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "tests/test_client.py": KEEPALIVE_TEST + '''

async def test_keepalive_timeout_after_wait():
    await asyncio.sleep(0)
    # wait for the server's keepalive timeout;
    # time.sleep is a more challenging scenario than asyncio.sleep
    time.sleep(0.01)


async def test_reads_after_a_pause():
    """The client reads again after a pause."""
    # wait for the server
    time.sleep(0.01)


async def test_mount_blocked_by_existing_local_data():
    """Local data blocking the bind mount creates a repair issue."""
    time.sleep(0.01)


async def app(scope, receive, send):
    time.sleep(0.01)  # Block purposefully
'''})
    result = offload(tmp_path, "--fix", "--unsafe-fixes")
    assert result.returncode == 1 and "Fixed 2 findings in 1 file" in result.stderr
    text = (tmp_path / "tests/test_client.py").read_text()
    assert text.count("time.sleep(0.01)") == 3 and text.count("await asyncio.sleep(0.01)") == 2
    assert "`test_keepalive_timeout_sync_sleep` says it blocks on purpose (its name)" in result.stderr
    assert "a comment at the call says it blocks on purpose" in result.stderr
    kept = findings(tmp_path)
    assert [f["location"]["row"] for f in kept] == [7, 19, 34]
    assert all(f["fix"]["applicability"] == "suggestion" and "on purpose" in f["fix"]["reason"] for f in kept)


SHOWN_BLOCKING = '''
import time


async def load_data():
    time.sleep(0.01)
    return "loaded"
'''


def test_a_documentation_example_named_for_blocking_is_left_as_it_shows_it(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n",
                     "docs/snippets/blocking02.py": SHOWN_BLOCKING, "docs/snippets/nonblocking01.py": SHOWN_BLOCKING,
                     "app/blocking02.py": SHOWN_BLOCKING})
    result = offload(tmp_path, "--fix")
    assert "Fixed 2 findings in 2 files" in result.stderr, result.stderr
    assert (tmp_path / "docs/snippets/blocking02.py").read_text() == textwrap.dedent(SHOWN_BLOCKING).lstrip("\n")
    assert "`blocking02.py` is a documentation example that says it blocks (its name)" in result.stderr
    # Its sibling that does not say so, and a module of the program with that name, are fixed.
    for fixed in ("docs/snippets/nonblocking01.py", "app/blocking02.py"):
        assert "await asyncio.sleep(0.01)" in (tmp_path / fixed).read_text()


def test_the_same_sleep_outside_tests_is_a_safe_fix(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "app/keepalive.py": KEEPALIVE_TEST})
    assert findings(tmp_path)[0]["fix"]["applicability"] == "safe"


def test_sleep_zero_only_yields_the_thread_and_is_not_reported(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "test_blocking_io.py": '''
        import asyncio
        import time
        from time import sleep


        async def test_detects_blocking_io():
            time.sleep(0)
            sleep(0.0)
        '''})
    before = snapshot(tmp_path)
    result = offload(tmp_path, "--fix")
    assert result.returncode == 0, result.stdout
    assert snapshot(tmp_path) == before


# -- the library a fix spells is the program's ----------------------------------------------------
def test_asyncio_program_importing_a_trio_name_is_fixed_with_asyncio(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "app.py": '''
        import asyncio, time
        from trio import TooSlowError


        async def handler():
            time.sleep(0.01)


        if __name__ == "__main__":
            asyncio.run(handler())
        '''})
    [finding] = findings(tmp_path)
    assert "`await asyncio.sleep(0.01)`" in finding["message"]
    assert offload(tmp_path, "--fix").returncode == 0
    text = (tmp_path / "app.py").read_text()
    assert "    await asyncio.sleep(0.01)" in text and "import trio\n" not in text


TRIO_PROGRAM = {
    "pyproject.toml": "[tool.offload]\n",
    "main.py": '''
        import trio
        from worker import job


        async def main():
            await job("x")

        if __name__ == "__main__":
            trio.run(main)
        ''',
    "worker.py": '''
        import os
        import time


        async def job(p):
            time.sleep(0.01)
            return os.path.exists(p)
        ''',
    "lowlevel_import.py": '''
        import time
        import trio.lowlevel


        async def f():
            time.sleep(1)
        ''',
}


def test_modules_of_a_trio_program_are_fixed_with_trio(tmp_path: Path):
    write(tmp_path, TRIO_PROGRAM)
    messages = {f["filename"]: f["message"] for f in findings(tmp_path) if f["code"] == "BLK140"}
    assert "`await trio.to_thread.run_sync(os.path.exists, p)`" in messages["worker.py"]
    result = offload(tmp_path, "--fix", "--unsafe-fixes")
    assert result.returncode == 0, result.stdout + result.stderr
    worker = (tmp_path / "worker.py").read_text()
    assert "import trio\n" in worker and "asyncio" not in worker
    assert "    await trio.sleep(0.01)" in worker
    assert "return await trio.to_thread.run_sync(os.path.exists, p)" in worker
    assert "    await trio.sleep(1)" in (tmp_path / "lowlevel_import.py").read_text()


def test_no_async_library_anywhere_means_asyncio(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import time


        async def f():
            time.sleep(1)
        '''})
    [finding] = findings(tmp_path)
    assert finding["fix"]["applicability"] == "safe" and "`await asyncio.sleep(1)`" in finding["message"]


@pytest.mark.parametrize("files, why", [
    pytest.param({"m.py": '''
        import asyncio
        import time
        import trio


        async def f():
            time.sleep(1)
        '''}, "imports both asyncio and trio", id="module-imports-both"),
    pytest.param({"a.py": "import asyncio\n", "b.py": "import trio\n", "m.py": '''
        import time


        async def f():
            time.sleep(1)
        '''}, "imports none of them", id="project-uses-both"),
    pytest.param({"a.py": "import asyncio\nasyncio.run(main())\n", "b.py": "import trio\ntrio.run(main)\n",
                  "m.py": '''
        import time


        async def f():
            time.sleep(1)
        '''}, "the project starts both asyncio and trio event loops, and this module does not say which",
        id="project-starts-two"),
    pytest.param({"a.py": '''
        try:
            from asyncio import Runner
        except ImportError:
            from taskgroup import Runner


        def serve(main):
            with Runner() as runner:
                runner.run(main())
        ''', "b.py": "import trio\ntrio.run(main)\n", "m.py": '''
        import time


        async def f():
            time.sleep(1)
        '''}, "the project starts both asyncio and trio event loops, and this module does not say which",
        id="project-starts-two-one-through-a-backport"),
    pytest.param({"b.py": "import trio\ntrio.run(main)\n", "m.py": '''
        import asyncio
        import time


        async def f():
            time.sleep(1)
        '''}, "the module imports asyncio, but the only event loop the project starts is trio's",
        id="module-imports-another-library-than-the-project-starts"),
    pytest.param({"m.py": '''
        import time


        async def f():
            time.sleep(1)
        ''', "driver.py": '''
        def step(coro):
            coro.send(None)
        '''}, "steps coroutines itself", id="project-drives-coroutines"),
])
def test_unknown_or_mixed_library_gets_no_fix_and_says_why(tmp_path: Path, files, why):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", **files})
    [finding] = [f for f in findings(tmp_path) if f["filename"] == "m.py"]
    assert finding["fix"]["applicability"] == "suggestion" and why in finding["fix"]["reason"]
    text = offload(tmp_path, "--fix", "--unsafe-fixes")
    assert text.returncode == 1 and "Fixed" not in text.stderr
    assert f"(no fix: " in text.stdout and why in text.stdout


def test_a_project_with_anyio_gets_anyio_fixes_where_its_loops_are_mixed(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n",
                     "a.py": "import asyncio\n\n\ndef main(f):\n    return asyncio.run(f())\n",
                     "b.py": "import anyio\n\n\ndef main(f):\n    return anyio.run(f, backend='trio')\n",
                     "m.py": '''
        import time
        from pathlib import Path


        async def f():
            time.sleep(0.01)
            return Path(__file__).read_text()[:6]
        '''})
    offload(tmp_path, "--fix", "--unsafe-fixes")
    fixed = (tmp_path / "m.py").read_text()
    assert "await anyio.sleep(0.01)" in fixed and "await anyio.to_thread.run_sync(Path(__file__).read_text)" in fixed
    run = python(tmp_path, "import a, m; print(a.main(m.f))")
    assert run.stdout.strip() == "from p", run.stderr  # the rewritten file, read in a thread under asyncio


def test_a_module_importing_asyncio_in_a_project_started_with_anyio_gets_anyio_fixes(tmp_path: Path):
    """anyio's loop runs asyncio code (its default backend), and anyio's API works under either."""
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n",
                     "a.py": "import anyio\n\n\ndef main(f):\n    return anyio.run(f)\n",
                     "m.py": '''
        import asyncio
        import time


        async def f():
            time.sleep(0.01)
            await asyncio.sleep(0)
            return "slept"
        '''})
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert "    await anyio.sleep(0.01)\n" in (tmp_path / "m.py").read_text()
    run = python(tmp_path, "import a, m; print(a.main(m.f))")
    assert run.stdout.strip() == "slept", run.stderr


# -- target version from requires-python ----------------------------------------------------------
PLAYER = '''
import asyncio


class OpusAudio:
    def __init__(self, source, codec):
        self.source, self.codec = source, codec

    @classmethod
    async def from_probe(cls, source):
        return cls.from_file(source, "opus")

    @classmethod
    def from_file(cls, source, codec):
        with open(source, "rb"):
            pass
        return cls(source, codec)
'''


def test_requires_python_below_39_fixes_with_run_in_executor(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": '[project]\nname = "voice"\nrequires-python = ">=3.8"\n\n[tool.offload]\n',
                     "player.py": PLAYER})
    [finding] = findings(tmp_path)
    assert "run_in_executor(None, cls.from_file, source, \"opus\")`" in finding["message"]
    assert offload(tmp_path, "--fix", "--unsafe-fixes").returncode == 0
    # (past 88 characters, laid out as black would)
    assert ("await asyncio.get_running_loop().run_in_executor(\n            None, cls.from_file, source, \"opus\"\n"
            "        )") in (tmp_path / "player.py").read_text()
    # As on Python 3.8, where asyncio.to_thread does not exist:
    run = python(tmp_path, "import asyncio; del asyncio.to_thread; import player; "
                           "print(asyncio.run(player.OpusAudio.from_probe('player.py')).codec)")
    assert run.stdout.strip() == "opus", run.stderr


OLD_PYTHON_36 = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.6.*/bin/python3.6")))


@pytest.mark.parametrize("interpreter", [sys.executable] + OLD_PYTHON_36[:1])
def test_requires_python_below_37_gets_the_loop_from_get_event_loop(tmp_path: Path, interpreter: str):
    # asyncio.get_running_loop() is new in 3.7; get_event_loop() in a coroutine gives the running loop.
    write(tmp_path, {"setup.py": "from setuptools import setup\nsetup(name='voice', python_requires='>=3.5')\n",
                     "player.py": PLAYER})
    [finding] = findings(tmp_path)
    assert "`await asyncio.get_event_loop().run_in_executor(None, cls.from_file, source, \"opus\")`" in finding["message"]
    assert offload(tmp_path, "--fix", "--unsafe-fixes").returncode == 0
    assert "await asyncio.get_event_loop().run_in_executor(" in (tmp_path / "player.py").read_text()
    run = subprocess.run([interpreter, "-c", "import asyncio, player; loop = asyncio.new_event_loop(); "
                          "print(loop.run_until_complete(player.OpusAudio.from_probe('player.py')).codec)"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "opus", run.stderr


@pytest.mark.parametrize("pyproject, expected", [
    ('[project]\nrequires-python = ">=3.8"\n[tool.offload]\n', "py38"),
    ('[project]\nrequires-python = ">=3.8"\n', "py38"),  # no [tool.offload] table at all
    ('[project]\nrequires-python = ">=3.10, <4"\n[tool.offload]\n', "py310"),
    ('[project]\nrequires-python = "~=3.11"\n[tool.offload]\n', "py311"),
    ('[project]\nrequires-python = ">=3.6"\n[tool.offload]\n', "py36"),
    ('[project]\nrequires-python = ">=2.7"\n[tool.offload]\n', "py35"),  # async def is new in 3.5
    ('[project]\nrequires-python = "<3.13"\n[tool.offload]\n', "py39"),
    ('[tool.poetry.dependencies]\npython = "^3.6.1"\n', "py36"),  # matrix-nio
    ('[tool.poetry.dependencies]\npython = ">=3.8,<4.0"\n', "py38"),
    ('[tool.poetry.dependencies]\npython = "^2.7 || ^3.7"\n', "py35"),  # every Python 3 with async def
    ('[tool.poetry.dependencies]\npython = "*"\n', "py39"),
    ('[project]\nrequires-python = ">=3.10"\n[tool.poetry.dependencies]\npython = "^3.8"\n', "py310"),
    ('[project]\nrequires-python = ">=3.8"\n[tool.offload]\ntarget-version = "py312"\n', "py312"),
])
def test_target_version_defaults_to_the_lowest_python_the_project_allows(tmp_path: Path, pyproject, expected):
    (tmp_path / "pyproject.toml").write_text(pyproject)
    assert config_module.load(start=tmp_path).target_version == expected


@pytest.mark.parametrize("files, expected", [
    ({"setup.cfg": "[metadata]\nname = bot\n[options]\npython_requires = >=3.8.1\n"}, "py38"),
    ({"setup.py": "from setuptools import setup\n\nsetup(\n    name='bot',\n    python_requires='>=3.8.1,<3.12',\n)\n"},
     "py38"),
    ({"setup.py": "# python_requires='>=3.7'\nsetup(python_requires=\">=3.10\")\n"}, "py310"),
    ({"setup.py": "setup(python_requires=REQUIRED)\n"}, "py39"),  # not a literal: the default
    ({"setup.cfg": "[options\npython_requires = >=3.8\n"}, "py39"),  # not INI: the default
    # pyproject.toml's requires-python comes first; setup.cfg before setup.py.
    ({"pyproject.toml": '[project]\nrequires-python = ">=3.11"\n', "setup.cfg": "[options]\npython_requires = >=3.8\n"},
     "py311"),
    ({"pyproject.toml": "[tool.offload]\n", "setup.cfg": "[options]\npython_requires = >=3.8\n",
      "setup.py": "setup(python_requires='>=3.7')\n"}, "py38"),
    # Without one, the lowest Python 3 classifier (slixmpp's setup.py).
    ({"setup.py": "CLASSIFIERS = [\n    'Programming Language :: Python :: 3.8',\n"
                  "    'Programming Language :: Python :: 3.7',\n    # 'Programming Language :: Python :: 3.5',\n]\n"
                  "setup(classifiers=CLASSIFIERS)\n"}, "py37"),
    ({"setup.cfg": "[metadata]\nclassifiers =\n    Programming Language :: Python :: 3.10\n"
                   "    Programming Language :: Python :: 3.11\n"}, "py310"),
    ({"pyproject.toml": '[project]\nname = "x"\nclassifiers = ["Programming Language :: Python :: 3.12", '
                        '"Programming Language :: Python :: 3.8"]\n'}, "py38"),
    ({"pyproject.toml": '[project]\nrequires-python = ">=3.11"\nclassifiers = ["Programming Language :: Python :: 3.8"]\n'},
     "py311"),  # requires-python comes first
    ({"setup.py": "setup(classifiers=['Programming Language :: Python :: 3'])\n"}, "py39"),  # no minor: the default
])
def test_target_version_defaults_from_python_requires_of_setup_cfg_or_setup_py_or_classifiers(tmp_path: Path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert config_module.load(start=tmp_path).target_version == expected


@pytest.mark.parametrize("requires, lazy", [(">=3.12", True), (">=3.13", False)])
def test_iterdir_lists_when_called_from_python_313(tmp_path: Path, requires: str, lazy: bool):
    write(tmp_path, {"pyproject.toml": f'[project]\nname = "app"\nrequires-python = "{requires}"\n', "m.py": '''
        from pathlib import Path


        async def names(p):
            return sorted([c.name for c in Path(p).iterdir()])
        '''})
    [finding] = findings(tmp_path)
    assert ("its result is lazy" in finding["message"]) is lazy
    offload(tmp_path, "--fix", "--unsafe-fixes")
    fixed = "sorted([c.name for c in await asyncio.to_thread(Path(p).iterdir)])"
    assert (fixed in (tmp_path / "m.py").read_text()) is not lazy
    run = python(tmp_path, "import asyncio, m; print(asyncio.run(m.names('.')))")
    assert run.stdout.strip() == "['m.py', 'pyproject.toml']", run.stderr


# -- code no asyncio loop runs ----------------------------------------------------------------------
ESPHOME = {
    "components/__init__.py": "",
    "components/web_server.py": '''
        from core import add_resource_as_progmem


        async def to_code(config):
            with open(config["css"], encoding="utf-8") as css_file:
                add_resource_as_progmem("CSS", css_file.read())
        ''',
    "core.py": '''
        import importlib

        RESOURCES = {}


        def add_resource_as_progmem(name, data):
            RESOURCES[name] = len(data)


        def generate(names, config):
            pending = [importlib.import_module(f"components.{n}").to_code(config) for n in names]
            while pending:
                still = []
                for coro in pending:
                    try:
                        coro.send(None)
                    except StopIteration:
                        continue
                    still.append(coro)
                pending = still
            return RESOURCES
        ''',
}
GENERATE = "import core; print(core.generate(['web_server'], {'css': 'style.css'}))"


def test_coroutines_stepped_by_a_driver_are_not_rewritten(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", **ESPHOME})
    (tmp_path / "style.css").write_text("body {}\n")
    opened = next(f for f in findings(tmp_path) if f["code"] == "BLK130")
    assert opened["fix"]["applicability"] == "suggestion" and [r["call"] for r in opened["related"]] == ["css_file.read"]
    assert "run that in a worker thread" in opened["message"]  # no library named: none is known to run it
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert python(tmp_path, GENERATE).stdout.strip() == "{'CSS': 8}"


# ESPHome's shape: code generation steps generators with ``gen.send(value)`` until StopIteration,
# and a dashboard in the same project runs under ``asyncio.run``.
DRIVEN_WITH_DASHBOARD = {
    "coroutine.py": '''
        def flatten(gen):
            to_send = None
            while True:
                try:
                    val = gen.send(to_send)
                except StopIteration as e:
                    return e.value
                to_send = val
        ''',
    "components/__init__.py": "",
    "components/web_server.py": '''
        async def to_code(config):
            with open(config["css"], encoding="utf-8") as css_file:
                return css_file.read()


        async def from_bytes(config):
            return open(config["css"], "rb").read()
        ''',
    "dashboard.py": '''
        import asyncio
        import time


        async def serve():
            time.sleep(1)


        def start():
            asyncio.run(serve())
        ''',
}


def test_a_driver_stepping_with_send_value_keeps_fixes_out_of_modules_no_loop_is_known_to_run(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", **DRIVEN_WITH_DASHBOARD})
    found = {(f["filename"], f["code"]): f for f in findings(tmp_path)}
    driven = found[("components/web_server.py", "BLK130")]
    assert driven["fix"]["applicability"] == "suggestion" and "steps coroutines itself" in driven["fix"]["reason"]
    assert found[("dashboard.py", "BLK100")]["fix"]["applicability"] == "safe"  # imports asyncio and runs it
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert "to_thread" not in (tmp_path / "components/web_server.py").read_text()
    assert "await asyncio.sleep(1)" in (tmp_path / "dashboard.py").read_text()


# Generators are stepped like coroutines: a parser fed with ``send`` (textual's), a request body
# read with ``send(None)`` (litestar's test transport). Neither is a coroutine driver.
FED_GENERATORS = {
    "parser.py": '''
        class Parser:
            def __init__(self):
                self._tokens = []
                self._gen = self.parse(self._tokens.append)
                next(self._gen)

            def feed(self, data):
                try:
                    self._gen.send(data)
                except StopIteration:
                    pass
                return self._tokens

            def parse(self, on_token):
                while True:
                    on_token((yield))
        ''',
    "transport.py": '''
        from types import GeneratorType


        def chunk(body):
            if isinstance(body, GeneratorType):
                try:
                    return body.send(None)
                except StopIteration:
                    return b""
            return body
        ''',
    "m.py": '''
        import time


        async def f():
            time.sleep(1)
        ''',
}


# A pipe's connection is sent None as a message to the other process (sanic's worker manager).
PIPES = '''
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any


class Manager:
    def __init__(self, pubsub: tuple[Connection[Any, Any], Connection[Any, Any]]):
        self.publisher, self.subscriber = pubsub

    def shutdown(self):
        self.publisher.send(None)


def stop():
    reader, writer = Pipe(duplex=False)
    writer.send(None)
    return reader
'''


@pytest.mark.parametrize("driver", [
    pytest.param("", id="only-generators"),
    pytest.param(PIPES, id="and-pipes"),
    pytest.param("def step(coro):\n    coro.send(None)\n", id="and-a-driver"),
])
def test_generators_fed_with_send_are_not_taken_for_a_coroutine_driver(tmp_path: Path, driver):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", **FED_GENERATORS, "driver.py": driver})
    [finding] = [f for f in findings(tmp_path) if f["filename"] == "m.py"]
    if "coro" in driver:
        assert "steps coroutines itself" in finding["fix"]["reason"]
    else:
        assert finding["fix"]["applicability"] == "safe", finding["fix"]
        offload(tmp_path, "--fix")
        assert "await asyncio.sleep(1)" in (tmp_path / "m.py").read_text()


def test_not_on_loop_switches_findings_off_for_driver_run_code(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": '[tool.offload]\nnot-on-loop = ["components.*"]\n', **ESPHOME,
                     "app.py": '''
        import asyncio, time


        async def served():
            time.sleep(1)
        '''})
    assert [(f["filename"], f["code"]) for f in findings(tmp_path)] == [("app.py", "BLK100")]
    (tmp_path / "pyproject.toml").write_text('[tool.offload]\nnot-on-loop = ["components.web_server.to_code"]\n')
    assert [f["filename"] for f in findings(tmp_path)] == ["app.py"]


def test_not_on_loop_must_be_dotted_names(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": '[tool.offload]\nnot-on-loop = ["components/web_server.py"]\n',
                     "m.py": "x = 1\n"})
    result = offload(tmp_path)
    assert result.returncode == 2 and "not-on-loop" in result.stderr


# -- helpers that cannot move to a thread -----------------------------------------------------------
def test_helper_touching_loop_objects_is_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio


        class Watcher:
            def __init__(self):
                self.loop = asyncio.get_running_loop()
                self.changed = asyncio.Event()
                self.callbacks = []

            def reload(self, path):
                with open(path) as f:
                    data = f.read()
                self.changed.set()
                for cb in self.callbacks:
                    self.loop.call_soon(cb, data)
                return data


        async def main(path):
            w = Watcher()
            w.callbacks.append(print)
            w.reload(path)
            await asyncio.sleep(0)
        '''})
    (tmp_path / "f.txt").write_text("data\n")
    [finding] = findings(tmp_path)
    assert finding["code"] == "BLK200" and finding["fix"]["applicability"] == "suggestion"
    assert "`self.changed.set()` at m.py:13" in finding["fix"]["reason"]
    before = snapshot(tmp_path)
    assert offload(tmp_path, "--fix", "--unsafe-fixes").returncode == 1
    assert snapshot(tmp_path) == before
    run = python(tmp_path, "import asyncio, m; asyncio.run(m.main('f.txt')); print('OK')", PYTHONASYNCIODEBUG="1")
    assert run.stdout.strip().endswith("OK"), run.stderr


def test_helpers_ending_in_calls_bound_to_the_loop_thread_are_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import traceback

        import tornado.web


        class Login(tornado.web.RequestHandler):
            def render_page(self, error=None):
                self.render("login.html", error=error)

            async def post(self):
                self.render_page(error="bad password")

            def report(self):
                return traceback.format_exc()

            async def put(self):
                try:
                    await self.flush()
                except Exception:
                    self.report()
        '''})
    found = {f["location"]["row"]: f for f in findings(tmp_path)}
    assert sorted(found) == [11, 20] and all(f["code"] == "BLK200" for f in found.values())
    render, report = found[11], found[20]
    assert render["fix"]["applicability"] == "suggestion" and "`self.render()` at m.py:8" in render["fix"]["reason"]
    assert "`self.render()` in Login.render_page cannot move to a worker thread either: use a `tornado.template.Loader`" \
        in render["message"]
    assert report["fix"]["applicability"] == "suggestion"
    assert "reads the exception the calling thread is handling" in report["fix"]["reason"]
    assert "use the caught exception (`except ... as exc`), formatted in a thread" in report["message"]
    before = snapshot(tmp_path)
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert snapshot(tmp_path) == before


def test_a_helper_reading_the_exception_its_own_handler_caught_moves_to_a_thread(tmp_path: Path):
    """``sys.exc_info()`` in an ``except`` handler of the helper (or in what the handler calls)
    reads the exception the worker thread itself handles; outside one, the caller's."""
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio
        import sys


        def current_error():
            return sys.exc_info()[1]


        def load(path):
            try:
                with open(path) as handle:
                    return handle.read()
            except OSError:
                return f"failed: {type(current_error()).__name__}"


        def last_error(path):
            open(path, "a").close()
            return current_error()


        async def main():
            print(load("/nonexistent/settings.ini"))
            last_error("log.txt")


        asyncio.run(main())
        '''})
    found = {f["location"]["row"]: f for f in findings(tmp_path)}
    assert found[23]["fix"]["applicability"] == "unsafe"
    assert found[24]["fix"]["applicability"] == "suggestion"
    assert "`sys.exc_info()` at m.py:6 reads the exception the calling thread is handling" in found[24]["fix"]["reason"]
    assert offload(tmp_path, "--fix", "--unsafe-fixes").returncode == 1
    assert "print(await asyncio.to_thread(load, \"/nonexistent/settings.ini\"))" in (tmp_path / "m.py").read_text()
    ran = subprocess.run([sys.executable, "m.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and ran.stdout == "failed: FileNotFoundError\n", ran.stderr


def test_a_helper_that_reads_its_callers_stack_is_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import os
        import sys


        def find_config(name):
            frame = sys._getframe(1)
            here = os.path.dirname(os.path.abspath(frame.f_code.co_filename))
            return os.path.exists(os.path.join(here, name)) and os.path.join(here, name)


        def plain(name):
            return os.path.exists(name)


        async def main():
            return find_config("app.cfg"), plain("app.cfg")
        '''})
    found = {f["location"]["column"]: f["fix"] for f in findings(tmp_path) if f["location"]["row"] == 16}
    assert found[12]["applicability"] == "suggestion"
    assert "`sys._getframe()` at m.py:6 reads the calling thread's stack" in found[12]["reason"]
    assert found[36]["applicability"] == "unsafe"


def test_a_helper_bound_to_the_loop_thread_says_so_before_a_race_it_also_has(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import socket

        import tornado.ioloop


        def register(sock):
            tornado.ioloop.IOLoop.current().add_handler(sock, print, 1)


        class Server:
            def __init__(self):
                self._handlers = {}

            def listen(self, port):
                self.add(socket.getaddrinfo("example.org", port))

            def add(self, sockets):
                for sock in sockets:
                    self._handlers[sock] = 1
                    register(sock)

            async def stop(self):
                self._handlers.clear()


        async def serve(server: Server):
            server.listen(8000)
        '''})
    fix = next(f["fix"] for f in findings(tmp_path) if f["location"]["row"] == 27)
    assert fix["applicability"] == "suggestion"
    assert fix["reason"].startswith("`tornado.ioloop.IOLoop.current()` at m.py:7 works with the calling thread's event "
                                    "loop: a worker thread has none, or one that never runs")


def test_a_helper_that_hands_work_back_with_call_soon_threadsafe_is_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio
        import time


        def work(loop: asyncio.AbstractEventLoop, done):
            time.sleep(1)
            loop.call_soon_threadsafe(done)


        def bad(loop: asyncio.AbstractEventLoop, done):
            time.sleep(1)
            loop.call_soon(done)


        async def main(done):
            work(asyncio.get_running_loop(), done)
            bad(asyncio.get_running_loop(), done)
        '''})
    found = {f["location"]["row"]: f["fix"] for f in findings(tmp_path)}
    assert found[16]["applicability"] == "unsafe"
    assert found[17]["applicability"] == "suggestion" and "`loop.call_soon()` at m.py:12" in found[17]["reason"]


def test_no_await_is_added_inside_a_with_block_that_may_hold_what_other_coroutines_use(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio
        import contextlib
        import io
        import threading
        import time


        def load(path):
            with open(path) as f:
                return f.read()


        class Worker:
            def __init__(self):
                self._lock = threading.Lock()
                self.steps = 0

            async def step(self):
                with self._lock:
                    time.sleep(0.01)
                    self.steps += 1

            async def quiet(self, path):
                with contextlib.redirect_stdout(io.StringIO()):
                    load(path)

            async def scratch(self, path):
                with open(path) as f, contextlib.suppress(OSError):
                    time.sleep(0.01)
                    return f.name


        async def main():
            worker = Worker()
            await asyncio.gather(worker.step(), worker.step())
            return worker.steps
        '''})
    fixes = {f["location"]["row"]: f["fix"] for f in findings(tmp_path)}
    for row, item in ((20, "self._lock"), (25, "contextlib.redirect_stdout(io.StringIO())")):
        assert fixes[row]["applicability"] == "suggestion"
        assert fixes[row]["reason"].startswith(f"inside `with {item}:` an `await` lets other coroutines run")
    assert fixes[29]["applicability"] == "safe"  # a file and a suppressed exception hold nothing shared
    offload(tmp_path, "--fix", "--unsafe-fixes")
    fixed = (tmp_path / "m.py").read_text()
    assert "with self._lock:\n            time.sleep(0.01)\n" in fixed
    assert "suppress(OSError):\n            await asyncio.sleep(0.01)\n" in fixed
    ran = python(tmp_path, "import asyncio, m; print(asyncio.run(asyncio.wait_for(m.main(), 20)))")
    assert ran.stdout.strip() == "2", ran.stderr


def test_helpers_that_need_the_callers_context_or_the_main_thread_are_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import contextvars
        import signal
        import threading
        from pathlib import Path

        REQUEST_ID = contextvars.ContextVar("request_id", default=None)
        LOCAL = threading.local()


        def load_and_tag(path):
            REQUEST_ID.set("abc")
            return Path(path).read_text()


        def install_handler(path):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            return Path(path).exists()


        def read_local(path):
            return Path(LOCAL.base, path).read_text()


        async def main(path):
            load_and_tag(path)
            install_handler(path)
            read_local(path)
        '''})
    fixes = {f["location"]["row"]: f["fix"] for f in findings(tmp_path)}
    assert all(fix["applicability"] == "suggestion" for fix in fixes.values()), fixes
    assert fixes[25]["reason"].startswith("`REQUEST_ID.set()` at m.py:11 sets a context variable")
    assert fixes[26]["reason"].startswith("`signal.signal()` at m.py:16 works in the main thread only")
    assert fixes[27]["reason"].startswith("`LOCAL.base` at m.py:21 is an attribute of a `threading.local`")


def test_a_helper_that_imports_a_module_named_at_run_time_is_not_offloaded(tmp_path: Path):
    # uvicorn's Config.load() imports the application: its import-time code would run in the thread.
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "plugin.py": '''
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        ''', "m.py": '''
        import importlib
        from pathlib import Path


        def load_plugin(name, path):
            Path(path).read_text()
            return importlib.import_module(name)


        async def main(name, path):
            return load_plugin(name, path).__name__


        def load_app(name):
            return importlib.import_module(name)


        async def serve(name):
            return load_app(name)
        '''})
    finding, imports = findings(tmp_path)
    assert imports["fix"]["applicability"] == "suggestion"
    # The import is the blocking part: the thread the rule would suggest for it is no way out here.
    assert ("`importlib.import_module()` in load_app cannot move to a worker thread either: use an import at "
            "module level, or one made before the event loop starts") in imports["message"]
    assert finding["fix"]["applicability"] == "suggestion"
    assert finding["fix"]["reason"].startswith("`importlib.import_module()` at m.py:7: it imports a module named at run time")
    ran = python(tmp_path, "import asyncio, m; print(asyncio.run(m.main('plugin', 'm.py')))")
    assert ran.stdout.strip() == "plugin", ran.stderr
    # What the rewrite would have run:
    moved = python(tmp_path, "import asyncio, m; asyncio.run(asyncio.to_thread(m.load_plugin, 'plugin', 'm.py'))")
    assert "ValueError: signal only works in main thread" in moved.stderr, moved.stderr


def test_a_helper_that_makes_an_object_of_the_loop_is_not_offloaded(tmp_path: Path):
    """A future takes the calling thread's loop when it is made; before Python 3.10 an event or
    a lock did too. The rewritten program must still run."""
    program = '''
        import asyncio
        import time


        class Player:
            def __init__(self):
                self.ready = asyncio.Event()
                time.sleep(0.01)


        def pending():
            time.sleep(0.01)
            return asyncio.Future()


        async def main():
            Player()
            pending().cancel()


        asyncio.run(main())
        '''
    write(tmp_path, {"pyproject.toml": "[tool.offload]\ntarget-version = 'py39'\n", "m.py": program})
    fixes = {f["location"]["row"]: f["fix"] for f in findings(tmp_path)}
    assert fixes[17]["reason"].startswith("`asyncio.Event()` at m.py:7 makes an event-loop object, which before "
                                          "Python 3.10 takes the calling thread's event loop")
    assert fixes[18]["reason"].startswith("`asyncio.Future()` at m.py:13 makes an event-loop object, which takes")
    offload(tmp_path, "--fix", "--unsafe-fixes")
    ran = subprocess.run([sys.executable, str(tmp_path / "m.py")], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    # From Python 3.10 on, an event binds the loop that first waits on it: made in a thread, it works.
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\ntarget-version = 'py310'\n")
    write(tmp_path, {"m.py": program})
    fixes = {f["location"]["row"]: f["fix"] for f in findings(tmp_path, "--unsafe-fixes")}
    assert fixes[17]["applicability"] == "unsafe" and fixes[18]["applicability"] == "suggestion"


def test_a_helper_handed_an_object_of_the_loop_is_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio

        import tornado.web


        def respond(handler, name, queue):
            with open(name, "a") as log:
                log.write(name)
            handler.set_header("Content-Type", "text/plain")


        def record(name):
            with open(name, "a") as log:
                log.write(name)


        class Report(tornado.web.RequestHandler):
            async def get(self):
                respond(self, "a.log", None)
                record("b.log")

        async def worker(queue: asyncio.Queue):
            respond(None, "c.log", queue)
        '''})
    found = {f["location"]["row"]: f for f in findings(tmp_path)}
    assert sorted(found) == [19, 20, 23] and all(f["code"] == "BLK200" for f in found.values())
    assert found[19]["fix"]["applicability"] == "suggestion"
    assert found[19]["fix"]["reason"] == (
        "it is handed an object of type `Report` (m.py:19): `tornado.web.RequestHandler` objects are used on the "
        "event loop's thread only")
    assert found[23]["fix"]["applicability"] == "suggestion"
    assert "it is handed an object of type `Queue` (m.py:23): `asyncio.Queue` objects" in found[23]["fix"]["reason"]
    assert found[20]["fix"]["applicability"] == "unsafe"  # only a string is handed over


PERSISTENCE = {
    "persistence.py": '''
        import pickle


        class PicklePersistence:
            def __init__(self, filepath):
                self.filepath = filepath
                self.user_data = {}

            def _dump(self):
                with open(self.filepath, "wb") as file:
                    pickle.dump({"user_data": self.user_data}, file)

            async def update_user_data(self, user_id, data):
                self.user_data[user_id] = data
                self._dump()
        ''',
    "app.py": '''
        import asyncio
        import pickle

        from persistence import PicklePersistence


        async def handle(p, i):
            await asyncio.sleep(0.001 * (i % 7))
            await p.update_user_data(i, {"history": list(range(20_000))})


        async def main():
            p = PicklePersistence("data.pickle")
            results = await asyncio.gather(*(handle(p, i) for i in range(60)), return_exceptions=True)
            errors = [r for r in results if isinstance(r, Exception)]
            with open("data.pickle", "rb") as f:
                print(len(errors), len(pickle.load(f)["user_data"]))
        ''',
}


def test_helper_reading_state_that_coroutines_change_is_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", **PERSISTENCE})
    [finding] = [f for f in findings(tmp_path) if f["code"] == "BLK200"]
    reason = finding["fix"]["reason"]
    assert "`self.user_data` (persistence.py:11)" in reason and "`PicklePersistence.update_user_data`" in reason
    before = snapshot(tmp_path)
    offload(tmp_path, "--fix", "--unsafe-fixes")
    after = snapshot(tmp_path)
    assert after["persistence.py"] == before["persistence.py"]
    # The read of the result file in main() belongs to its ``with`` block: the block has to move.
    assert after["app.py"] == before["app.py"]
    run = python(tmp_path, "import asyncio, app; asyncio.run(app.main())")
    assert run.stdout.split() == ["0", "60"], run.stderr


def test_helper_whose_state_coroutines_only_rebind_is_still_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio


        class Store:
            def __init__(self, path):
                self.path = path

            def load(self):
                with open(self.path) as f:
                    return f.read()

            async def move(self, path):
                self.path = path
                return self.load()
        '''})
    [finding] = findings(tmp_path)
    assert finding["fix"]["applicability"] == "unsafe"


SQLITE = {
    "m.py": '''
        import sqlite3


        class Store:
            def __init__(self, path):
                self.db = sqlite3.connect(path)

            def load(self, key_file):
                with open(key_file) as f:
                    key = f.read().strip()
                return self.db.execute("select ?", (key,)).fetchall()


        async def handler(store: Store, key_file):
            return store.load(key_file)
        ''',
    "db_only.py": '''
        import sqlite3


        class Store:
            def __init__(self, path):
                self.db = sqlite3.connect(path)

            def count(self):
                return self.db.execute("select 1").fetchall()


        def make_store(path):
            return Store(path)


        async def handler(store: Store):
            return store.count()


        async def setup(path):
            return make_store(path)


        async def main():
            store = await setup(":memory:")
            return await handler(store)
        ''',
}


def test_a_helper_that_opens_and_keeps_its_own_sqlite_connection_in_the_thread_is_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import sqlite3


        def count(db):
            conn = sqlite3.connect(db)
            try:
                return conn.execute("select count(*) from t").fetchall()
            finally:
                conn.close()


        def open_db(db):
            return sqlite3.connect(db)


        class Cache:
            pass


        CACHE = Cache()


        def cached_db(db):
            if not hasattr(CACHE, "conn"):
                CACHE.conn = open_db(db)
            return CACHE.conn


        async def main(db):
            rows = count(db)
            conn = open_db(db)
            cached = cached_db(db)
            return rows, conn.execute("select count(*) from t").fetchone(), cached.execute("select 2").fetchone()
        '''})
    fixes = {f["location"]["row"]: f["fix"] for f in findings(tmp_path) if f["code"] == "BLK200"}
    assert fixes[30]["applicability"] == "unsafe"
    assert fixes[31]["applicability"] == "suggestion" and "sqlite3" in fixes[31]["reason"]  # the connection leaves
    # Opened one function down and kept where the loop's thread uses it later.
    assert fixes[32]["applicability"] == "suggestion" and "sqlite3" in fixes[32]["reason"]
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert "rows = await asyncio.to_thread(count, db)" in (tmp_path / "m.py").read_text()
    sqlite3.connect(tmp_path / "t.db").executescript("create table t (x); insert into t values (1);")
    run = python(tmp_path, "import asyncio, m; print(asyncio.run(m.main('t.db')))")
    assert run.stdout.strip() == "([(1,)], (1,), (2,))", run.stderr


def test_helper_using_sqlite_is_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "run.py": "import asyncio\n", **SQLITE})
    blk200 = [f for f in findings(tmp_path) if f["code"] == "BLK200"]
    assert len(blk200) == 3
    assert all(f["fix"]["applicability"] == "suggestion" and "sqlite3" in f["fix"]["reason"] for f in blk200)
    before = snapshot(tmp_path)
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert snapshot(tmp_path) == before
    (tmp_path / "key.txt").write_text("k\n")
    run = python(tmp_path, "import asyncio, m, db_only; print(asyncio.run(m.handler(m.Store(':memory:'), 'key.txt')), "
                           "asyncio.run(db_only.main()))")
    assert run.stdout.strip() == "[('k',)] [(1,)]", run.stderr


def test_generator_helper_is_not_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio


        def lines(paths):
            for p in paths:
                yield open(p).read()


        async def use(paths):
            for text in lines(paths):
                pass
            return [t for t in lines(paths)]
        '''})
    found = findings(tmp_path)
    assert [f["code"] for f in found] == ["BLK200", "BLK200"]
    assert all("`lines` is a generator" in f["fix"]["reason"] for f in found)
    assert all("`await asyncio.to_thread(lambda: list(lines(paths)))`" in f["message"] for f in found)
    before = snapshot(tmp_path)
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert snapshot(tmp_path) == before


def test_eager_offload_of_a_sqlite_call_is_not_rewritten(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio
        import sqlite3


        async def query(conn: sqlite3.Connection):
            return await asyncio.to_thread(conn.execute("select 1"))
        '''})
    [finding] = [f for f in findings(tmp_path) if f["code"] == "BLK301"]
    assert finding["fix"]["applicability"] == "suggestion" and "sqlite3" in finding["fix"]["reason"]


def test_not_on_loop_is_documented_in_check_help():
    text = CliRunner().invoke(main, ["check", "--help"]).stdout
    assert 'not-on-loop = ["pkg.module.func", "pkg.components.*"]' in text and "coro.send(None)" in text


def test_constructors_and_other_objects_do_not_share_state(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio


        class Request:
            def __init__(self, path):
                self.url = path
                self.update_headers(path)

            def update_headers(self, path):
                with open(path) as f:
                    self.headers = f.read()

            async def send(self):
                self.headers = None
                self.url = "sent"


        async def send(path, other: Request):
            other.url = "x"
            return Request(path)
        '''})
    [finding] = findings(tmp_path)
    assert finding["code"] == "BLK200" and finding["fix"]["applicability"] == "unsafe"


def test_a_file_read_where_it_is_used_is_not_half_offloaded(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio
        import json


        async def count_lines(p):
            n = 0
            for _ in open(p):
                n += 1
            return n


        async def load(p):
            return json.load(open(p))


        async def first(p):
            return open(p).read()
        '''})
    everything = findings(tmp_path)
    found = {f["location"]["row"]: f for f in everything if f["code"] == "BLK130"}
    assert "(iterating it)" in found[7]["fix"]["reason"] and found[7]["fix"]["applicability"] == "suggestion"
    assert "(the call it is passed to)" in found[13]["fix"]["reason"]
    assert found[17]["fix"]["applicability"] == "unsafe"  # open(p).read(): both calls move, nothing is left
    # The loop over the file and json.load reading it are findings of their own (BLK131).
    reads = {f["location"]["row"]: f for f in everything if f["code"] == "BLK131"}
    assert reads[7]["message"].startswith("blocking `for ... in open(p)`") and reads[7]["fix"]["applicability"] == "suggestion"
    assert reads[13]["message"].startswith("blocking call `json.load()`")
    offload(tmp_path, "--fix", "--unsafe-fixes")
    text = (tmp_path / "m.py").read_text()
    assert "for _ in open(p):" in text and "await asyncio.to_thread(json.load, open(p))" in text
    # Still reported: the loop, and both opens (the one json.load is handed stays on the loop).
    after = findings(tmp_path)
    assert sorted((f["location"]["row"], f["code"]) for f in after) == [(7, "BLK130"), (7, "BLK131"), (13, "BLK130")]
    # The thread reads that file now: what is left on the loop is opening it.
    opened = next(f for f in after if f["location"]["row"] == 13)
    assert opened["message"].endswith("open the file in the thread too: a sync function that opens, reads and "
                                      "closes it, run with `asyncio.to_thread`, or use aiofiles or anyio.open_file")
    assert opened["fix"]["reason"] == "the thread reads the file, but opening it still waits on the loop"


def test_a_blocking_call_in_a_loop_suggests_offloading_the_whole_loop(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio
        import os
        import time


        async def sizes(paths):
            for p in paths:
                time.sleep(0.1)
                yield os.path.getsize(p)
            while paths:
                os.remove(paths.pop())
            return os.path.exists(paths)
        '''})
    found = {f["location"]["row"]: f["fix"] for f in findings(tmp_path)}
    assert found[8]["applicability"] == "safe"  # a sleep per iteration stays a sleep per iteration
    assert found[9]["applicability"] == found[11]["applicability"] == "suggestion"
    assert "one thread job per iteration" in found[9]["reason"]
    assert found[12]["applicability"] == "unsafe"


def test_a_blocking_call_run_per_item_of_a_comprehension_is_a_loop_too(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import os


        async def files(top):
            found = [f for f in os.listdir(top) if os.path.isfile(f)]
            sizes = {f: os.path.getsize(f) for f in found}
            stats = [os.stat(g) for d in found for g in os.listdir(d)]
            return found, sizes, stats
        '''})
    found = {(f["location"]["row"], f["location"]["column"]): f["fix"] for f in findings(tmp_path)}
    assert found[(5, 25)]["applicability"] == "unsafe"  # the first iterable is evaluated once
    for per_item in ((5, 44), (6, 17), (7, 14), (7, 49)):
        assert found[per_item]["applicability"] == "suggestion", per_item
        assert "one thread job per iteration" in found[per_item]["reason"]


# -- what the call hands to the thread --------------------------------------------------------------
HANDED_OVER = '''
import pickle


class Persistence:
    def __init__(self, path):
        self.path = path
        self.user_data = {}

    async def update_user_data(self, user_id, data):
        self.user_data[user_id] = data
        self._dump(self.path, {CALL})

    def _dump(self, path, data):
        with open(path, "wb") as f:
            pickle.dump(data, f)
'''


def test_an_argument_other_coroutines_change_in_place_is_not_handed_to_a_thread(tmp_path: Path):
    # update_user_data runs several times at once (asyncio.gather of one update per user): a
    # thread pickling self.user_data would see the next update fill it.
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "store.py": HANDED_OVER.replace("{CALL}", "self.user_data")})
    [finding] = findings(tmp_path)
    assert finding["code"] == "BLK200" and finding["fix"]["applicability"] == "suggestion"
    reason = finding["fix"]["reason"]
    assert "`self.user_data` (store.py:11)" in reason and "`Persistence.update_user_data` changes it in place (store.py:10)" in reason
    before = snapshot(tmp_path)
    assert offload(tmp_path, "--fix", "--unsafe-fixes").returncode == 1
    assert snapshot(tmp_path) == before


def test_a_copy_made_on_the_loop_can_go_to_the_thread(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n",
                     "store.py": HANDED_OVER.replace("{CALL}", "dict(self.user_data)")})
    [finding] = findings(tmp_path)
    assert finding["fix"]["applicability"] == "unsafe"


def test_a_helper_writing_what_a_loop_callback_pops_is_not_offloaded(tmp_path: Path):
    # The browser callback is a plain method the loop calls: it pops the dict the thread fills.
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "discovery.py": '''
        import asyncio
        import json


        class Discovery:
            def __init__(self):
                self.import_state = {}

            def browser_callback(self, name, removed):
                if removed:
                    self.import_state.pop(name, None)
                    return
                asyncio.get_running_loop().create_task(self._async_process(name))

            async def _async_process(self, name):
                self._process(name)

            def _process(self, name):
                with open(name) as f:
                    self.import_state[name] = json.load(f)
        '''})
    [finding] = findings(tmp_path)
    assert finding["code"] == "BLK200" and finding["fix"]["applicability"] == "suggestion"
    assert ("`Discovery._process` writes `self.import_state` (discovery.py:20), which `Discovery.browser_callback` "
            "also changes (discovery.py:11)") in finding["fix"]["reason"]


# -- module-level variables shared with the thread ---------------------------------------------------
MODULE_STATE = '''
import json
import subprocess

CACHE = []


def dump(path, data):
    with open(path, "w") as f:
        json.dump(data, f)


def dump_cache(path):
    with open(path, "w") as f:
        json.dump(CACHE, f)


async def add(value):
    CACHE.append(value)


async def save(path):
    {CALL}
'''


@pytest.mark.parametrize("call, reason", [
    ("dump(path, CACHE)", "the module-level `CACHE` (state.py:22) is handed to the thread as it is, and `add` (state.py) changes it in place"),
    ("dump_cache(path)", "`dump_cache` reads the module-level `CACHE`, which async `add` (state.py) also changes"),
    ("subprocess.run(CACHE)", "the module-level `CACHE` (state.py:22) is handed to the thread as it is, and `add` (state.py) changes it in place"),
])
def test_a_module_level_variable_coroutines_change_in_place_is_not_handed_to_a_thread(tmp_path: Path, call, reason):
    # ``add`` fills CACHE while the thread would serialise it (``asyncio.gather(add(...), save(...))``).
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "state.py": MODULE_STATE.replace("{CALL}", call)})
    [finding] = [f for f in findings(tmp_path) if f["location"]["row"] == 22]
    assert finding["fix"]["applicability"] == "suggestion"
    assert reason in finding["fix"]["reason"]
    before = snapshot(tmp_path)
    offload(tmp_path, "--fix", "--unsafe-fixes")
    assert snapshot(tmp_path) == before


def test_a_method_the_helper_calls_on_self_is_the_one_the_objects_class_runs(tmp_path: Path):
    """``FileStore._save`` calls ``self.serialize()``: on a ``FileStateStore`` that is the other
    base's method, which reads the dict the store's coroutines fill."""
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import pickle


        class MemoryStore:
            def __init__(self):
                self.members = {}

            def serialize(self):
                return {"members": self.members}

            async def set_member(self, room, user):
                self.members.setdefault(room, []).append(user)


        class FileStore:
            def __init__(self, path):
                self.path = path

            def serialize(self):
                raise NotImplementedError

            def _save(self):
                with open(self.path, "wb") as file:
                    pickle.dump(self.serialize(), file)


        class FileStateStore(MemoryStore, FileStore):
            def __init__(self, path):
                MemoryStore.__init__(self)
                FileStore.__init__(self, path)

            async def set_member(self, room, user):
                await super().set_member(room, user)
                self._save()
        '''})
    [finding] = findings(tmp_path, "--unsafe-fixes")
    assert finding["location"]["row"] == 34 and finding["fix"]["applicability"] == "suggestion"
    assert finding["fix"]["reason"].startswith("`MemoryStore.serialize` reads `self.members` (m.py:9), which async "
                                               "`MemoryStore.set_member` also changes (m.py:12)")


def test_a_module_level_variable_changed_under_global_in_another_module_is_shared(tmp_path: Path):
    # ``SEEN`` is changed by the helper and, through an import, by a loop callback elsewhere.
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "pkg/__init__.py": "", "pkg/state.py": '''
        SEEN = []
        COUNT = 0


        def record(path):
            SEEN.append(path)
            with open(path) as f:
                return f.read()


        def count(path):
            global COUNT
            COUNT = COUNT + 1
            with open(path) as f:
                return f.read()
        ''', "pkg/app.py": '''
        import asyncio

        from pkg import state
        from pkg.state import SEEN


        def forget(path):
            SEEN.remove(path)


        def reset():
            state.COUNT = 0


        async def handler(path):
            state.record(path)
            state.count(path)
        '''})
    by_call = {f["message"].split("`")[1]: f for f in findings(tmp_path)}
    assert by_call["state.record()"]["fix"]["applicability"] == "suggestion"
    assert "`record` changes the module-level `SEEN`, which `forget` (pkg/app.py) also changes" in by_call["state.record()"]["fix"]["reason"]
    # ``state.COUNT = 0`` is an attribute of another module, not followed: the rebind under
    # ``global`` races only with code offload sees changing it.
    assert by_call["state.count()"]["fix"]["applicability"] == "unsafe"


def test_a_module_level_variable_only_read_everywhere_can_go_to_the_thread(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "state.py": '''
        import json

        SETTINGS = {"indent": 2}


        def dump(path, data):
            with open(path, "w") as f:
                json.dump(data, f, indent=SETTINGS["indent"])


        async def save(path):
            dump(path, SETTINGS)
        '''})
    [finding] = findings(tmp_path)
    assert finding["fix"]["applicability"] == "unsafe"


# -- imports whose module code would run in the thread -----------------------------------------------
EXTENSIONS = '''
import asyncio
import importlib
import importlib.util
import sys


async def load_extension(name):
    spec = importlib.util.find_spec(name)
    lib = importlib.util.module_from_spec(spec)
    sys.modules[name] = lib
    spec.loader.exec_module(lib)
    return lib


async def load_named():
    return importlib.import_module("ext_fixed")
'''


def test_a_module_whose_code_the_thread_would_run_unseen_is_not_imported_in_a_thread(tmp_path: Path):
    # An extension creating a loop-bound object at import (``asyncio.get_running_loop()`` here)
    # works on the loop and fails in a worker thread: only the literal, chosen module is fixed.
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "bot.py": EXTENSIONS,
                     "ext_user.py": "import asyncio\n\nLOOP = asyncio.get_running_loop()\n",
                     "ext_fixed.py": "VALUE = 1\n"})
    reasons = {f["location"]["row"]: (f["fix"] or {}).get("reason") for f in findings(tmp_path)}
    assert "imports a module named at run time" in reasons[8]
    assert "already in `sys.modules`" in reasons[11]
    assert reasons[16] is None
    offload(tmp_path, "--fix", "--unsafe-fixes")
    fixed = snapshot(tmp_path)["bot.py"]
    assert "spec.loader.exec_module(lib)\n" in fixed and "spec = importlib.util.find_spec(name)\n" in fixed
    assert 'await asyncio.to_thread(importlib.import_module, "ext_fixed")' in fixed
    run = python(tmp_path, "import asyncio, bot; asyncio.run(bot.load_extension('ext_user')); print('loaded')")
    assert run.stdout.split() == ["loaded"], run.stderr


def test_no_await_is_added_between_a_test_of_shared_state_and_its_change(tmp_path: Path):
    """Between two awaits a coroutine runs alone: ``if token not in self.bots: self.bots[token] =
    Bot(token)`` makes one bot per token. An await added between the test and the change lets
    every coroutine that asks meanwhile make its own."""
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", "m.py": '''
        import asyncio
        import time

        MADE = []


        class Bot:
            def __init__(self, token):
                time.sleep(0.05)
                MADE.append(token)


        class Server:
            def __init__(self):
                self.bots = {}
                self.ready = False
                self.seen = []

            async def resolve(self, token):
                if token not in self.bots:
                    self.bots[token] = Bot(token)
                return self.bots[token]

            async def warm(self):
                if not self.ready:
                    time.sleep(0.01)
                    self.ready = True

            async def note(self, token):
                if token not in self.seen:
                    self.seen.append(Bot(token))

            async def already_racy(self, token):
                if token not in self.bots:
                    await asyncio.sleep(0)
                    self.bots[token] = Bot(token)

            async def local(self, token):
                made = {}
                if token not in made:
                    made[token] = Bot(token)
                return made


        async def main():
            server = Server()
            await asyncio.gather(*(server.resolve("t") for _ in range(5)))
            return len(MADE)
        '''})
    fixes = {f["location"]["row"]: f["fix"] for f in findings(tmp_path, "--unsafe-fixes")}
    reason = ("an `await` here would come between the test of `self.bots` and the change of it that follows: other "
              "coroutines could pass the same test meanwhile")
    assert fixes[21]["applicability"] == "suggestion" and fixes[21]["reason"].startswith(reason)
    assert fixes[26]["applicability"] == "suggestion" and "the test of `self.ready`" in fixes[26]["reason"]
    assert fixes[31]["applicability"] == "suggestion" and "the test of `self.seen`" in fixes[31]["reason"]
    assert fixes[36]["applicability"] == "unsafe"  # an await comes between already
    assert fixes[41]["applicability"] == "unsafe"  # a local dict: no other coroutine sees it
    # A module-level variable is shared like an attribute; a module an import binds is not state.
    write(tmp_path, {"n.py": '''
        import os

        CACHE = {}


        async def fill(key):
            if key not in CACHE:
                CACHE[key] = open(key).read()


        async def clean(path):
            if os.path.exists(path):
                os.remove(path)
        '''})
    fixes = {(f["location"]["row"], f["code"]): f["fix"] for f in findings(tmp_path, "--unsafe-fixes", "n.py")}
    assert fixes[8, "BLK130"]["applicability"] == "suggestion" and "the test of `CACHE`" in fixes[8, "BLK130"]["reason"]
    assert fixes[13, "BLK142"]["applicability"] == "unsafe"
    (tmp_path / "n.py").unlink()
    offload(tmp_path, "--fix", "--unsafe-fixes")
    run = python(tmp_path, "import asyncio, m; print(asyncio.run(m.main()))")
    assert run.stdout.strip() == "1", run.stderr


# A translator whose ``translate`` writes an attribute ``detect`` also changes: on a shared
# instance the thread would race with the coroutines calling ``detect``; on one a coroutine
# makes and only calls methods of, nothing else reaches it.
TRANSLATOR = {
    "translator.py": '''
        import urllib.request


        class Translator:
            def __init__(self):
                self.last = None

            def translate(self, text):
                self.last = text
                return urllib.request.urlopen("http://127.0.0.1:9/?q=" + text)

            def detect(self, text):
                self.last = text
                return "en"
        ''',
    "app.py": '''
        from translator import Translator

        SHARED = Translator()


        async def local(text):
            translator = Translator()
            translator.detect(text)
            return translator.translate(text)


        async def shared(text):
            return SHARED.translate(text)


        async def handed(text, log):
            translator = Translator()
            log(translator)
            return translator.translate(text)


        async def entered(text):
            made = make()
            return made.translate(text)


        def make():
            return SHARED
        ''',
}


def test_a_method_of_an_object_only_its_coroutine_reaches_moves_to_a_thread(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": "[tool.offload]\n", **TRANSLATOR})
    found = {f["chain"][0]["function"]: f["fix"] for f in findings(tmp_path) if f["code"] == "BLK200"}
    assert found["local"]["applicability"] == "unsafe", found["local"]
    for shared in ("shared", "handed", "entered"):  # the module's instance; passed on; made by a function
        assert found[shared]["applicability"] == "suggestion" and "would race" in found[shared]["reason"], shared


# Red-DiscordBot's shape: the locale is a context variable each command sets; a helper reads it.
LOCALE = {
    "i18n.py": '''
        import contextvars
        import os

        _locale = contextvars.ContextVar("locale", default="en_US")


        def set_locale(name):
            _locale.set(name)


        def humanize(value, unit="x"):
            os.listdir(".")  # stands for the locale data it loads
            return f"{value} {unit} ({_locale.get()})"
        ''',
    "bot.py": '''
        from i18n import humanize, set_locale


        async def command(value):
            set_locale("de_DE")
            return humanize(value, unit="kg")
        ''',
}


@pytest.mark.parametrize("version", ["py38", "py39"])
def test_run_in_executor_runs_a_helper_that_reads_the_context_in_a_copy_of_it(tmp_path: Path, version):
    write(tmp_path, {"pyproject.toml": f'[tool.offload]\ntarget-version = "{version}"\n', **LOCALE})
    [found] = [f for f in findings(tmp_path) if f["code"] == "BLK200"]
    assert found["fix"]["applicability"] == "unsafe", found["fix"]
    if version == "py38":
        rewrite = ("await asyncio.get_running_loop().run_in_executor(None, contextvars.copy_context().run, "
                   "functools.partial(humanize, value, unit=\"kg\"))")
    else:
        rewrite = "await asyncio.to_thread(humanize, value, unit=\"kg\")"
    assert rewrite in found["message"] and found["fix"]["message"] == f"Wrap in `{rewrite}`"
    offload(tmp_path, "--fix", "--unsafe-fixes")
    fixed = (tmp_path / "bot.py").read_text()
    assert ("contextvars.copy_context().run," in fixed and "import contextvars" in fixed) == (version == "py38")
    # The rewritten command sees the locale it set; a plain run_in_executor would see the default.
    check = ("import asyncio, i18n, bot\n"
             "async def main():\n"
             "    plain = await asyncio.get_running_loop().run_in_executor(None, i18n.humanize, 1)\n"
             "    print(await bot.command(1), '|', plain)\n"
             "asyncio.run(main())\n")
    run = python(tmp_path, check)
    assert run.stdout.strip() == "1 kg (de_DE) | 1 x (en_US)", run.stderr
