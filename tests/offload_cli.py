"""Run the ``offload`` command line: in a subprocess, as a user's shell would, or in this process.

``run_offload`` is for what belongs to the process: its exit status as the shell sees it,
signals, hangs caught by a timeout, crashes of native code, the real standard streams.
``invoke_offload`` runs the same click command here (no interpreter start-up, libcst already
imported), for tests of what the analysis decides, prints and exits with.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional, Union


def run_offload(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``offload ARGS`` in ``cwd``, text output, no standard input."""
    return subprocess.run([sys.executable, "-m", "detector", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def invoke_offload(*args: str, cwd: Path, input: Optional[Union[str, bytes]] = None,
                   text: bool = True) -> subprocess.CompletedProcess:
    """``offload ARGS`` in ``cwd`` through click in this process: returncode, stdout, stderr as
    ``run_offload`` gives them (bytes with ``text=False``); standard input empty unless given."""
    from click.testing import CliRunner

    from detector.cli import main

    previous = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(previous)
    if text:
        return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout_bytes, result.stderr_bytes)
