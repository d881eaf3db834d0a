"""Run the real ``offload`` command line in a subprocess, as a user's shell would."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_offload(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``offload ARGS`` in ``cwd``, text output, no standard input."""
    return subprocess.run([sys.executable, "-m", "detector", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
