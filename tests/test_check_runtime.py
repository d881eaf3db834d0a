"""End to end through the real `offload` CLI: watch a program, then join its stalls with check."""
from __future__ import annotations

import sys
from pathlib import Path

from offload_cli import run_offload as offload

PROGRAM = """import asyncio, time


async def main():
    time.sleep(0.4)
    await asyncio.sleep(0)


asyncio.run(main())
"""


def test_watch_then_check_runtime_confirms_the_finding(tmp_path: Path):
    (tmp_path / "prog.py").write_text(PROGRAM)
    watched = offload("watch", "--report", "stalls.json", "--", sys.executable, "prog.py", cwd=tmp_path)
    assert watched.returncode == 0, watched.stderr
    checked = offload("check", "prog.py", "--runtime", "stalls.json", cwd=tmp_path)
    assert checked.returncode == 1
    assert "prog.py:5:5: BLK100 confirmed (1 stall" in checked.stdout


def test_check_runtime_prints_each_finding_once_with_its_status_then_the_summary(tmp_path: Path):
    (tmp_path / "prog.py").write_text(PROGRAM.replace("await asyncio.sleep(0)", "await asyncio.sleep(0)\n    open(__file__).read()"))
    watched = offload("watch", "--report", "stalls.json", "--", sys.executable, "prog.py", cwd=tmp_path)
    assert watched.returncode == 0, watched.stderr
    checked = offload("check", "--no-cache", "prog.py", "--runtime", "stalls.json", cwd=tmp_path)
    heads = [line.split(":", 3)[:3] + line.split(":", 3)[3].split()[:3] for line in checked.stdout.splitlines()[:-1]]
    assert heads == [
        ["prog.py", "5", "5", "BLK100", "confirmed", "(1"],
        ["prog.py", "7", "5", "BLK130", "no", "stall"],
        ["prog.py", "7", "5", "BLK131", "no", "stall"],
    ], checked.stdout
    assert checked.stdout.splitlines()[-1] == "offload confirm: 1 confirmed, 2 with no stall observed, 0 runtime-only stalls"


def test_check_runtime_with_a_missing_report_is_an_error(tmp_path: Path):
    (tmp_path / "prog.py").write_text(PROGRAM)
    checked = offload("check", "prog.py", "--runtime", "missing.json", cwd=tmp_path)
    assert checked.returncode == 2
    assert "missing.json" in checked.stderr
