"""Strict mode in-process: fast blocking calls on a real loop (asyncio and uvloop) are reported
with their exact line; the same calls offloaded, in a plain thread or at import time are not."""
from __future__ import annotations

import asyncio
import importlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from detector.runtime import strict, strict_wraps
from runtime_helpers import marked, span

HERE = Path(__file__)


# -- the calls, one blocking line each -----------------------------------------------------------
def call_open(ctx):
    open(ctx.file).close()  # strict-open


def call_listdir(ctx):
    os.listdir(ctx.dir)  # strict-listdir


def call_scandir(ctx):
    list(os.scandir(ctx.dir))  # strict-scandir


def call_mkdir_rename_remove(ctx):
    os.mkdir(ctx.dir / "sub")  # strict-mkdir
    os.rename(ctx.dir / "sub", ctx.dir / "moved")
    os.rmdir(ctx.dir / "moved")


def call_remove(ctx):
    (ctx.dir / "gone").write_text("x")
    os.remove(ctx.dir / "gone")  # strict-remove


def call_connect(ctx):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.connect(ctx.address)  # strict-connect
    finally:
        sock.close()


def call_getaddrinfo(ctx):
    socket.getaddrinfo("127.0.0.1", ctx.address[1])  # strict-getaddrinfo


def call_subprocess(ctx):
    subprocess.run([sys.executable, "-c", ""], check=True)  # strict-subprocess


def call_sleep(ctx):
    time.sleep(0.001)  # strict-sleep


def call_sqlite(ctx):
    sqlite3.connect(":memory:").close()  # strict-sqlite


def call_stat(ctx):
    os.stat(ctx.file)  # strict-stat


def call_pathlib(ctx):
    Path(ctx.file).is_file()  # strict-pathlib


# (call, marker, event, the text the reported span covers)
CASES = {
    "open": (call_open, "strict-open", "open", "open(ctx.file)"),
    "listdir": (call_listdir, "strict-listdir", "os.listdir", "os.listdir(ctx.dir)"),
    "scandir": (call_scandir, "strict-scandir", "os.scandir", "os.scandir(ctx.dir)"),
    "mkdir": (call_mkdir_rename_remove, "strict-mkdir", "os.mkdir", "os.mkdir(ctx.dir / \"sub\")"),
    "remove": (call_remove, "strict-remove", "os.remove", "os.remove(ctx.dir / \"gone\")"),
    "connect": (call_connect, "strict-connect", "socket.connect", "sock.connect(ctx.address)"),
    "getaddrinfo": (call_getaddrinfo, "strict-getaddrinfo", "socket.getaddrinfo",
                    "socket.getaddrinfo(\"127.0.0.1\", ctx.address[1])"),
    "subprocess": (call_subprocess, "strict-subprocess", "subprocess.Popen",
                   "subprocess.run([sys.executable, \"-c\", \"\"], check=True)"),
    "sleep": (call_sleep, "strict-sleep", "time.sleep", "time.sleep(0.001)"),
    "sqlite": (call_sqlite, "strict-sqlite", "sqlite3.connect", "sqlite3.connect(\":memory:\")"),
    "stat": (call_stat, "strict-stat", "os.stat", "os.stat(ctx.file)"),
    "pathlib": (call_pathlib, "strict-pathlib", "os.stat", "Path(ctx.file).is_file()"),
}


# -- fixtures and helpers ------------------------------------------------------------------------
@pytest.fixture
def ctx(tmp_path):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    (tmp_path / "data.txt").write_text("data")
    yield SimpleNamespace(dir=tmp_path, file=str(tmp_path / "data.txt"), address=server.getsockname())
    server.close()


@pytest.fixture
def log():
    entry = strict.attach(strict.StrictLog())
    yield entry
    strict.detach(entry)
    strict.configure()
    strict_wraps.uninstall()


def run(loop_kind: str, coroutine):
    if loop_kind == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
        try:
            return loop.run_until_complete(coroutine)
        finally:
            loop.close()
    return asyncio.run(coroutine)


async def on_loop(call, ctx):
    call(ctx)  # strict-fix-site


def call_repeatedly(loop_kind, call, ctx, times: int) -> None:
    """``call`` made ``times`` times from one coroutine on a ``loop_kind`` loop."""
    async def main():
        for _ in range(times):
            await on_loop(call, ctx)

    run(loop_kind, main())


def only(log, event=None):
    calls = [c for c in log.list() if event is None or c.event == event]
    assert len(calls) == 1, [(c.event, c.user_frame) for c in log.list()]
    return calls[0]


# -- positive: on the loop -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_call_on_the_loop_is_reported_at_its_exact_line(name, loop_kind, ctx, log):
    call, marker, event, text = CASES[name]

    async def main():
        await asyncio.sleep(0)
        await on_loop(call, ctx)

    run(loop_kind, main())
    reported = only(log, event)  # the helpers that set a call up make calls of their own
    row, line = marked(HERE, marker)
    assert reported.event == event
    assert reported.user_frame.filename == str(HERE)
    assert reported.user_frame.row == row
    if sys.version_info >= (3, 11):
        assert (reported.user_frame.column, reported.user_frame.end_column) == span(line, text)
    fix_row, _ = marked(HERE, "strict-fix-site")
    assert (reported.coroutine_frame.function, reported.coroutine_frame.row) == ("on_loop", fix_row)
    assert reported.task is not None
    assert reported.loop_thread == threading.current_thread().name


# -- negative: offloaded, plain thread, import time ----------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_call_offloaded_is_silent(name, loop_kind, ctx, log):
    call = CASES[name][0]

    async def main():
        await asyncio.to_thread(call, ctx)
        await asyncio.get_running_loop().run_in_executor(None, call, ctx)

    run(loop_kind, main())
    assert log.list() == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_call_in_a_plain_thread_is_silent(name, loop_kind, ctx, log):
    call = CASES[name][0]
    done = threading.Event()

    def worker():
        call(ctx)
        done.set()

    async def main():
        thread = threading.Thread(target=worker)
        thread.start()
        while not done.is_set():  # the loop keeps running while the thread makes the call
            await asyncio.sleep(0.001)
        await asyncio.to_thread(thread.join)

    run(loop_kind, main())
    assert done.is_set()
    assert log.list() == []


IMPORTED = 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_call_at_import_time_is_silent(name, loop_kind, ctx, log, tmp_path, monkeypatch):
    global IMPORTED
    IMPORTED += 1
    module = f"strict_import_time_{name}_{loop_kind}_{IMPORTED}"
    (tmp_path / f"{module}.py").write_text(
        f"import {__name__} as t\nt.CASES[{name!r}][0](t.IMPORT_CONTEXT)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys.modules[__name__], "IMPORT_CONTEXT", ctx, raising=False)

    async def main():
        importlib.import_module(module)

    try:
        run(loop_kind, main())
        assert module in sys.modules  # the import ran its calls on the loop thread
    finally:
        sys.modules.pop(module, None)
    assert log.list() == []


# -- the loop's own machinery and offload's own code ---------------------------------------------
def test_loop_machinery_is_silent(loop_kind, ctx, log):
    async def main():
        reader, writer = await asyncio.open_connection(*ctx.address)
        writer.close()
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", "")
        await process.wait()
        await asyncio.sleep(0.01)

    run(loop_kind, main())
    assert log.list() == []


def test_watchdog_running_alongside_adds_nothing(loop_kind, ctx, log):
    from detector.runtime import watch

    async def main():
        for _ in range(5):
            await asyncio.sleep(0.01)
        call_listdir(ctx)

    with watch(threshold=0.05):
        run(loop_kind, main())
    reported = only(log)
    assert reported.event == "os.listdir"


def test_non_blocking_socket_and_fd_open_and_zero_timeouts_are_silent(loop_kind, ctx, log):
    async def main():
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(ctx.address)
        except BlockingIOError:
            pass
        sock.close()
        fd = os.open(ctx.file, os.O_RDONLY)  # a path: reported
        with open(fd, closefd=True):  # a descriptor: silent
            pass
        event = threading.Event()
        event.set()
        event.wait()  # already set: does not wait
        time.sleep(0)

    run(loop_kind, main())
    reported = only(log)
    assert reported.event == "open"
    assert "os.open" in reported.user_frame.line


# -- dedup, wrapped waits, allow-list --------------------------------------------------------------
def test_one_record_per_site_with_a_count(loop_kind, ctx, log):
    call_repeatedly(loop_kind, call_listdir, ctx, 3)
    reported = only(log)
    assert reported.count == 3
    assert reported.events == {"os.listdir": 3}


def test_a_site_stays_one_record_once_the_interpreter_specialises_its_call(loop_kind, ctx, log):
    # Called often enough that the interpreter specialises the call to os.listdir (3.11 then
    # reports another instruction offset for the same call).
    def list_the_directory(ctx):
        os.listdir(ctx.dir)

    call_repeatedly(loop_kind, list_the_directory, ctx, 100)
    reported = only(log)
    assert reported.count == 100
    assert reported.user_frame.function.endswith("list_the_directory")


def test_describing_a_site_classifies_each_file_once(loop_kind, ctx, log, monkeypatch):
    # Classifying a file resolves its path with the wrapped os.lstat on the loop thread:
    # those calls must not start another report, which classified the same file again
    # (offload's own frames.py a hundred times over, until the recursion limit).
    from detector.runtime import frames

    classified = []
    classify = frames.FileKinds._classify

    def counting(self, filename):
        classified.append(filename)
        return classify(self, filename)

    monkeypatch.setattr(frames.FileKinds, "_classify", counting)
    monkeypatch.setattr(strict, "_kinds", frames.FileKinds())  # nothing classified yet
    call_repeatedly(loop_kind, call_stat, ctx, 1)
    assert only(log).event == "os.stat"
    assert classified and len(classified) == len(set(classified)), classified


def test_waits_that_would_block_are_reported(loop_kind, log):
    import concurrent.futures

    future = concurrent.futures.Future()

    def finish_once_waited_on():
        while not future._condition._waiters:  # the loop thread is inside result()
            time.sleep(0.001)
        future.set_result(1)

    async def main():
        threading.Thread(target=finish_once_waited_on, daemon=True).start()
        future.result()  # strict-future

    run(loop_kind, main())
    reported = only(log, "concurrent.futures.Future.result")
    assert reported.user_frame.row == marked(HERE, "strict-future")[0]


@pytest.mark.parametrize("entry", ["os.listdir", f"{__name__}:call_listdir", "*/test_runtime_strict.py"])
def test_allow_list_entries_silence_the_call(entry, ctx, log):
    strict.configure([entry])

    async def main():
        await on_loop(call_listdir, ctx)
        await on_loop(call_open, ctx)

    run("asyncio", main())
    assert [c.event for c in log.list()] == ([] if entry.startswith("*") else ["open"])


def test_audit_hook_costs_nothing_once_detached(ctx):
    entry = strict.attach(strict.StrictLog())
    strict.detach(entry)
    try:
        asyncio.run(on_loop(call_listdir, ctx))
        assert entry.list() == []
    finally:
        strict_wraps.uninstall()
