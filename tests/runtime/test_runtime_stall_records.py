"""What a stall record says: C calls holding the GIL, the fix site, several culprits,
per-site counts in bounded memory and output."""
from __future__ import annotations

import asyncio
import json
import re
import sys
import time

from detector.runtime import watch
from detector.runtime.events import Frame, StallEvent
from detector.runtime.sink import FULL_PER_SITE, JsonlSink, read_directory
from detector.runtime.tally import EXAMPLES_PER_SITE
from runtime_helpers import PROGRAMS, marked, watch as run_watch, watch_json

def _row(marker: str) -> int:
    return marked(__import__("pathlib").Path(__file__), marker)[0]


def test_every_c_call_holding_the_gil_is_named_with_its_line_and_task(loop_kind):
    # The watchdog cannot run while the C call holds the GIL; the loop thread hands the GIL
    # over at its first bytecode after the call and waits for it back, and the watchdog
    # reads its stack before anything else. Run under `offload watch` in a process of its
    # own: threads left in this process by other tests could take that GIL instead.
    report = watch_json(sys.executable, "gil_c_calls.py", loop_kind)
    task = re.search(r"^task (\S+)$", report["_stderr"], re.M).group(1)
    program = PROGRAMS / "gil_c_calls.py"
    calls = {marked(program, "GIL-JSON")[0]: 3, marked(program, "GIL-REGEX")[0]: 1}
    named = [stall for stall in report["stalls"] if stall["user_frame"] is not None]
    rows = sorted(stall["user_frame"]["row"] for stall in named)
    assert rows == sorted(row for row, count in calls.items() for _ in range(count)), (
        [(s["duration"], s["verdict"], s["task"], s["user_frame"]) for s in report["stalls"]], report["_stderr"])
    for stall in named:
        assert (stall["task"], stall["verdict"]) == (task, "cpu"), stall
        assert stall["user_frame"]["function"] == stall["coroutine_frame"]["function"] == "c_calls"
        assert stall["user_frame"]["filename"] == str(program)
    # Anything else (a loaded machine keeping the whole process from running) names no line.
    for stall in report["stalls"]:
        assert stall in named or stall["verdict"] == "starved", stall


def _cpu_for(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:  # CULPRIT-CPU
        pass


async def _sleeps():
    time.sleep(0.3)  # CULPRIT-SLEEP


async def _computes():
    _cpu_for(0.3)  # CULPRIT-CALL


def test_two_slow_callbacks_in_one_loop_iteration_are_both_named():
    async def main():
        await asyncio.gather(_sleeps(), _computes())  # made ready in the same iteration

    with watch(0.1) as stalls:
        asyncio.run(main())
    merged = [stall for stall in stalls if len(stall.culprits) >= 2]
    assert merged, [(s.duration, s.task, s.user_frame) for s in stalls]
    (stall,) = merged
    rows = {culprit.frame.row for culprit in stall.culprits}
    assert {_row("CULPRIT-SLEEP"), _row("CULPRIT-CPU")} <= rows
    assert stall.culprits[0].task == stall.task
    assert len({culprit.task for culprit in stall.culprits}) == len(stall.culprits)
    from detector.runtime.summary import describe

    by_row = {culprit.frame.row: culprit for culprit in stall.culprits}
    sleeper, spinner = by_row[_row("CULPRIT-SLEEP")], by_row[_row("CULPRIT-CPU")]
    assert (sleeper.verdict, spinner.verdict) == ("blocking", "cpu")
    assert spinner.coroutine_frame.row == _row("CULPRIT-CALL")
    assert 0 < sleeper.duration and 0 < spinner.duration
    assert sleeper.duration + spinner.duration <= stall.duration + 1e-6
    assert stall.verdict == stall.culprits[0].verdict  # named after its first callback
    text = "\n".join(describe(stall))
    assert "2 callbacks ran back to back:" in text
    assert text.count("    - ") == 2 and "(blocking call) in task" in text and "(CPU-bound) in task" in text


def _first_part():
    pass


def _second_part():
    pass


def test_culprits_parts_never_add_up_to_more_than_the_stall():
    from detector.runtime.frames import FileKinds
    from detector.runtime.monitor import LoopMonitor, Reading
    from detector.runtime.sampling import Sample
    from detector.runtime.stall import build

    def sample(function, task, at):
        code = function.__code__
        taken = Sample(((code, 0),), 1, (None, code, id(function)), task)
        taken.at = at
        return taken

    # Parts of 0.1500008 s and 0.1500006 s of a 0.3000014 s stall: each rounded to the
    # nearest microsecond they would add up to a microsecond more than the stall.
    samples = [sample(_first_part, "a", 0.05), sample(_first_part, "a", 0.1),
               sample(_second_part, "b", 0.2000016), sample(_second_part, "b", 0.25)]
    loop = asyncio.new_event_loop()
    try:
        stall = build(LoopMonitor(loop, 0.1), 0.0, Reading(0.0, None, None), Reading(0.3000014, None, None), samples,
                      FileKinds())
    finally:
        loop.close()
    assert [culprit.task for culprit in stall.culprits] == ["a", "b"]
    parts = [culprit.to_dict()["duration"] for culprit in stall.culprits]
    assert all(part > 0.15 - 1e-6 for part in parts), parts
    assert sum(parts) <= stall.to_dict()["duration"], (parts, stall.duration)


def test_fix_site_is_the_users_coroutine_when_a_library_coroutine_blocks(tmp_path):
    library = tmp_path / "site-packages" / "fakedb"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text(
        "import time\n"
        "def _sync_query(sql):\n"
        "    time.sleep(0.3)\n"
        "    return [sql]\n"
        "async def query(sql):\n"
        "    return _sync_query(sql)\n"
    )
    (tmp_path / "app.py").write_text(
        "import asyncio, fakedb\n"
        "async def handler():\n"
        "    return await fakedb.query('select 1')  # USER-LINE\n"
        "asyncio.run(handler())\n"
    )
    env = dict(__import__("os").environ, PYTHONPATH=str(tmp_path / "site-packages"))
    report = watch_json(sys.executable, "app.py", cwd=tmp_path, env=env)
    (stall,) = report["stalls"]
    row, _ = marked(tmp_path / "app.py", "USER-LINE")
    for key in ("user_frame", "coroutine_frame"):
        assert (stall[key]["filename"], stall[key]["row"], stall[key]["column"]) == (str(tmp_path / "app.py"), row, 12)
    assert stall["innermost_frame"]["kind"] == "library"
    assert "fix site" not in report["_stderr"]  # the user's line is the site itself
    assert "blocked in _sync_query at " in report["_stderr"]


def _event(row: int, duration: float, pid: int = 100, started_at: float = 1.0) -> StallEvent:
    frame = Frame("/app/main.py", "handler", row, 5, row, 20, "    time.sleep(x)", "user")
    return StallEvent(duration=duration, started_at=started_at, verdict="blocking", task="Task-1",
                      loop_thread="MainThread", loop="asyncio.unix_events._UnixSelectorEventLoop", pid=pid,
                      samples=3, cpu=0.0, runnable=0.0, user_frame=frame, innermost_frame=frame,
                      coroutine_frame=frame, stack=[frame], seen=[(frame, 3)])


def test_a_process_writes_a_bounded_number_of_records_per_site_and_counts_the_rest(tmp_path):
    sink = JsonlSink(str(tmp_path))
    for index in range(500):
        sink(_event(7, 0.1 + index / 10_000, started_at=float(index)))
    sink(_event(9, 0.2, started_at=1000.0))
    sink.close()
    (records,) = tmp_path.glob("*.jsonl")
    assert len(records.read_text().splitlines()) == 1 + FULL_PER_SITE + 1  # process, 20 at line 7, 1 at line 9
    merged = read_directory(str(tmp_path))
    assert merged.tally.count == 501
    first, second = merged.tally.sites()
    assert (first.frame.row, first.count, round(first.longest, 4)) == (7, 500, 0.1499)
    assert round(first.total, 3) == round(sum(0.1 + i / 10_000 for i in range(500)), 3)
    assert (second.frame.row, second.count) == (9, 1)
    assert len(merged.tally.examples()) == EXAMPLES_PER_SITE + 1


def test_thousands_of_stalls_give_a_bounded_report_and_one_entry_per_site(tmp_path):
    # What a long-running service leaves: many records of the same few sites.
    program = tmp_path / "many.py"
    record = json.dumps(dict(_event(7, 0.12).to_dict(), type="stall"))
    other = json.dumps(dict(_event(9, 0.3, pid=101).to_dict(), type="stall"))
    program.write_text(
        "import os\n"
        "path = os.path.join(os.environ['OFFLOAD_WATCH_DIR'], '9-many.jsonl')\n"
        "with open(path, 'w') as handle:\n"
        f"    handle.write(({record!r} + '\\n') * 5000)\n"
        f"    handle.write(({other!r} + '\\n') * 2)\n"
    )
    report_path = tmp_path / "report.json"
    result = run_watch("--report", str(report_path), "--", sys.executable, str(program), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["stall_count"] == 5002
    assert len(report["stalls"]) <= 2 * EXAMPLES_PER_SITE
    assert [(site["count"], site["frame"]["row"], site["pids"]) for site in report["sites"]] == [
        (5000, 7, [100]), (2, 9, [101])
    ]
    assert report_path.stat().st_size < 100_000
    lines = result.stderr.splitlines()
    assert lines[0] == "offload: 5002 event-loop stalls over 100 ms at 2 sites (longest 300 ms)"
    assert lines[1] == "/app/main.py:7:5: event loop stalled 5000 times, 600000 ms in total, longest 120 ms " \
                       "(blocking call) in task 'Task-1'"
    assert len(lines) < 12


def test_stalls_at_one_line_from_several_processes_are_grouped_with_their_pids(tmp_path):
    program = tmp_path / "forks.py"
    program.write_text(
        "import asyncio, multiprocessing, time\n"
        "async def block():\n"
        "    await asyncio.sleep(0.01)\n"
        "    time.sleep(0.2)  # STALL\n"
        "def child():\n"
        "    asyncio.run(block())\n"
        "asyncio.run(block())\n"
        "asyncio.run(block())\n"
        "process = multiprocessing.get_context('fork').Process(target=child)\n"
        "process.start(); process.join()\n"
    )
    result = run_watch("--", sys.executable, str(program), cwd=tmp_path)
    row, _ = marked(program, "STALL")
    lines = result.stderr.splitlines()
    # A loaded machine may add stalls of its own elsewhere: the program's three are one group.
    assert re.match(r"offload: \d+ event-loop stalls over 100 ms \(longest ", lines[0]), lines
    grouped = [line for line in lines if line.startswith(f"forks.py:{row}:")]
    assert len(grouped) == 1, lines
    assert re.fullmatch(rf"forks\.py:{row}:5: event loop stalled 3 times, \d+ ms in total, longest \d+ ms "
                        r"\(blocking call\) in task 'Task-\d+' in pids \d+, \d+", grouped[0]), lines
