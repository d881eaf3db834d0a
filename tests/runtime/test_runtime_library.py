"""The watchdog as a library, in this process: real loops, real blocking."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time

import pytest
import uvloop

from detector.runtime import StallEvent, get_watchdog, subscribe, watch
from detector.runtime.events import make_report


def _wait_until(condition, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


async def _blocks(seconds=0.3):
    await asyncio.sleep(0.01)
    time.sleep(seconds)  # LIBRARY-STALL
    return "done"


def _line_of(marker):
    source = open(__file__).read().splitlines()
    return next(number for number, line in enumerate(source, 1) if line.endswith(f"# {marker}"))


@pytest.mark.parametrize("runner", ["asyncio.run", "uvloop.run", "run_until_complete"])
def test_each_way_of_running_a_loop_is_watched(runner):
    with watch(0.1) as stalls:
        if runner == "asyncio.run":
            result = asyncio.run(_blocks())
        elif runner == "uvloop.run":
            result = uvloop.run(_blocks())
        else:
            loop = asyncio.new_event_loop()
            result = loop.run_until_complete(_blocks())
            loop.close()
    assert result == "done"
    (stall,) = stalls
    assert isinstance(stall, StallEvent)
    assert stall.verdict == "blocking"
    assert stall.user_frame.row == _line_of("LIBRARY-STALL")
    assert stall.coroutine_frame.function == "_blocks"


def test_stall_that_ends_the_run_is_recorded():
    async def last_thing():
        time.sleep(0.25)  # nothing runs on the loop after this: no late heartbeat either

    with watch(0.1) as stalls:
        asyncio.run(last_thing())
    assert [stall.verdict for stall in stalls] == ["blocking"]
    assert stalls[0].duration >= 0.15


def test_loops_created_and_closed_repeatedly():
    with watch(0.1) as stalls:
        for _ in range(4):
            loop = uvloop.new_event_loop()
            loop.run_until_complete(_blocks(0.15))
            loop.close()
            asyncio.run(asyncio.sleep(0))
    assert len(stalls) == 4
    assert all(stall.loop == "uvloop.Loop" for stall in stalls)


def test_one_watchdog_thread_serves_every_run_and_never_shows_as_a_leftover_thread():
    async def main():
        await asyncio.sleep(0.01)

    with watch(0.1):
        asyncio.run(main())
        thread_id = get_watchdog().thread_id
        assert thread_id in sys._current_frames()
        for _ in range(20):
            before = set(threading.enumerate())
            asyncio.run(main())
            assert set(threading.enumerate()) == before  # what per-test thread-leak checks compare
        uvloop.run(main())
        assert get_watchdog().thread_id == thread_id  # the same thread for every loop


def _callback_that_blocks():
    time.sleep(0.3)  # CALLBACK-STALL


@pytest.mark.parametrize("callback", [_callback_that_blocks, lambda: time.sleep(0.3), time.sleep])
def test_loop_in_another_thread_is_reported_while_it_runs(callback):
    stalls = []
    subscription = subscribe(stalls.append, 0.1)
    try:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="server-loop")
        thread.start()
        if callback is time.sleep:  # a callback with no Python frame at all
            loop.call_soon_threadsafe(time.sleep, 0.3)
        else:
            loop.call_soon_threadsafe(callback)
        assert _wait_until(lambda: bool(stalls), timeout=3)  # reported while the loop still runs
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
    finally:
        subscription.close()
    (stall,) = stalls
    assert stall.loop_thread == "server-loop" and stall.task is None
    assert stall.verdict == "blocking"
    if callback is time.sleep:
        assert stall.user_frame is None and stall.innermost_frame.function == "Handle._run"
    else:
        assert stall.user_frame.function in ("_callback_that_blocks", "<lambda>")


def test_each_subscriber_gets_the_stalls_over_its_own_threshold_and_a_failing_one_changes_nothing():
    short, long_ = [], []

    def broken(stall):
        raise RuntimeError("listener bug")

    subscriptions = [subscribe(short.append, 0.1), subscribe(long_.append, 1.0), subscribe(broken, 0.1)]
    try:
        assert asyncio.run(_blocks(0.3)) == "done"
    finally:
        for subscription in subscriptions:
            subscription.close()
    assert len(short) == 1 and long_ == []
    assert any("listener bug" in error for error in get_watchdog().errors)


def test_nothing_is_recorded_without_a_subscriber():
    stalls = []
    subscription = subscribe(stalls.append, 0.1)
    subscription.close()
    asyncio.run(_blocks(0.2))
    assert stalls == []


def test_stall_records_round_trip_through_json():
    with watch(0.1) as stalls:
        asyncio.run(_blocks(0.2))
    (stall,) = stalls
    data = json.loads(json.dumps(stall.to_dict()))
    assert StallEvent.from_dict(data) == stall
    report = make_report(stalls, command=["python", "x.py"], threshold=0.1)
    assert report["version"] == 1 and report["stalls"] == [stall.to_dict()]


def test_threshold_must_be_positive():
    with pytest.raises(ValueError):
        subscribe(lambda stall: None, 0)


@pytest.mark.parametrize(
    "module", ["detector.runtime", "detector.runtime.api", "detector.runtime.pytest_plugin", "detector.runtime.confirm"]
)
def test_importing_the_runtime_side_imports_neither_libcst_nor_click(module):
    code = (
        f"import sys, {module}\n"
        "import detector.runtime as r; r.watch; r.StallEvent\n"
        "print([m for m in ('libcst', 'click') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_per_process_files_are_merged_and_a_partial_last_line_is_skipped(tmp_path):
    from detector.runtime.sink import JsonlSink, read_directory

    sink = JsonlSink(str(tmp_path))
    subscription = subscribe(sink, 0.1)
    try:
        asyncio.run(_blocks(0.2))
    finally:
        subscription.close()
    (written,) = tmp_path.iterdir()
    with open(written, "a") as handle:
        handle.write('{"type": "stall", "duration": 0.3, "verd')  # killed mid-write
    merged = read_directory(str(tmp_path))
    assert [stall.verdict for stall in merged.tally.examples()] == ["blocking"]
    assert merged.process_records[0]["argv"] == sys.argv
    assert len(merged.problems) == 1 and "unreadable record skipped" in merged.problems[0]


def test_blocking_call_while_another_thread_runs_python_code_is_still_blocking():
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            sum(i for i in range(1000))  # Python bytecode: hands the GIL over every 5 ms

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        with watch(0.1) as stalls:
            asyncio.run(_blocks(0.4))
    finally:
        stop.set()
        thread.join()
    (stall,) = stalls
    assert stall.verdict == "blocking"
    assert stall.user_frame.row == _line_of("LIBRARY-STALL")


def test_deep_recursion_still_finds_the_callback():
    def down(n):
        if n == 0:
            time.sleep(0.3)  # DEEP-STALL
            return 0
        return down(n - 1) + 1

    async def main():
        await asyncio.sleep(0.01)
        return down(500)

    with watch(0.1) as stalls:
        assert asyncio.run(main()) == 500
    (stall,) = stalls
    assert stall.verdict == "blocking"
    assert stall.user_frame.row == _line_of("DEEP-STALL")
    assert len(stall.stack) == 200
    assert stall.coroutine_frame.function.endswith("main")


def test_many_loops_probed_at_once_from_several_threads():
    errors = []

    def serve(kind):
        async def spin():
            end = time.monotonic() + 0.6
            while time.monotonic() < end:
                await asyncio.sleep(0)

        try:
            uvloop.run(spin()) if kind == "uvloop" else asyncio.run(spin())
        except BaseException as exc:  # any error here is the watchdog's fault
            errors.append(exc)

    with watch(0.004):  # probes every millisecond in every loop
        threads = [threading.Thread(target=serve, args=(kind,)) for kind in ["asyncio", "uvloop"] * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
