"""Blocking calls followed into installed libraries: a fake environment built in tmp_path."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import List, Tuple

import pytest

from detector import config as config_module
from detector.runner import check_paths
from fake_environment import PY, install as _install, write as _write
from offload_cli import invoke_offload

SDK = {
    "slowsdk/__init__.py": "from slowsdk.client import Client, Base\n",
    "slowsdk/client.py": """
        import asyncio
        from concurrent.futures import ThreadPoolExecutor
        from slowsdk import _transport

        _pool = ThreadPoolExecutor()

        class Client:
            def __init__(self, token):
                self.session = _transport.login(token)

            def fetch(self, key):
                return _transport.get(key)

            def fetch_later(self, key):
                return _pool.submit(_transport.get, key)

            async def fetch_async(self, key):
                return await asyncio.to_thread(_transport.get, key)

            def name(self):
                return "client"

        class Base:
            def sync_all(self):
                return _transport.get("all")
        """,
    "slowsdk/_transport.py": """
        import urllib.request
        from slowsdk import _files

        def login(token):
            return urllib.request.urlopen("https://example.com/" + token).read()

        def get(key):
            return _files.load(key)
        """,
    "slowsdk/_files.py": """
        def load(key):
            with open(key) as f:
                return f.read()
        """,
}


def _project(tmp_path: Path, source: str, settings: str = "") -> Path:
    root = tmp_path / "proj"
    _write(root, {"app.py": source, "pyproject.toml": f"[project]\nname = 'app'\n{settings}"})
    return root


def _check(root: Path, python: Path, **settings: object) -> List[str]:
    config = config_module.load(start=root)
    for key, value in settings.items():
        config = config_module.with_overrides(config, **{key: value})
    result = check_paths([root], config, jobs=1, python=str(python))
    return [f"{f.location.row}:{f.code}:{f.message}" for f in result.findings]


@pytest.fixture()
def venv(tmp_path: Path) -> Path:
    venv = tmp_path / "env"
    _install(venv, SDK, {"slowsdk-1.2.0": "slowsdk"})
    return venv


def test_a_library_constructor_doing_io_is_reported_at_the_projects_call(tmp_path: Path, venv: Path) -> None:
    root = _project(tmp_path, """
        from slowsdk import Client

        async def main():
            return Client("t")
        """)
    found = _check(root, venv)
    assert len(found) == 1 and found[0].startswith("5:BLK200:")
    assert "site-packages/slowsdk/_transport.py:6 (slowsdk 1.2.0)" in found[0]
    assert "through Client.__init__ -> login" in found[0]


def test_a_library_method_doing_io_through_two_internal_modules(tmp_path: Path, venv: Path) -> None:
    root = _project(tmp_path, """
        import slowsdk

        async def main(client: slowsdk.Client):
            client.name()
            return client.fetch("k")
        """)
    found = _check(root, venv)
    assert [f.split(":")[:2] for f in found] == [["6", "BLK200"]]
    assert "site-packages/slowsdk/_files.py:3" in found[0] and "Client.fetch -> get -> load" in found[0]


def test_a_method_inherited_from_a_library_class(tmp_path: Path, venv: Path) -> None:
    root = _project(tmp_path, """
        from slowsdk import Base

        class Mine(Base):
            pass

        async def main():
            Mine().sync_all()
        """)
    found = _check(root, venv)
    assert [f.split(":")[:2] for f in found] == [["8", "BLK200"]]


def test_library_calls_that_offload_or_are_awaited_coroutines_are_silent(tmp_path: Path, venv: Path) -> None:
    root = _project(tmp_path, """
        from slowsdk import Client

        async def main(client: Client):
            client.fetch_later("k")
            await client.fetch_async("k")
        """)
    assert _check(root, venv) == []


def test_a_compiled_module_is_opaque_and_silent(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    site = _install(venv, {"fastio/__init__.py": "from fastio._core import read\n"})
    (site / "fastio" / "_core.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF not python")
    root = _project(tmp_path, """
        import fastio

        async def main():
            fastio.read("x")
        """)
    assert _check(root, venv) == []


def test_following_can_be_switched_off_or_limited(tmp_path: Path, venv: Path) -> None:
    source = """
        from slowsdk import Client

        async def main():
            return Client("t")
        """
    root = _project(tmp_path, source)
    assert _check(root, venv, follow_dependencies=False) == []
    assert _check(root, venv, follow_dependencies=("otherlib",)) == []
    assert len(_check(root, venv, follow_dependencies=("slowsdk",))) == 1
    off = _project(tmp_path / "off", source, "[tool.offload]\nfollow-dependencies = false\n")
    assert _check(off, venv) == []


def test_the_projects_own_package_and_catalogued_packages_are_not_read_from_site_packages(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    # An installed copy of the project (stale), and a `requests` whose catalogue entries are its model.
    _install(venv, {
        "app.py": "import time\ndef helper():\n    time.sleep(1)\n",
        "requests/__init__.py": "import time\ndef get(url):\n    time.sleep(1)\ndef uncatalogued(url):\n    time.sleep(1)\n",
    })
    root = _project(tmp_path, """
        import requests

        def helper():
            return 1

        async def main():
            helper()
            requests.get("u")
            requests.uncatalogued("u")
        """)
    assert [f.split(":")[:2] for f in _check(root, venv)] == [["9", "BLK110"]]


def test_library_files_offload_cannot_analyse_are_silent_and_the_run_succeeds(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, {
        "brokenlib/__init__.py": "def f(:\n",
        "deeplib/__init__.py": "x = " + "(" * 5000 + ")" * 5000 + "\ndef f():\n    pass\n",
    })
    root = _project(tmp_path, """
        import brokenlib, deeplib

        async def main():
            brokenlib.f()
            deeplib.f()
        """)
    config = config_module.load(start=root)
    result = check_paths([root], config, jobs=1, python=str(venv))
    assert result.findings == [] and result.errors == []


def test_a_second_project_reads_the_library_from_the_user_cache(tmp_path: Path, venv: Path) -> None:
    entries = Path(os.environ["XDG_CACHE_HOME"]) / "offload" / ".offload_cache" / "v1" / "files"
    source = """
        from slowsdk import Client

        async def main():
            return Client("t")
        """
    first = _project(tmp_path / "a", source)
    config = config_module.load(start=first)
    assert len(check_paths([first], config, jobs=1, use_cache=True, python=str(venv)).findings) == 1
    stored = set(os.listdir(entries))
    second = _project(tmp_path / "b", source, "requires-python = '>=3.8'\n")  # another target version
    config = config_module.load(start=second)
    assert config.target_version == "py38"
    assert len(check_paths([second], config, jobs=1, use_cache=True, python=str(venv)).findings) == 1
    assert set(os.listdir(entries)) == stored  # nothing new was analysed for the second project


def test_the_findings_of_a_run_are_not_reused_once_a_library_file_they_came_from_changed(tmp_path: Path,
                                                                                         venv: Path) -> None:
    root = _project(tmp_path, """
        from slowsdk import Client

        async def main():
            return Client("t").fetch("k")
        """)
    config = config_module.load(start=root)

    def warm_run() -> List[str]:
        result = check_paths([root], config, jobs=1, use_cache=True, python=str(venv))
        return sorted(f.message.split(" in async function")[0] for f in result.findings)

    first = warm_run()
    assert first == ['`Client("t").fetch()`', "`Client()`"]  # the constructor logs in, fetch() reads a file
    assert warm_run() == first
    # The library is edited in place, its distribution's name and version unchanged.
    files = venv / "lib" / PY / "site-packages" / "slowsdk" / "_files.py"
    files.write_text("def load(key):\n    return key\n")
    assert warm_run() == ["`Client()`"]


def test_a_library_that_uses_up_the_module_limit_costs_its_own_findings_only_and_is_named(tmp_path: Path) -> None:
    from detector import libraries

    venv = tmp_path / "env"
    many = {"many/__init__.py": ""}
    count = libraries.MAX_MODULES_PER_LIBRARY + 10
    for i in range(count):
        many[f"many/m{i}.py"] = f"from many import m{i + 1}\ndef f():\n    m{i + 1}.f()\n" if i < count - 1 \
            else "import time\ndef f():\n    time.sleep(1)\n"
    _install(venv, {**many, "goodlib/__init__.py": "import time\ndef slow():\n    time.sleep(1)\n"})
    root = _project(tmp_path, """
        from many import m0
        import goodlib

        async def first():
            m0.f()

        async def second():
            goodlib.slow()
        """)
    done = invoke_offload("check", "--no-cache", "--python", str(venv), ".", cwd=root)
    assert done.returncode == 1, done.stderr
    assert "goodlib.slow()" in done.stdout and "m0.f()" not in done.stdout
    assert (f"warning: the run read {libraries.MAX_MODULES_PER_LIBRARY} modules of `many`, as many as it reads; "
            "1 more it was asked for were not read") in done.stderr, done.stderr
    # A warm run says it again: the findings of a run cut short are not kept.
    assert "modules of `many`" in invoke_offload("check", "--python", str(venv), ".", cwd=root).stderr
    assert "modules of `many`" in invoke_offload("check", "--python", str(venv), ".", cwd=root).stderr


@pytest.mark.parametrize("inside", [False, True], ids=["environment elsewhere", "environment in the project"])
def test_a_chains_hops_in_a_library_name_the_installed_file_in_json_and_sarif(tmp_path: Path, inside: bool) -> None:
    import json

    root = _project(tmp_path, """
        from slowsdk import Client

        async def main():
            return Client("t")
        """)
    venv = root / ".venv" if inside else tmp_path / "env"
    site = _install(venv, SDK, {"slowsdk-1.2.0": "slowsdk"})
    done = invoke_offload("check", "--no-cache", "--output-format", "json", "--python", str(venv), ".", cwd=root)
    [finding] = json.loads(done.stdout)
    last = finding["chain"][-1]
    assert last["filename"] == "site-packages/slowsdk/_transport.py"
    assert last["path"] == str(site / "slowsdk" / "_transport.py") and last["distribution"] == "slowsdk 1.2.0"
    assert "distribution" not in finding["chain"][0] and "path" not in finding["chain"][0]  # the project's own line
    done = invoke_offload("check", "--no-cache", "--output-format", "sarif", "--python", str(venv), ".", cwd=root)
    [result] = json.loads(done.stdout)["runs"][0]["results"]
    hop = result["relatedLocations"][-1]
    where = hop["physicalLocation"]["artifactLocation"]
    if inside:
        assert where == {"uri": f".venv/lib/{PY}/site-packages/slowsdk/_transport.py", "uriBaseId": "%SRCROOT%"}
    else:
        assert where == {"uri": (site / "slowsdk" / "_transport.py").as_uri()}
    assert hop["message"]["text"].endswith("(slowsdk 1.2.0)")


_WORKBOOKS = {"xl/__init__.py": """
        import zipfile

        class Workbook:
            def __init__(self):
                self._sheets = []

            def add_sheet(self, name):
                self._sheets.append(name)

            def move_sheet(self, name):
                self._sheets.remove(name)
                self._sheets.insert(0, name)

        def load_workbook(path):
            book = Workbook()
            _validate(path)
            book.add_sheet("first")
            return book

        def _validate(path):
            zipfile.ZipFile(path)
        """}


def test_the_blocking_part_to_offload_is_never_in_a_library(tmp_path: Path) -> None:
    """The thread would race inside the library (a coroutine reorders sheets while it adds one),
    so only the blocking part may move: the part the project can move is its own call into the library."""
    venv = tmp_path / "env"
    _install(venv, _WORKBOOKS)
    root = _project(tmp_path, """
        import xl

        async def main(path):
            return xl.load_workbook(path)

        def helper(path):
            return xl.load_workbook(path)

        async def other(path):
            return helper(path)

        async def reorder(book: xl.Workbook):
            book.move_sheet("first")
        """)
    found = _check(root, venv)
    assert len(found) == 2
    assert ("its blocking part (`zipfile.ZipFile()` in _validate) is inside the library, and the whole call "
            "cannot simply move to a worker thread (see why): run that part yourself in a worker thread if the "
            "library lets you, or keep the call") in found[0]
    assert "offload only its blocking part (`xl.load_workbook()` in helper)" in found[1]
    assert not any("offload only its blocking part (`zipfile.ZipFile()`" in message for message in found)


def test_library_code_the_program_never_runs_races_with_no_thread(tmp_path: Path) -> None:
    """``move_sheet`` would race with the sheet the thread adds, but nothing of the program calls it."""
    venv = tmp_path / "env"
    _install(venv, _WORKBOOKS)
    root = _project(tmp_path, """
        import xl

        async def main(path):
            return xl.load_workbook(path)
        """)
    found = _check(root, venv)
    assert len(found) == 1
    assert found[0].endswith("offload it with `await asyncio.to_thread(xl.load_workbook, path)`")


def test_a_subpackage_the_catalogue_models_keeps_the_rest_of_its_namespace_followed(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, {
        "google/auth/__init__.py": """
            import io
            import os

            def load_credentials_from_file(filename):
                if not os.path.exists(filename):
                    raise ValueError(filename)
                with io.open(filename) as handle:
                    return handle.read()
            """,
        "google/cloud/storage/__init__.py": "class Client:\n    def get_bucket(self, name):\n        return name\n",
    }, {"google_auth-2.0": "google", "google_cloud_storage-3.0": "google"})
    root = _project(tmp_path, """
        import google.auth
        from google.cloud import storage

        async def main(client: storage.Client):
            google.auth.load_credentials_from_file("x.json")
            return client.get_bucket("b")
        """)
    found = _check(root, venv)
    assert len(found) == 2, found
    assert "`google.auth.load_credentials_from_file()` in async function `main` blocks" in found[0]
    assert "`client.get_bucket()`" in found[1] and "BLK165" in found[1]  # the catalogue's entry, not the source


def test_a_call_both_sides_of_an_if_make_in_a_library_is_made_on_every_call(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, {"netlib.py": """
        import socket
        import time

        def resolve(host, proxy):
            if not proxy:
                found = socket.getaddrinfo(host, 80)
            else:
                found = socket.getaddrinfo(proxy, 8080)
            return found

        def one_side(host, proxy):
            if proxy:
                time.sleep(1)
            else:
                pass
            return host

        def deeper(host, proxy, retry):
            if proxy:
                if retry:
                    time.sleep(1)
            else:
                time.sleep(2)
            return host
        """})
    root = _project(tmp_path, """
        import netlib

        async def main(host, proxy):
            netlib.resolve(host, proxy)
            netlib.one_side(host, proxy)
            netlib.deeper(host, proxy, False)
        """)
    found = _check(root, venv)
    assert len(found) == 1, found
    assert found[0].startswith("5:BLK200:`netlib.resolve()`") and "reaches `socket.getaddrinfo()`" in found[0]


def test_a_cached_property_on_a_chain_is_a_read_that_blocks_the_first_time(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, {"distro.py": """
        import functools
        import os

        class LinuxDistribution:
            @functools.cached_property
            def _os_release_info(self):
                if os.path.isfile("/etc/os-release"):
                    return {"id": "linux"}
                return {}

            def os_release_attr(self, attribute):
                return self._os_release_info.get(attribute, "")

        _distro = LinuxDistribution()

        def id():
            return _distro.os_release_attr("id")
        """})
    root = _project(tmp_path, """
        import distro

        async def main():
            return distro.id()
        """)
    done = invoke_offload("check", "--no-cache", "--python", str(venv), ".", cwd=root)
    assert ("the first time (`LinuxDistribution._os_release_info` caches its result with "
            "`functools.cached_property`: later reads on the same instance do not block)") in done.stdout, done.stdout
    assert "site-packages/distro.py:13:16: self._os_release_info in LinuxDistribution.os_release_attr\n" in done.stdout


def test_show_settings_names_the_environment_and_a_bad_python_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    venv = tmp_path / "proj" / ".venv"
    _install(venv, {"lib/__init__.py": ""})
    root = _project(tmp_path, "x = 1\n")
    shown = invoke_offload("check", "--show-settings", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert "follow-dependencies: true" in shown.stdout
    assert "environment: .venv (.venv/ in the project)" in shown.stdout
    bad = invoke_offload("check", "--python", str(tmp_path / "missing"), ".", cwd=root)
    assert bad.returncode == 2 and "missing: no such file or directory" in bad.stderr
    (tmp_path / "empty").mkdir()
    bare = invoke_offload("check", "--python", str(tmp_path / "empty"), ".", cwd=root)
    assert bare.returncode == 2 and "no site-packages directory" in bare.stderr
    off = invoke_offload("check", "--show-settings", "--no-follow-dependencies", cwd=root)
    assert "follow-dependencies: false" in off.stdout and "environment:" not in off.stdout


def test_framework_handlers_stay_on_the_loop_when_the_framework_is_read(tmp_path: Path) -> None:
    """A handler deriving from an installed framework's class (read into the model, re-exported
    from a private module) is still the framework's: its sync methods run on the loop."""
    venv = tmp_path / "env"
    _install(venv, {
        "tornado/__init__.py": "",
        "tornado/web.py": "from tornado._handlers import RequestHandler\n",
        "tornado/_handlers.py": "class RequestHandler:\n    def write(self, chunk):\n        self._buffer = chunk\n",
    })
    root = _project(tmp_path, """
        from tornado import web

        class Page(web.RequestHandler):
            def get(self):
                with open("page.html") as f:
                    self.write(f.read())
        """)
    expected = [["6", "BLK304"], ["7", "BLK304"]]
    assert [f.split(":")[:2] for f in _check(root, venv)] == expected
    assert [f.split(":")[:2] for f in _check(root, venv, follow_dependencies=False)] == expected


def test_a_library_base_that_cannot_be_resolved_leaves_the_method_order_as_it_was(tmp_path: Path) -> None:
    """A library re-exporting its classes with a star import: the project's method resolution
    order still finds the async override before the sync method it replaces."""
    venv = tmp_path / "env"
    _install(venv, {
        "traits/__init__.py": "from traits.configurable import *\n",
        "traits/configurable.py": "class Configurable:\n    pass\n\nclass Logging(Configurable):\n    pass\n",
    })
    root = _project(tmp_path, """
        import os
        from traits import Configurable
        from traits.configurable import Logging

        class Mixin(Logging, Configurable):
            def _copy(self, src):
                return os.access(src, os.W_OK)

        class AsyncMixin(Mixin):
            async def _copy(self, src):
                return True

        class Checkpoints(Mixin):
            pass

        class AsyncCheckpoints(Checkpoints, AsyncMixin):
            async def create(self):
                await self._copy("x")
        """)
    assert _check(root, venv) == []
    assert _check(root, venv, follow_dependencies=False) == []


def test_streams_handed_to_a_library_and_imports_by_name_are_not_a_chains_end(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, {
        "termlib/__init__.py": """
            import typing

            def _writer() -> typing.BinaryIO:
                return None

            def echo(message):
                _writer().write(message)

            def resolve(ref):
                return __import__(ref)

            def lazy():
                import json
                return json

            def save(path, message):
                with open(path, "w") as f:
                    f.write(message)
            """,
    })
    root = _project(tmp_path, """
        import termlib

        async def main():
            termlib.echo(b"hi")
            termlib.resolve("json")
            termlib.lazy()
            termlib.save("out.txt", "hi")
        """)
    assert [f.split(":")[:2] for f in _check(root, venv)] == [["8", "BLK200"]]


def test_library_code_in_a_branch_is_not_followed_but_code_every_call_runs_is(tmp_path: Path) -> None:
    """Which branch of a library function runs depends on what the caller passes and on the
    library's state: only calls every call of the function makes continue a chain."""
    venv = tmp_path / "env"
    _install(venv, {
        "netlib/__init__.py": """
            import os
            import socket
            import threading

            def in_branch(loop=None):
                if loop is None:
                    threading.Event().wait()

            def in_handler():
                try:
                    return 1
                except OSError:
                    return os.stat("/etc/hosts")

            def in_expression(path):
                return path if isinstance(path, bytes) else open(path).read()

            def after_or(cached):
                return cached or socket.getaddrinfo("localhost", 80)

            def always(host):
                for info in socket.getaddrinfo(host, 80):
                    return info

            def through_branch(host):
                if host:
                    return always(host)
            """,
    })
    root = _project(tmp_path, """
        import netlib

        async def main():
            netlib.in_branch()
            netlib.in_handler()
            netlib.in_expression(b"x")
            netlib.after_or(None)
            netlib.through_branch("h")
            netlib.always("localhost")
        """)
    assert [f.split(":")[:2] for f in _check(root, venv)] == [["10", "BLK200"]]


def test_a_property_read_or_a_loop_in_a_library_branch_is_not_followed(tmp_path: Path) -> None:
    """A property read or a ``for`` statement in a library's branch (a warning for a deprecated
    keyword the project does not pass) is no more a chain's link than a call there."""
    venv = tmp_path / "env"
    _install(venv, {
        "souplib/__init__.py": """
            import inspect
            import os
            import warnings

            class Tag:
                @property
                def _stack_level(self):
                    return len(inspect.stack())

                def _names(self):
                    yield from os.listdir(".")

                def find_all(self, name, **kwargs):
                    if "text" in kwargs:
                        warnings.warn("use string", stacklevel=self._stack_level)
                    if kwargs.get("everywhere"):
                        for found in self._names():
                            return found
                    return name

                @property
                def level(self):
                    return self._stack_level
            """,
    })
    root = _project(tmp_path, """
        import souplib

        async def main():
            tag = souplib.Tag()
            tag.find_all("meta")
            return tag.level
        """)
    assert [f.split(":")[:2] for f in _check(root, venv)] == [["7", "BLK200"]]


def test_a_library_module_only_functions_no_chain_reaches_would_call_is_not_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a library module for one of its functions does not read what its other functions
    call; what the reached function calls is read, down to the blocking call."""
    from detector import libraries

    venv = tmp_path / "env"
    _install(venv, {
        "wide/__init__.py": """
            from wide.disk import load
            from wide.heavy import compute

            def used(path):
                return load(path)

            def unused():
                return compute()

            class Store:
                def get(self, path):
                    return load(path)

                def export(self):
                    return compute()
            """,
        "wide/disk.py": """
            def load(path):
                with open(path) as f:
                    return f.read()
            """,
        "wide/heavy.py": """
            def compute():
                return 1
            """,
    })
    read: List[str] = []
    load = libraries.Libraries.load

    def recording(self: libraries.Libraries, module: str) -> object:
        read.append(module)
        return load(self, module)

    monkeypatch.setattr(libraries.Libraries, "load", recording)
    root = _project(tmp_path, """
        import wide

        async def main():
            wide.used("a")
            return wide.Store().get("b")
        """)
    assert [f.split(":")[:2] for f in _check(root, venv)] == [["5", "BLK200"], ["6", "BLK200"]]
    assert "wide.disk" in read and "wide.heavy" not in read


def test_a_submodule_a_package_imports_by_name_in_its_init_is_read(tmp_path: Path) -> None:
    """``from . import transport`` (or ``from pkg import transport``) in a package's
    ``__init__.py`` binds the submodule: calls through it lead into the submodule's file."""
    venv = tmp_path / "env"
    _install(venv, {
        "relpkg/__init__.py": """
            from . import transport
            from relpkg import files

            def send(data):
                return transport.post(data)

            def read(path):
                return files.load(path)
            """,
        "relpkg/transport.py": """
            import socket

            def post(data):
                return socket.create_connection(("example.com", 80)).send(data)
            """,
        "relpkg/files.py": """
            def load(path):
                with open(path) as f:
                    return f.read()

            class Reader:
                def __init__(self, path):
                    self.handle = open(path)
            """,
        "aliaspkg/__init__.py": """
            from relpkg import files
            """,
    })
    root = _project(tmp_path, """
        import aliaspkg
        import relpkg
        from aliaspkg.files import Reader

        async def main():
            relpkg.send(b"x")
            relpkg.read("a")
            aliaspkg.files.load("b")
            return Reader("c")
        """)
    assert [f.split(":")[:2] for f in _check(root, venv)] == [
        ["7", "BLK200"], ["8", "BLK200"], ["9", "BLK200"], ["10", "BLK200"]]


CALLBACKS = {
    "cblib/__init__.py": """
        import asyncio

        def run(callback, data):
            return callback(data)

        def run_kw(data, *, on_data):
            on_data(data)

        def maybe(callback=None):
            if callback:
                callback(1)

        def offloaded(callback):
            return asyncio.get_running_loop().run_in_executor(None, callback, 1)

        async def serve(handler):
            handler(1)

        async def serve_thread(handler):
            await asyncio.to_thread(handler, 1)
        """,
}


def test_a_project_callback_the_library_calls_on_the_loop_is_followed(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, CALLBACKS, {"cblib-0.3": "cblib"})
    root = _project(tmp_path, """
        import cblib

        class Reader:
            def on_data(self, data):
                with open(data) as f:
                    return f.read()

            def quiet(self, data):
                return data

        def loader():
            return Reader().on_data

        def helper(reader: Reader):
            return cblib.run(reader.on_data, "x")

        async def main(reader: Reader):
            cblib.run(reader.on_data, "x")
            cblib.run_kw("x", on_data=reader.on_data)
            await cblib.serve(reader.on_data)
            helper(reader)
            cblib.run(reader.quiet, "x")
            cblib.run(loader(), "x")
            cblib.maybe(reader.on_data)
            await cblib.offloaded(reader.on_data)
            await cblib.serve_thread(reader.on_data)
        """)
    found = _check(root, venv)
    assert [f.split(":")[:2] for f in found] == [["19", "BLK200"], ["20", "BLK200"], ["21", "BLK200"],
                                                 ["22", "BLK200"]]
    assert "through run -> Reader.on_data" in found[0]
    assert "the coroutine runs `handler()` on the loop" in found[2]
    assert "through helper -> run -> Reader.on_data" in found[3]
    assert _check(root, venv, follow_dependencies=False) == []


TEMPLATES = {
    "tmpl/__init__.py": """
        class Server:
            def serve(self):
                self.setup()
                self.handle()

            def setup(self):
                self.prepare()

            def prepare(self):
                pass

            def handle(self):
                pass

            async def start(self):
                self.serve()

            def branch(self, flag):
                if flag:
                    self.handle()
        """,
}


def test_a_library_base_method_calling_an_override_on_self_is_followed(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, TEMPLATES, {"tmpl-2.0": "tmpl"})
    root = _project(tmp_path, """
        import time
        import tmpl

        class Mine(tmpl.Server):
            def prepare(self):
                time.sleep(1)

        class Quiet(tmpl.Server):
            def handle(self):
                return 1

        class Shared(tmpl.Server):
            def handle(self):
                time.sleep(1)

        class Other(Shared):
            def handle(self):
                return 1

        class Late(tmpl.Server):
            def handle(self):
                time.sleep(1)

            async def go(self):
                await super().start()

        async def main(shared: Shared):
            Mine().serve()
            await Mine().start()
            Mine().branch(True)
            Quiet().serve()
            shared.serve()
        """)
    found = _check(root, venv)
    assert [f.split(":")[:2] for f in found] == [["26", "BLK200"], ["29", "BLK200"], ["30", "BLK200"]]
    assert "through Server.serve -> Server.setup -> Mine.prepare" in found[1]
    assert _check(root, venv, follow_dependencies=False) == []


def test_a_project_base_method_calling_an_override_on_self_is_followed(tmp_path: Path) -> None:
    root = _project(tmp_path, """
        import time

        class Job:
            def run(self):
                self.step()

            def step(self):
                pass

        class Slow(Job):
            def step(self):
                time.sleep(1)

        class Fast(Job):
            pass

        def call(callback):
            callback()

        async def main():
            Slow().run()
            Fast().run()
            call(Slow().step)
        """)
    found = _check(root, tmp_path / "none", follow_dependencies=False)
    assert [f.split(":")[:2] for f in found] == [["22", "BLK200"], ["24", "BLK200"]]
    assert "through Job.run -> Slow.step" in found[0]


def test_a_callback_handed_to_a_library_from_sync_code_the_loop_runs(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, CALLBACKS, {"cblib-0.3": "cblib"})
    root = _project(tmp_path, """
        import asyncio
        import cblib

        class Reader(asyncio.Protocol):
            def data_received(self, data):
                cblib.run(self.parse, data)
                cblib.run(self.keep, data)

            def parse(self, data):
                with open(data) as f:
                    return f.read()

            def keep(self, data):
                self.data = data
        """)
    found = _check(root, venv)
    assert [f.split(":")[:2] for f in found] == [["7", "BLK304"]]
    assert "through" not in found[0] and "reaches `open()`" in found[0]


def test_an_awaited_base_coroutine_that_blocks_the_same_way_for_every_subclass_is_reported_once(tmp_path: Path) -> None:
    """The base coroutine's own body has the finding; its callers through a subclass add nothing."""
    root = _project(tmp_path, """
        import os

        class Handler:
            async def prepare(self):
                self.check()

            def check(self):
                return os.path.exists("x")

        class Page(Handler):
            async def prepare(self):
                await super().prepare()
        """)
    found = _check(root, tmp_path / "none", follow_dependencies=False)
    assert [f.split(":")[:2] for f in found] == [["6", "BLK200"]]


def test_a_package_with_a_few_catalogue_entries_is_still_read(tmp_path: Path) -> None:
    """tornado's render() is catalogued; the rest of tornado is read like any library."""
    venv = tmp_path / "env"
    _install(venv, {
        "tornado/__init__.py": "",
        "tornado/netutil.py": "import socket\n\ndef bind_sockets(port):\n    return socket.getaddrinfo(None, port)\n",
    }, {"tornado-6.6.1": "tornado"})
    root = _project(tmp_path, """
        from tornado import netutil

        async def main():
            netutil.bind_sockets(80)
        """)
    found = _check(root, venv)
    assert [f.split(":")[:2] for f in found] == [["5", "BLK200"]]
    assert "site-packages/tornado/netutil.py:4 (tornado 6.6.1)" in found[0]


def test_typing_extensions_names_are_typings_and_it_is_not_read(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, {"typing_extensions.py": "import time\ndef Optional(x):\n    time.sleep(1)\n"})
    root = _project(tmp_path, """
        from pathlib import Path
        import typing_extensions as te

        async def main(p: te.Optional[Path], q: "te.Union[Path, None]"):
            p.exists()
            q.is_file()
            te.Optional(p)
        """)
    assert [f.split(":")[:2] for f in _check(root, venv)] == [["6", "BLK141"], ["7", "BLK141"]]


def test_the_library_modules_a_project_imports_are_summarised_ahead_by_the_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With worker processes, the library modules the project imports are summarised side by side
    before resolution reads them (into the user cache too, the ones it never reads included);
    the findings are those of reading one module at a time when resolution needs it."""
    from detector import workers

    if workers.default_jobs() < 2:
        pytest.skip("a pool needs two cores")
    count = workers.MIN_PARALLEL
    venv = tmp_path / "env"
    _install(venv, {**SDK, "pads/__init__.py": "",
                    **{f"pads/m{i:02}.py": f"def f():\n    return {i}\n" for i in range(count)}})
    source = "".join(f"import pads.m{i:02}\n" for i in range(count)) + textwrap.dedent("""
        from slowsdk import Client

        async def main():
            pads.m00.f()
            return Client("t")
        """)

    def run(name: str, jobs: int) -> Tuple[List[str], int]:
        cache = tmp_path / f"cache-{name}"
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
        root = tmp_path / name
        _write(root, {"app.py": source, "pyproject.toml": "[project]\nname = 'app'\n"})
        result = check_paths([root], config_module.load(start=root), jobs=jobs, use_cache=True, python=str(venv))
        entries = cache / "offload" / ".offload_cache" / "v1" / "files"
        return [f"{f.location.row}:{f.code}:{f.message}" for f in result.findings], len(os.listdir(entries))

    alone, read_alone = run("alone", 1)
    pooled, read_pooled = run("pooled", 2)
    assert len(alone) == 1 and "through Client.__init__ -> login" in alone[0]
    assert pooled == alone
    # Resolution reads pads, pads.m00 and slowsdk's modules; the pool summarised every pads module.
    assert read_pooled - read_alone == count - 1


def test_library_code_under_a_test_every_python_3_passes_is_followed(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    _install(venv, {"compat.py": """
        import sys

        def read(path):
            if sys.version_info >= (3, 0):
                with open(path, encoding="utf-8") as f:
                    return f.read()
            with open(path) as f:
                return f.read().decode("utf-8")

        def read_new(path):
            if sys.version_info >= (3, 12):
                with open(path) as f:
                    return f.read()
        """})
    root = _project(tmp_path, """
        import compat

        async def main():
            compat.read("a")
            compat.read_new("b")
        """)
    found = _check(root, venv)
    assert len(found) == 1 and found[0].startswith("5:BLK200:") and "site-packages/compat.py:6" in found[0]
