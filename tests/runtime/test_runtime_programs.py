"""Real programs that block their loop, run through the real `offload watch` in a subprocess.

Expected rows and columns come from marker comments in the program text.
"""
from __future__ import annotations

import sys

from runtime_helpers import PROGRAMS, marked, span, watch_json


def run(program: str, loop_kind: str) -> dict:
    return watch_json(sys.executable, program, loop_kind)


def made_by_the_machine(stall: dict, threshold: float = 0.1) -> bool:
    """The OS, not the program, kept the loop from running (a loaded machine): the process got
    no CPU (`starved`: the program holds the GIL nowhere), or the loop thread was ready to run
    throughout and got less than half the threshold of CPU time, in the middle of a callback."""
    if stall["verdict"] == "starved":
        return True
    return (stall["runnable"] is not None and stall["runnable"] >= 0.5 and stall["cpu"] is not None
            and stall["cpu"] * stall["duration"] < threshold / 2)


def only_stall(report: dict) -> dict:
    """The one stall the program makes (a loaded machine may add some of its own)."""
    stalls = [stall for stall in report["stalls"] if not made_by_the_machine(stall)]
    assert len(stalls) == 1, (report["stalls"], report["_stderr"])
    return stalls[0]


def assert_at(frame: dict, program: str, marker: str, expression: str) -> None:
    path = PROGRAMS / program
    row, line = marked(path, marker)
    column, end_column = span(line, expression)
    assert frame["filename"] == str(path)
    assert (frame["row"], frame["column"], frame["end_row"], frame["end_column"]) == (
        row, column, row, end_column,
    ), frame
    assert frame["line"] == line


def test_time_sleep_in_a_coroutine(loop_kind):
    report = run("sleep.py", loop_kind)
    stall = only_stall(report)
    assert stall["verdict"] == "blocking"
    assert 0.3 <= stall["duration"] < 1.5
    assert stall["cpu"] < 0.05 and stall["runnable"] < 0.5
    assert stall["task"].startswith("Task-")
    assert stall["loop"] == ("uvloop.Loop" if loop_kind == "uvloop" else "asyncio.unix_events._UnixSelectorEventLoop")
    for key in ("user_frame", "innermost_frame", "coroutine_frame"):
        assert_at(stall[key], "sleep.py", "STALL", "time.sleep(0.4)")
    assert stall["stack"][-1] == stall["user_frame"]
    assert stall["stack"][0]["function"] == "<module>"
    assert report["processes"] == 1 and report["_returncode"] == 0
    assert "sleep.py:10:5: event loop stalled" in report["_stderr"]


def test_blocking_http_request_names_the_user_line_and_the_socket_read(loop_kind):
    stall = only_stall(run("http_call.py", loop_kind))
    assert stall["verdict"] == "blocking"
    assert_at(stall["user_frame"], "http_call.py", "STALL", "urllib.request.urlopen(url, timeout=10)")
    assert_at(stall["coroutine_frame"], "http_call.py", "STALL", "urllib.request.urlopen(url, timeout=10)")
    innermost = stall["innermost_frame"]
    assert innermost["filename"].endswith("socket.py") and innermost["kind"] == "stdlib"
    assert "recv_into" in innermost["line"]
    functions = [frame["function"] for frame in stall["stack"]]
    assert "HTTPResponse.begin" in functions


def test_file_read_from_a_fifo_with_a_late_writer(loop_kind):
    stall = only_stall(run("fifo_read.py", loop_kind))
    assert stall["verdict"] == "blocking"
    assert_at(stall["user_frame"], "fifo_read.py", "STALL", "Path(fifo).read_bytes()")
    innermost = stall["innermost_frame"]
    assert innermost["filename"].endswith("pathlib.py") and innermost["function"] == "Path.open"


def test_cpu_bound_helper_reports_the_hot_loop_and_the_fix_site(loop_kind):
    stall = only_stall(run("cpu_loop.py", loop_kind))
    assert stall["verdict"] == "cpu"
    # The helper's 0.4 s of CPU time are in the stall, whatever share of a CPU a loaded
    # machine gave the loop thread (the stall then lasts longer).
    assert stall["runnable"] > 0.5 and stall["cpu"] * stall["duration"] >= 0.35
    start, _ = marked(PROGRAMS / "cpu_loop.py", "LOOP-START")
    end, _ = marked(PROGRAMS / "cpu_loop.py", "LOOP-END")
    user = stall["user_frame"]
    assert user["function"] == "crunch" and start <= user["row"] < end
    assert_at(stall["coroutine_frame"], "cpu_loop.py", "STALL", "crunch(0.4)")


def test_blocking_protocol_callback_has_no_task_and_no_coroutine(loop_kind):
    stall = only_stall(run("protocol.py", loop_kind))
    assert stall["verdict"] == "blocking"
    assert stall["task"] is None and stall["coroutine_frame"] is None
    assert_at(stall["user_frame"], "protocol.py", "STALL", "time.sleep(0.4)")
    assert stall["user_frame"]["function"] == "SlowEcho.data_received"


def test_many_small_callbacks(loop_kind):
    report = run("callbacks.py", loop_kind)
    # Each step of the 8000 tasks is a stall in which the loop thread computes for longer
    # than the threshold (0.1 s). On a busy machine the OS may also keep the loop thread off
    # the CPU for 0.1 s in the middle of any one callback: such a stall holds less CPU time
    # than the threshold, and is the machine's (in one callback: `cpu`; else `starved`).
    stalls = [stall for stall in report["stalls"]
              if stall["cpu"] is None or stall["cpu"] * stall["duration"] >= 0.1]
    assert stalls, report["_stderr"]
    for stall in stalls:
        assert stall["verdict"] == "callbacks", stall
        assert stall["user_frame"]["function"] == "small"
        assert stall["user_frame"]["filename"] == str(PROGRAMS / "callbacks.py")


def test_loop_starved_by_a_thread_holding_the_gil(loop_kind):
    report = run("starved.py", loop_kind)
    # On a loaded machine the OS may starve the loop at other moments too: those are starved as well.
    assert report["stalls"] and all(stall["verdict"] == "starved" for stall in report["stalls"]), report["_stderr"]
    assert all(stall["user_frame"] is None and stall["coroutine_frame"] is None for stall in report["stalls"])
    assert max(stall["duration"] for stall in report["stalls"]) >= 0.2, report["_stderr"]


def test_program_that_never_blocks_reports_nothing(loop_kind):
    report = run("clean.py", loop_kind)
    assert [stall for stall in report["stalls"] if not made_by_the_machine(stall)] == [], report["_stderr"]
    assert report["processes"] == 1
    if not report["stalls"]:
        assert "no event-loop stall over 100 ms" in report["_stderr"]


def test_loops_in_several_threads_and_loops_created_repeatedly(loop_kind):
    report = run("threads.py", loop_kind)
    stalls = [stall for stall in report["stalls"] if not made_by_the_machine(stall)]
    assert sorted(stall["loop_thread"] for stall in stalls) == ["loop-0", "loop-1", "loop-2"], report["_stderr"]
    for stall in stalls:
        assert stall["verdict"] == "blocking"
        assert_at(stall["user_frame"], "threads.py", "STALL-THREAD", "time.sleep(seconds)")


def test_two_slow_callbacks_back_to_back_are_each_named_with_their_part_and_verdict(loop_kind):
    report = run("back_to_back.py", loop_kind)
    merged = [stall for stall in report["stalls"] if stall["culprits"]]
    assert len(merged) == 1, (report["stalls"], report["_stderr"])
    (stall,) = merged
    culprits = {culprit["frame"]["row"]: culprit for culprit in stall["culprits"]}
    sleep_row, _ = marked(PROGRAMS / "back_to_back.py", "SLEEP")
    spin_row, _ = marked(PROGRAMS / "back_to_back.py", "SPIN")
    assert set(culprits) == {sleep_row, spin_row}, stall["culprits"]
    sleeper, spinner = culprits[sleep_row], culprits[spin_row]
    assert (sleeper["verdict"], spinner["verdict"]) == ("blocking", "cpu")
    assert sleeper["task"] != spinner["task"]
    assert_at(spinner["coroutine_frame"], "back_to_back.py", "COMPUTE", "spin(0.3)")
    assert 0 < sleeper["duration"] and 0 < spinner["duration"]
    assert sleeper["duration"] + spinner["duration"] <= stall["duration"] + 1e-6
    # The stall is named after its first callback, with that callback's verdict.
    assert stall["verdict"] == stall["culprits"][0]["verdict"]
    assert stall["user_frame"]["row"] == stall["culprits"][0]["frame"]["row"]
    # The text names both, each with its part of the time, its own verdict and its task.
    text = report["_stderr"]
    assert "2 callbacks ran back to back:" in text, text
    assert f"- back_to_back.py:{sleep_row}:5: about " in text and "(blocking call) in task 'Task-" in text, text
    assert f"- back_to_back.py:{spin_row}:" in text and "(CPU-bound) in task 'Task-" in text, text
    assert "fix site: computes at back_to_back.py:" in text
