"""A clean copy of the project's source tree: what a fresh clone would hold, build artefacts left out."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARTEFACTS = (".git", "build", "dist", "*.egg-info", "__pycache__", ".ci-venv", ".venv", ".offload_cache")


def copy_source_tree(target: Path) -> Path:
    """Copy the working tree (tracked and untracked files, ignored ones aside) to ``target``.

    Outside a git checkout (an unpacked sdist) everything but build artefacts is copied.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout:
        for name in filter(None, listed.stdout.split("\0")):
            if (REPO / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, target / name)
    else:
        shutil.copytree(REPO, target, ignore=shutil.ignore_patterns(*ARTEFACTS))
    return target
