"""Output that cannot be written: a reader that went away ends offload quietly, any other write
failure is one line on stderr and exit 2, for every command (the real CLI in a subprocess)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

BROKEN_PIPE = 128 + signal.SIGPIPE
DEV_FULL = Path("/dev/full")
ASYNC_PROGRAM = ["--", sys.executable, "-c", "import asyncio; asyncio.run(asyncio.sleep(0))"]


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    for number in range(30):  # output well over a pipe's or a stream buffer's size
        (tmp_path / f"a{number}.py").write_text("import time\n\n\nasync def f():\n    time.sleep(1)\n")
    return tmp_path


def _offload_with_stdout(args: List[str], cwd: Path, stdout: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "detector", *args], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, timeout=120)


def _with_closed_pipe(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    """``offload ARGS | head -0``, deterministically: the pipe's reader is gone before offload writes."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return _offload_with_stdout(args, cwd, writer)
    finally:
        os.close(writer)


def _into_full_device(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    with DEV_FULL.open("w") as full:
        return _offload_with_stdout(args, cwd, full.fileno())


@pytest.mark.parametrize("args", [
    ["check", "--no-cache", "--diff"],
    ["check", "--no-cache", "--unsafe-fixes", "--diff"],
    ["check", "--show-settings"],
    ["check", "--no-cache", "--output-format", "json"],
    ["rules"],
    ["check", "--help"],
    ["--version"],
    ["watch", "--format", "json", *ASYNC_PROGRAM],
], ids=lambda args: " ".join(args[:3]))
def test_a_reader_that_went_away_ends_offload_quietly(tmp_path, args):
    result = _with_closed_pipe(args, _project(tmp_path))
    assert result.returncode == BROKEN_PIPE, result.stderr
    assert "Traceback" not in result.stderr and "error" not in result.stderr, result.stderr


@pytest.mark.parametrize("args", [
    ["check", "--no-cache"],
    ["check", "--no-cache", "--diff"],
    ["check", "--no-cache", "--output-format", "json"],
], ids=lambda args: " ".join(args[2:]) or "text")
def test_a_reader_that_goes_away_after_the_first_line_ends_offload_quietly(tmp_path, args):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    functions = "".join(f"async def f{number}():\n    time.sleep(1)\n" for number in range(2000))
    (tmp_path / "m.py").write_text("import time\n" + functions)  # output far over a pipe's capacity
    process = subprocess.Popen([sys.executable, "-m", "detector", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()  # ``offload check | head -1``
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == BROKEN_PIPE, stderr
    assert "Traceback" not in stderr and "error" not in stderr, stderr


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [
    ["check", "--no-cache", "--output-format", "json"],
    ["check", "--no-cache", "--diff"],
    ["check", "--show-settings"],
    ["--help"],
    ["watch", "--format", "json", *ASYNC_PROGRAM],
], ids=lambda args: " ".join(args[:3]))
def test_output_that_cannot_be_written_is_one_line_and_exit_2(tmp_path, args):
    result = _into_full_device(args, _project(tmp_path))
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert errors == ["error: cannot write output: No space left on device"], result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full")
def test_watch_exits_2_when_its_report_cannot_be_written(tmp_path):
    program = tmp_path / "app.py"
    program.write_text("import asyncio\nasyncio.run(asyncio.sleep(0))\n")
    result = subprocess.run([sys.executable, "-m", "detector", "watch", "--report", str(DEV_FULL), "--",
                             sys.executable, str(program)], cwd=tmp_path, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"offload: cannot write {DEV_FULL}: No space left on device" in result.stderr
    assert "Traceback" not in result.stderr
