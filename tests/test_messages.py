"""Messages tell the truth: advice is the exact rewrite the fix makes (arguments included, on one
line), a ``with open(...) as f:`` block is one finding with its calls on ``f`` listed, the advice
fits the API (joins, locks, queues), BLK300 says exceptions are lost only when they can be, and
a call under a platform test says where it blocks."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import List

import pytest
from click.testing import CliRunner
from test_sarif import assert_valid, validator  # noqa: F401  (the official SARIF schema)

from detector import baseline
from detector.cli import main
from detector.config import Config
from detector.display import one_line
from detector.fix import fix_source
from detector.model import Finding
from detector.report.text import details
from detector.runner import check_source


def check(source: str, **config) -> List[Finding]:
    return check_source(textwrap.dedent(source), "app.py", Config(**config))


def only(findings: List[Finding], code: str) -> Finding:
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, [f.message for f in findings]
    return found[0]


def at_rows(findings: List[Finding], code: str, *rows: int) -> List[Finding]:
    """The one finding of ``code`` on each of ``rows``."""
    return [only([f for f in findings if f.location.row == row], code) for row in rows]


def quoted_rewrite(message: str) -> str:
    """The code the advice quotes after "offload it with"."""
    return message.split("offload it with `", 1)[1].split("`", 1)[0]


# -- the advice is the rewrite -------------------------------------------------------------------
REWRITES = [
    ("import asyncio, requests\n\nasync def f(url):\n    return requests.get(url, timeout=5)\n", {},
     "await asyncio.to_thread(requests.get, url, timeout=5)"),
    ("import asyncio\n\nclass C:\n    def load(self):\n        return open('x').read()\n\n"
     "    async def run(self):\n        return self.load()\n", {}, "await asyncio.to_thread(self.load)"),
    ("import anyio, requests\n\nasync def f(url):\n    return requests.get(url, timeout=5)\n", {},
     "await anyio.to_thread.run_sync(functools.partial(requests.get, url, timeout=5))"),
    ("import asyncio, requests\n\nasync def f(url):\n    return requests.get(url, timeout=5)\n",
     {"target_version": "py38"},
     "await asyncio.get_running_loop().run_in_executor(None, functools.partial(requests.get, url, timeout=5))"),
    ("import asyncio\nfrom pathlib import Path\n\nasync def f(p):\n    return Path(\n        p\n    ).read_text(\n"
     "        encoding='utf-8',  # utf-8 only\n    )\n", {},
     "await asyncio.to_thread(Path(p).read_text, encoding='utf-8')"),
]


@pytest.mark.parametrize("source,config,expected", REWRITES, ids=["asyncio", "helper", "anyio", "py38", "multi-line"])
def test_advice_is_the_rewrite_with_its_arguments(source: str, config: dict, expected: str):
    finding = next(f for f in check_source(source, "app.py", Config(**config)) if f.code in ("BLK110", "BLK141", "BLK200"))
    assert quoted_rewrite(finding.message) == expected
    assert "..." not in finding.message and "\n" not in finding.message


@pytest.mark.parametrize("source,config,expected", [REWRITES[0], REWRITES[1], REWRITES[4]],
                         ids=["keywords", "no-arguments", "multi-line"])
def test_advice_matches_what_the_fix_writes(source: str, config: dict, expected: str):
    findings = check_source(source, "app.py", Config(**config))
    result = fix_source(source.encode(), findings, {f.code: "to_thread" for f in findings}, unsafe=True)
    fixed = result.fixed.decode()
    assert result.applied
    # The fixed statement, on one line (a trailing comma aside), is `return <the advice>`.
    statement = fixed[fixed.index("return", fixed.index("def f" if "def f" in fixed else "async def run")):]
    assert one_line(statement.strip()).replace(",)", ")") == f"return {expected}"


def test_sleep_advice_and_fix_title_carry_the_argument():
    finding = only(check("import asyncio, time\n\nasync def f(delay):\n    time.sleep(delay * 2)\n"), "BLK100")
    assert "use `await asyncio.sleep(delay * 2)`" in finding.message
    assert finding.fix is not None and finding.fix.message == "Replace with `await asyncio.sleep(delay * 2)`"


def test_multi_line_callee_is_one_line_in_message_and_chain_but_not_in_the_baseline_key():
    findings = check("""\
        from pathlib import Path

        def load(p):
            return Path(
                p
            ).read_text()

        async def main(p):
            return load(p)
        """)
    blk200 = only(findings, "BLK200")
    assert blk200.chain[-1].call == "Path(p).read_text"
    assert "Path(p).read_text()" in blk200.message


def test_one_line_drops_comments_and_keeps_strings():
    assert one_line("f(a,  # why\n  b='x  y',\n)") == "f(a, b='x  y',)"
    assert one_line("Path(\n    p\n).read_text") == "Path(p).read_text"
    assert one_line("a" * 100, 20) == "a" * 19 + "…"


def test_long_arguments_are_cut_with_an_ellipsis_character_never_python_dots():
    args = ", ".join(f"argument_{i}" for i in range(20))
    finding = only(check(f"import asyncio, requests\n\nasync def f():\n    return requests.get({args})\n"), "BLK110")
    advice = quoted_rewrite(finding.message)
    assert advice.startswith("await asyncio.to_thread(requests.get, argument_0, ") and advice.endswith("…)")


# -- with open(...) as f: one finding -----------------------------------------------------------------
WITH_AWAIT = """\
import asyncio

async def copy(p, stream):
    with open(p, "rb") as f:
        data = f.read()
        await stream.send(data)
        f.write(data)
"""

WITH_PLAIN = """\
import asyncio

async def load(p):
    with open(p) as f:
        header = f.readline()
        return header, f.read()
"""


def test_with_block_that_awaits_is_one_finding_with_advice_that_works_there():
    findings = check(WITH_AWAIT)
    assert [f.code for f in findings] == ["BLK130"]
    finding = findings[0]
    assert [(r.row, r.call, r.code) for r in finding.related] == [(5, "f.read", "BLK131"), (7, "f.write", "BLK131")]
    assert "cannot move into a sync function" in finding.message
    assert "`f = await asyncio.to_thread(open, p, \"rb\")`" in finding.message
    assert "`await asyncio.to_thread(f.read)`" in finding.message and "(lines 5, 7)" in finding.message
    assert "`await asyncio.to_thread(f.close)`" in finding.message
    assert "move the `with` block" not in finding.message


def test_with_block_without_await_moves_into_a_sync_function():
    findings = check(WITH_PLAIN)
    assert [f.code for f in findings] == ["BLK130"]
    assert "move the `with` block, with its calls on `f` (lines 5, 6), into a sync function" in findings[0].message
    assert findings[0].fix is not None and findings[0].fix.edits == ()
    assert findings[0].fix.message == "Move the `with` block to a worker thread"


def test_a_call_passed_the_opened_file_belongs_to_its_with_block():
    findings = check("""\
        import json, pickle

        async def save(p, data):
            with open(p, "w") as out:
                json.dump(data, out, indent=2)
            with open(p, "rb") as f:
                for line in f:
                    print(line)
                return pickle.load(file=f)
        """)
    assert [(f.code, f.location.row) for f in findings] == [("BLK130", 4), ("BLK130", 6)]
    assert [(r.row, r.call, r.code) for r in findings[0].related] == [(5, "json.dump", "BLK131")]
    assert "move the `with` block, with its calls on `out` (line 5), into a sync function" in findings[0].message
    assert [(r.row, r.call) for r in findings[1].related] == [(7, "for ... in f"), (9, "pickle.load")]
    assert "with its calls on `f` (lines 7, 9)" in findings[1].message
    assert [d.what for d in details(findings[1])] == ["for ... in f in save", "pickle.load() in save"]


def test_a_file_opened_from_a_path_a_property_returns_heads_its_with_block():
    findings = check("""\
        from pathlib import Path

        class Config:
            @property
            def path_git(self) -> Path:
                return Path("/srv")

        async def save(config: Config):
            target = config.path_git / "repository.json"
            with target.open("w") as file:
                file.write("{}")
        """)
    assert [(f.code, f.location.row) for f in findings] == [("BLK141", 10)]
    assert [(r.row, r.call) for r in findings[0].related] == [(11, "file.write")]
    assert findings[0].fix is not None and findings[0].fix.applicability.value == "suggestion"


def test_a_blocking_helper_called_as_a_with_item_is_not_offloaded_alone():
    findings = check("""\
        import asyncio
        import time

        class Session:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return None

        class Client:
            def connect(self, url) -> Session:
                time.sleep(0.01)
                return Session()

        async def plain(c: Client):
            with c.connect("/a"):
                pass

        async def awaiting(c: Client):
            with c.connect("/b") as session:
                await asyncio.sleep(0)
        """)
    assert [(f.code, f.location.row) for f in findings] == [("BLK200", 17), ("BLK200", 21)]
    assert all(f.fix is not None and f.fix.applicability.value == "suggestion" for f in findings)
    assert "move the `with` block into a sync function and run that with `asyncio.to_thread`" in findings[0].message
    assert findings[0].fix is not None and findings[0].fix.reason == (
        "the whole `with` block has to move to the thread, not only this call")
    assert ("the `with` block awaits, so it cannot move into a sync function: offload only the blocking part of "
            "`c.connect()` (`time.sleep()` in Client.connect) to a worker thread") in findings[1].message


def test_a_with_item_that_blocks_when_made_entered_and_left_is_one_finding_naming_the_first():
    findings = check("""\
        import time

        class Journal:
            def __init__(self, path):
                self.handle = open(path)

            def __enter__(self):
                time.sleep(0.01)
                return self

            def __exit__(self, *exc):
                self.handle.flush()
                time.sleep(0.01)

        class Quiet:
            def __enter__(self):
                time.sleep(0.01)
                return self

            def __exit__(self, *exc):
                time.sleep(0.01)

        async def made(path):
            with Journal(path) as journal, Quiet():
                return journal
        """)
    assert [(f.location.row, f.location.column) for f in findings] == [(24, 10), (24, 36)]
    assert findings[0].message.startswith("`Journal()` in async function `made` blocks the event loop: it reaches "
                                          "`open()` at app.py:5 through Journal.__init__;")
    assert findings[1].message.startswith("`Quiet().__enter__()` in async function `made` blocks the event loop: "
                                          "it reaches `time.sleep()` at app.py:17 through Quiet.__enter__;")


def test_a_helper_whose_blocking_part_is_a_with_block_says_so():
    findings = check("""\
        import pickle
        from pathlib import Path

        class Store:
            def __init__(self, path):
                self.path = Path(path)
                self.data = {}

            def _dump(self):
                with self.path.open("wb") as f:
                    pickle.dump(self.data, f)

            def _size(self):
                return self.path.stat().st_size + len(self.data)

            async def update(self, key, value):
                self.data[key] = value
                self._dump()
                return self._size()
        """)
    dump, size = at_rows(findings, "BLK200", 18, 19)
    assert "offload only its blocking part (the `with self.path.open(...)` block in Store._dump)" in dump.message
    assert "offload only its blocking part (`self.path.stat()` in Store._size)" in size.message


FIRST_TIME = [
    ("""\
        import functools, os
        from functools import lru_cache

        @lru_cache(maxsize=None)
        def locales():
            return os.listdir("/usr/share/locale")

        def known(name):
            return name in locales()

        def listed(name):
            return name in os.listdir(".")

        async def handler(name):
            known(name)
            listed(name)
        """, "blocks the event loop the first time (`locales` caches its result with `functools.lru_cache`: later "
             "calls with the same arguments do not block): it reaches `os.listdir()`"),
    # tortoise-orm's connections.get(): try: return storage[alias] except KeyError: create and keep.
    ("""\
        CLIENTS = {}

        def get(alias):
            try:
                return CLIENTS[alias]
            except KeyError:
                client = CLIENTS[alias] = open(alias)
                return client

        def drop(alias):
            try:
                CLIENTS.pop(alias)
            except KeyError:
                open("missing.log", "a")

        async def handler(alias):
            get(alias)
            drop(alias)
        """, "blocks the event loop the first time for each key (`get` runs it in the `except KeyError:` of its "
             "cache look-up, when nothing is cached yet): it reaches `open()`"),
    # hypercorn's Config.log: built on first access under ``if self._log is None:``, then kept.
    ("""\
        class Logger:
            def __init__(self, path):
                self.handle = open(path)

        class Config:
            _log = None

            @property
            def log(self):
                if self._log is None:
                    self._log = Logger("log.json")
                return self._log

            def fresh(self):
                if self._log is None:
                    return Logger("other.json")
                return self._log

        async def handler(config: Config):
            config.log
            config.fresh()
        """, "blocks the event loop the first time (`Config.log` runs it under an `is None` test of where it "
             "keeps the result): it reaches `open()`"),
    # A module-level client made on first use under ``global``; a parameter's default made per call.
    ("""\
        _client = None

        def client():
            global _client
            if _client is None:
                _client = open("client.cfg")
            return _client

        def session(given=None):
            if given is None:
                given = open("session.cfg")
            return given

        async def handler():
            client()
            session()
        """, "blocks the event loop the first time (`client` runs it under an `is None` test of where it "
             "keeps the result): it reaches `open()`"),
]


@pytest.mark.parametrize("source, expected", FIRST_TIME,
                         ids=["memoised", "cache-miss", "kept-unless-none", "global-unless-none"])
def test_a_chain_through_a_cache_blocks_the_first_time(source: str, expected: str):
    """The handler's first call goes through the cache, its second does not."""
    last = len(textwrap.dedent(source).splitlines())
    cached, plain = at_rows(check(source), "BLK200", last - 1, last)
    assert expected in cached.message
    assert "first time" not in plain.message


def test_with_block_under_anyio_opens_with_anyio():
    finding = only(check(WITH_AWAIT.replace("import asyncio", "import anyio")), "BLK130")
    assert "`async with await anyio.open_file(p, \"rb\") as f:`" in finding.message


def test_calls_on_another_file_or_after_the_block_stay_findings_and_keep_their_baseline_keys():
    findings = check("""\
        import asyncio

        async def main(p):
            with open(p) as f:
                f.read()
            f = open(p)
            f.read()
        """)
    assert [(f.code, f.location.row) for f in findings] == [("BLK130", 4), ("BLK130", 6), ("BLK131", 7)]
    keys = baseline.keys(findings)
    # The read inside the block still counts: the one after it stays occurrence 1, as before.
    assert keys[2] == ("BLK131", "app.py", "main", "f.read", 1)
    assert keys[0] == ("BLK130", "app.py", "main", "open", 0)


def test_with_block_related_calls_in_text_json_and_sarif(tmp_path: Path, monkeypatch, validator):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(WITH_AWAIT)
    runner = CliRunner()
    text = runner.invoke(main, ["check", "--no-cache", "app.py"], catch_exceptions=False).stdout
    assert text.splitlines()[1:3] == ["    + app.py:5:16: f.read() in copy", "    + app.py:7:9: f.write() in copy"]
    records = json.loads(runner.invoke(main, ["check", "--no-cache", "--output-format", "json", "app.py"]).stdout)
    assert [item["row"] for item in records[0]["related"]] == [5, 7]
    log = json.loads(runner.invoke(main, ["check", "--no-cache", "--output-format", "sarif", "app.py"]).stdout)
    assert_valid(validator, log)
    related = log["runs"][0]["results"][0]["relatedLocations"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [5, 7]
    github = runner.invoke(main, ["check", "--no-cache", "--output-format", "github", "app.py"]).stdout
    assert "%0A+ app.py:5:16: f.read() in copy" in github


# -- advice fitted to the API -----------------------------------------------------------------------
def test_thread_join_waits_in_a_thread():
    finding = only(check("import asyncio, threading\n\nasync def f(t: threading.Thread):\n    t.join(5)\n"), "BLK170")
    assert "`await asyncio.to_thread(t.join, 5)`" in finding.message


LOCKS = """\
import asyncio, threading

class Store:
    def __init__(self):
        self._lock = threading.{kind}()

    async def update(self):
        self._lock.acquire()
{sync}
"""
SYNC_USER = "    def worker(self):\n        with self._lock:\n            pass\n"


def test_lock_used_only_by_coroutines_becomes_an_asyncio_lock():
    finding = only(check(LOCKS.format(kind="Lock", sync="")), "BLK170")
    assert "only coroutines use `self._lock`: make it an `asyncio.Lock` held with `async with self._lock:`" in finding.message
    assert "to_thread" not in finding.message


def test_lock_shared_with_sync_code_is_acquired_in_a_thread():
    finding = only(check(LOCKS.format(kind="Lock", sync=SYNC_USER)), "BLK170")
    assert "also used by sync code (`Store.worker`)" in finding.message
    assert "`await asyncio.to_thread(self._lock.acquire)`" in finding.message


def test_shared_rlock_is_never_acquired_in_a_worker_thread():
    finding = only(check(LOCKS.format(kind="RLock", sync=SYNC_USER)), "BLK170")
    assert "to_thread(self._lock.acquire)" not in finding.message
    assert "belongs to the thread that acquires it" in finding.message


def test_lock_of_unknown_users_gets_both_answers():
    finding = only(check("import asyncio, threading\n\nasync def f(lock: threading.Lock):\n    lock.acquire()\n"),
                   "BLK170")
    assert "if only coroutines use `lock`, make it an `asyncio.Lock`" in finding.message
    assert "if threads share it, acquire it in a worker thread, `await asyncio.to_thread(lock.acquire)`" in finding.message


def test_queue_get_fed_by_coroutines_only_becomes_an_asyncio_queue():
    source = ("import asyncio, queue\n\nclass W:\n    def __init__(self):\n        self.q = queue.Queue()\n\n"
              "    async def take(self):\n        return self.q.get()\n")
    finding = only(check(source), "BLK170")
    assert "make it an `asyncio.Queue` and `await self.q.get()`" in finding.message
    shared = source + "\n    def feed(self, item):\n        self.q.put(item)\n"
    assert "`await asyncio.to_thread(self.q.get)`" in only(check(shared), "BLK170").message


# -- the async alternative is the called library's own -------------------------------------------------
TWINS = [
    ("import paramiko\n\nasync def f(host):\n    c = paramiko.SSHClient()\n    c.connect(host)\n", "asyncssh"),
    ("import docker\n\nasync def f():\n    docker.from_env()\n", "aiodocker"),
    ("from kubernetes import config\n\nasync def f():\n    config.load_kube_config()\n", "kubernetes_asyncio"),
    ("import boto3\n\nasync def f():\n    s3 = boto3.client('s3')\n    s3.list_buckets()\n",
     "aioboto3 / aiobotocore"),
    ("from google.cloud import storage\n\nasync def f():\n    storage.Client().get_bucket('b')\n",
     "gcloud-aio-storage"),
    ("import pika\n\nasync def f(p):\n    pika.BlockingConnection(p)\n", "aio-pika"),
    ("import redis\n\nasync def f(k):\n    redis.Redis().get(k)\n", "redis.asyncio"),
    ("import pymysql\n\nasync def f():\n    pymysql.connect(host='db')\n", "aiomysql"),
    ("import psycopg2\n\nasync def f(dsn):\n    psycopg2.connect(dsn)\n", "psycopg.AsyncConnection / asyncpg"),
    ("from pymongo import MongoClient\n\nasync def f():\n    MongoClient().list_database_names()\n",
     "pymongo.AsyncMongoClient / motor"),
    ("import sqlite3\n\nasync def f(p):\n    sqlite3.connect(p)\n", "aiosqlite"),
    ("import smtplib\n\nasync def f():\n    smtplib.SMTP('mail.example.com')\n", "aiosmtplib"),
]
# Every async client the SDK and database rules know: a message names one at most.
ALL_TWINS = ("asyncssh", "aiodocker", "kubernetes_asyncio", "aioboto3", "gcloud-aio-storage", "aio-pika",
             "redis.asyncio", "aiomysql", "asyncpg", "AsyncMongoClient", "aiosqlite", "aiosmtplib", "aioftp")


@pytest.mark.parametrize("source, twin", TWINS, ids=[twin.split()[0] for _, twin in TWINS])
def test_the_alternative_is_the_async_twin_of_the_library_called(source: str, twin: str):
    finding = next(f for f in check(source) if f.code in ("BLK112", "BLK160", "BLK165"))
    assert finding.message.endswith(f", or use {twin}")
    assert [name for name in ALL_TWINS if name in finding.message] == [name for name in ALL_TWINS if name in twin]


@pytest.mark.parametrize("module, call, rewrite", [
    ("sentry_sdk", "sentry_sdk.flush()", "sentry_sdk.flush"),
    ("poplib", "poplib.POP3('pop.example.com')", "poplib.POP3, 'pop.example.com'"),
])
def test_a_library_without_an_async_twin_gets_no_alternative(module: str, call: str, rewrite: str):
    finding = next(f for f in check(f"import {module}\n\nasync def f():\n    {call}\n"))
    assert finding.message.endswith(f"offload it with `await asyncio.to_thread({rewrite})`")


def test_a_data_file_write_is_advised_to_encode_in_memory_and_a_read_to_parse_from_memory():
    read, write = check("""\
        from PIL import Image

        async def thumbnail(path):
            image = Image.open("in.png")
            image.save("thumb.png")
        """)
    assert read.message.endswith(", or use aiofiles to read the bytes, then parse them from an io.BytesIO")
    assert write.message.endswith(", or use aiofiles to write the bytes, once encoded into an io.BytesIO")
    saved = check("import numpy as np\n\nasync def f():\n    a = np.zeros(3)\n    np.save('a.npy', a)\n    a.tofile('a.bin')\n")
    assert all("to write the bytes" in f.message for f in saved) and len(saved) == 2


def test_rule_docs_list_the_alternative_of_each_library():
    result = CliRunner().invoke(main, ["rule", "BLK165"])
    assert result.exit_code == 0, result.output
    assert "asyncssh for `paramiko`" in result.output and "none for `sentry_sdk`" in result.output


# -- BLK300: exceptions are lost only when they can be ----------------------------------------------------
DROPPED = """\
import asyncio

def job():
    try:
        work()
    {handler}:
        {body}

async def main(loop):
    loop.run_in_executor(None, job)
"""


@pytest.mark.parametrize("handler", ["except", "except BaseException", "except Exception"])
def test_dropped_offload_of_a_function_that_catches_everything_loses_no_exception(handler: str):
    finding = only(check(DROPPED.format(handler=handler, body="log()")), "BLK300")
    assert "exceptions are lost" not in finding.message
    assert "`await loop.run_in_executor(None, job)`" in finding.message


@pytest.mark.parametrize("handler,body", [("except Exception", "raise"), ("except ValueError", "log()")])
def test_dropped_offload_that_can_raise_says_its_exceptions_are_lost(handler: str, body: str):
    assert "and its exceptions are lost" in only(check(DROPPED.format(handler=handler, body=body)), "BLK300").message


def test_dropped_to_thread_never_runs():
    finding = only(check("import asyncio\n\ndef job():\n    pass\n\nasync def main():\n    asyncio.to_thread(job)\n"),
                   "BLK300")
    assert "never awaited, so the work never runs; await it: `await asyncio.to_thread(job)`" in finding.message


def test_eager_offload_shows_the_offload_call_with_the_function_passed():
    finding = only(check("import asyncio, requests\n\nasync def f(u):\n    await asyncio.to_thread(requests.get(u, timeout=3))\n"),
                   "BLK301")
    assert finding.message.endswith("pass the function and its arguments instead: "
                                    "`asyncio.to_thread(requests.get, u, timeout=3)`")


# -- platforms -----------------------------------------------------------------------------------------------
PLATFORM = """\
import asyncio, os, sys, time
from sys import platform

async def main():
    if {test}:
        time.sleep(1)
    else:
        time.sleep(2)
"""


@pytest.mark.parametrize("test,then,otherwise", [
    ('os.name == "nt"', "on Windows only", "everywhere but Windows"),
    ('sys.platform == "win32"', "on Windows only", "everywhere but Windows"),
    ('platform != "win32"', "everywhere but Windows", "on Windows only"),
    ('sys.platform.startswith("linux")', "on Linux only", "everywhere but Linux"),
    ('not sys.platform.startswith("win")', "everywhere but Windows", "on Windows only"),
    ('os.name == "posix"', "everywhere but Windows", "on Windows only"),
])
def test_call_under_a_platform_test_says_where_it_blocks(test: str, then: str, otherwise: str):
    first, second = [f.message for f in check(PLATFORM.format(test=test)) if f.code == "BLK100"]
    assert f"(it blocks {then});" in first
    assert f"(it blocks {otherwise});" in second


def test_other_tests_and_elif_chains():
    assert all("it blocks" not in f.message for f in check(PLATFORM.format(test="os.environ.get('X')")))
    messages = [f.message for f in check("""\
        import os, sys, time

        async def main():
            if sys.platform == "win32":
                time.sleep(1)
            elif sys.platform == "darwin":
                time.sleep(2)
            else:
                time.sleep(3)
        """)]
    assert ["on Windows only" in messages[0], "on macOS only" in messages[1],
            "everywhere but Windows and macOS" in messages[2]] == [True, True, True]


def test_helper_call_under_a_platform_test():
    finding = only(check("""\
        import os

        def load():
            return open("x").read()

        async def main():
            if os.name == "nt":
                load()
        """), "BLK200")
    assert "blocks the event loop on Windows only: it reaches" in finding.message


def test_noqa_on_the_with_line_silences_the_block_and_ignoring_the_open_reports_the_calls_alone():
    silenced = WITH_PLAIN.replace("with open(p) as f:", "with open(p) as f:  # noqa: BLK130")
    assert check(silenced) == []
    alone = check(WITH_PLAIN, ignore=("BLK130",))
    assert [(f.code, f.location.row) for f in alone] == [("BLK131", 5), ("BLK131", 6)]


# -- the chain shown is the heaviest wait --------------------------------------------------------
def test_a_helper_that_reaches_several_blocking_calls_is_shown_with_the_heaviest_wait():
    findings = check('''
        import os
        import subprocess

        import requests


        def watermark(video, image):
            if not os.path.isfile(image):
                raise ValueError(image)
            subprocess.run(["ffmpeg", "-i", video, "-i", image, "out.mp4"], check=True)


        def fetch(url):
            return requests.get(url, timeout=5).content


        def cache(url, path):
            if os.path.exists(path):
                return open(path, "rb").read()
            return fetch(url)


        async def handler(video, image, url, path):
            watermark(video, image)
            cache(url, path)
        ''')
    messages = {f.location.row: f.message for f in findings if f.code == "BLK200"}
    assert "it reaches `subprocess.run()` at app.py:11" in messages[25]
    assert "it reaches `requests.get()` at app.py:15 through cache -> fetch" in messages[26]


def test_a_wait_made_on_some_runs_only_does_not_stand_for_one_made_on_every_run():
    findings = check('''
        import shutil

        import requests


        def translate(text):
            return requests.get("https://translate.example/", params={"q": text}, timeout=5).text


        def get_string(key, strings):
            try:
                return strings[key]
            except KeyError:
                return translate(key)


        def usage(strings):
            total, used, free = shutil.disk_usage(".")
            return get_string("usage", strings).format(total, used, free)


        async def handler(strings):
            usage(strings)
            get_string("hello", strings)
        ''')
    messages = {f.location.row: f.message for f in findings if f.code == "BLK200"}
    assert "it reaches `shutil.disk_usage()` at app.py:19 through usage;" in messages[24]
    assert "it reaches `requests.get()` at app.py:8 through get_string -> translate" in messages[25]


def test_source_reads_are_advised_by_what_they_read_an_exception_a_stack_or_an_object():
    findings = [f for f in check("""
        import inspect
        import traceback

        async def handle(obj):
            inspect.stack()
            inspect.getsource(obj)
            try:
                pass
            except Exception:
                traceback.print_exc()
        """) if f.code == "BLK182"]
    found = {f.location.row: f.message for f in findings}
    assert found[6].endswith("use `inspect.currentframe()` and `frame.f_back`, which read no file")
    assert found[7].endswith("use the source read in a thread: `await asyncio.to_thread(inspect.getsource, obj)`")
    assert "use the caught exception (`except ... as exc`), formatted in a thread" in found[11]
    # The fix's title gives the same advice: print_exc() in a thread would print no exception.
    titles = {f.location.row: f.fix.message for f in findings if f.fix is not None}
    assert titles[11].startswith("Use the caught exception (`except ... as exc`), formatted in a thread")
    assert titles[6] == "Use `inspect.currentframe()` and `frame.f_back`, which read no file"


def test_a_lazy_result_whose_first_item_is_taken_is_advised_with_next_in_the_thread():
    """``next(os.walk(top))`` reads one directory: a list of the whole walk would read the tree,
    and ``next()`` of that list raises TypeError."""
    first, whole = at_rows(check("""\
        import os

        async def setup(top):
            files = next(os.walk(top))[2]
            return files, list(os.walk(top))
        """), "BLK142", 4, 5)
    assert "consume it in a thread, e.g. `await asyncio.to_thread(next, os.walk(top))`" in first.message
    assert "e.g. `await asyncio.to_thread(lambda: list(os.walk(top)))`" in whole.message
