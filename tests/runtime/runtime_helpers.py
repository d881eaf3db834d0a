"""Helpers for the runtime tests: run programs under `offload watch`, find marked lines."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"
LOOPS = ["asyncio", "uvloop"]
# pytest.ini of the inner pytest sessions that test the plugin (pytester).
INNER_INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""
# `offload watch` without going through detector/cli.py.
WATCH = [sys.executable, "-c", "from detector.runtime.cli import watch; watch()"]


def marked(path: Path, marker: str):
    """(row, line) of the only line of ``path`` carrying ``# marker``."""
    hits = [
        (number, line)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.rstrip().endswith(f"# {marker}")
    ]
    assert len(hits) == 1, f"{marker} must mark exactly one line of {path}"
    return hits[0]


def span(line: str, expression: str):
    """1-based start column and exclusive end column of ``expression`` in ``line``."""
    start = line.index(expression)
    return start + 1, start + len(expression) + 1


def watch(*args: str, cwd: Path = PROGRAMS, env=None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        WATCH + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def watch_json(*command: str, threshold: str = "0.1", **kwargs) -> dict:
    """Run ``command`` under ``offload watch --format json``; the report it prints."""
    result = watch("--threshold", threshold, "--format", "json", "--", *command, **kwargs)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    report["_stderr"] = result.stderr
    report["_returncode"] = result.returncode
    return report

