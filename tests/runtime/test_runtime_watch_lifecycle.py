"""`offload watch` around the command's life: signals, a stall in progress at the end, start-up
failures, what the watched processes leave in the watch directory, old interpreters."""
from __future__ import annotations

import glob
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from detector.runtime.session import BOOTSTRAP_DIR
from runtime_helpers import marked, watch

HUNG = """\
import asyncio, sys, time

async def main():
    print("ready", flush=True)
    await asyncio.sleep(0.05)
    time.sleep(60)  # STUCK

asyncio.run(main())
"""

IDLE = """\
import asyncio

async def main():
    print("ready", flush=True)
    while True:
        await asyncio.sleep(0.05)

asyncio.run(main())
"""


# offload started as a shell starts a command in the foreground, whatever started these tests:
# under `nohup` or in a background job SIGHUP or SIGINT is inherited ignored, and the watched
# command would then ignore the signal that offload passes on to it.
FOREGROUND_WATCH = [sys.executable, "-c", (
    "import signal\n"
    "for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGUSR1):\n"
    "    if signal.getsignal(signum) == signal.SIG_IGN:\n"
    "        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)\n"
    "from detector.runtime.cli import watch\n"
    "watch()\n")]


class Running:
    """`offload watch` in a session of its own, so that a signal reaches offload alone."""

    def __init__(self, tmp_path: Path, program: str, *options: str) -> None:
        (tmp_path / "prog.py").write_text(program)
        self.temp = tmp_path / "temp"
        self.temp.mkdir()
        self.report = tmp_path / "report.json"
        env = dict(os.environ, TMPDIR=str(self.temp))
        self.process = subprocess.Popen(
            FOREGROUND_WATCH + ["--report", str(self.report), *options, "--", sys.executable, "prog.py"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
        self.output = {"stdout": b"", "stderr": b""}

    def wait_for(self, stream: str, text: str, timeout: float = 60) -> None:
        pipe = getattr(self.process, stream)
        selector = selectors.DefaultSelector()
        selector.register(pipe, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output[stream]:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} on {stream}: {self.output}"
            if selector.select(left):
                chunk = os.read(pipe.fileno(), 65536)
                assert chunk, f"{stream} closed before {text!r}: {self.output}"
                self.output[stream] += chunk
        selector.close()

    def finish(self, timeout: float = 60):
        try:
            out, err = self.process.communicate(timeout=timeout)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.output["stdout"] += out
        self.output["stderr"] += err
        return self.process.returncode, self.output["stderr"].decode()


def test_stall_in_progress_when_the_command_is_terminated_is_reported_with_its_line(tmp_path):
    running = Running(tmp_path, HUNG, "--dump-after", "0.3")
    # While it is stuck, --dump-after prints the stuck loop's stack.
    running.wait_for("stderr", "Stack (most recent call last):")
    running.wait_for("stderr", "time.sleep(60)  # STUCK")
    os.kill(running.process.pid, signal.SIGTERM)  # a CI job timeout, `docker stop`
    returncode, stderr = running.finish()
    assert returncode == -signal.SIGTERM  # offload ends as the command did
    report = json.loads(running.report.read_text())
    assert report["exit_code"] == 128 + signal.SIGTERM
    (stall,) = report["stalls"]
    row, _ = marked(tmp_path / "prog.py", "STUCK")
    assert stall["ongoing"] is True and stall["duration"] >= 0.3
    assert (stall["user_frame"]["row"], stall["user_frame"]["column"]) == (row, 5)
    assert stall["task"] == "Task-1" and stall["verdict"] == "blocking"
    assert f"prog.py:{row}:5: event loop stalled" in stderr and "still stalled at exit" in stderr
    assert "no event-loop stall" not in stderr
    assert list(running.temp.iterdir()) == []  # the watch directory is gone


@pytest.mark.parametrize("name", ["SIGINT", "SIGHUP", "SIGTERM", "SIGUSR1"])
def test_a_signal_sent_to_offload_alone_reaches_the_command_and_offload_ends_like_it(tmp_path, name):
    signum = getattr(signal, name)
    running = Running(tmp_path, IDLE)
    running.wait_for("stdout", "ready")
    os.kill(running.process.pid, signum)
    returncode, stderr = running.finish()
    assert returncode == -signum, stderr  # the command ended by this signal, and so did offload
    assert json.loads(running.report.read_text())["exit_code"] == 128 + signum
    assert list(running.temp.iterdir()) == []


def test_unwritable_report_path_is_refused_before_the_command_runs(tmp_path):
    result = watch("--report", str(tmp_path / "missing" / "r.json"), "--",
                   sys.executable, "-c", "open('ran', 'w')", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("offload: cannot write the report to ")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "ran").exists()


INJECT = """\
import asyncio, json, os, sys, time

async def main():
    await asyncio.sleep(0.01)
    time.sleep(0.2)  # STALL

asyncio.run(main())
directory = os.environ["OFFLOAD_WATCH_DIR"]
with open(os.path.join(directory, "1-bad.jsonl"), "w") as handle:
    handle.write(json.dumps({"type": "stall", "duration": 0.3, "verdict": {"not": "a string"}}) + "\\n")
    handle.write(json.dumps({"type": "stall", "duration": 0.3, "stack": [{"row": "x"}]}) + "\\n")
    handle.write("[1, 2]\\n")
os.mkdir(os.path.join(directory, "2-x.jsonl"))
with open(os.path.join(directory, "3-y.counts.json"), "w") as handle:
    handle.write('{"sites": [{"frame": 3}]}')
sys.exit(3)
"""


def test_malformed_records_in_the_watch_directory_are_skipped_and_the_status_kept(tmp_path):
    (tmp_path / "inject.py").write_text(INJECT)
    result = watch("--", sys.executable, "inject.py", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("unreadable record skipped") == 3
    assert "2-x.jsonl: not a regular file, skipped" in result.stderr
    assert "3-y.counts.json: unreadable counts skipped" in result.stderr
    row, _ = marked(tmp_path / "inject.py", "STALL")
    assert f"inject.py:{row}:5: event loop stalled" in result.stderr


def test_python_too_old_for_the_watchdog_is_named_instead_of_a_start_up_error(tmp_path):
    # The bootstrap as an old interpreter sees it (sys.version_info is what it checks).
    code = (
        "import sys\n"
        "sys.version_info = (3, 6, 15, 'final', 0)\n"
        f"sys.path.insert(0, {BOOTSTRAP_DIR!r})\n"
        "import sitecustomize\n"
        "print(sorted(m for m in sys.modules if m.startswith(('detector', '_offload'))))\n"
    )
    env = dict(os.environ, OFFLOAD_WATCH_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"
    assert out.stderr == (f"offload: {os.path.basename(sys.executable)} (Python 3.6.15, pid "
                          f"{json.loads(next(tmp_path.iterdir()).read_text())['pid']}) is not watched: "
                          "the watchdog needs Python 3.9+\n")


OLD_PYTHONS = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7"))
                     + glob.glob(os.path.expanduser("~/.pyenv/versions/3.[5-8].*/bin/python3.[5-8]")))


@pytest.mark.skipif(not OLD_PYTHONS, reason="no interpreter older than 3.9 installed")
@pytest.mark.parametrize("python", OLD_PYTHONS[:2])
def test_old_interpreter_under_watch_gets_one_clear_line(tmp_path, python):
    result = watch("--", python, "-c", "print('ran')", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == "ran\n"
    name = os.path.basename(python)
    lines = result.stderr.splitlines()
    assert lines[-1] == "offload: no process was watched"
    assert all(line.startswith(f"offload: {name} (Python ") and "needs Python 3.9+" in line for line in lines[:-1])
    assert "sitecustomize" not in result.stderr and "no event-loop stall" not in result.stderr
