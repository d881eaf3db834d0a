"""A virtual environment's directory layout in tmp_path, with library files and dist-info directories."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Dict

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def write(base: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def install(venv: Path, files: Dict[str, str], dists: Dict[str, str] = {}) -> Path:
    """A virtual environment's layout with ``files`` in its site-packages; ``dists``: name-version -> top level."""
    site = venv / "lib" / PY / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    write(site, files)
    for dist, top in dists.items():
        info = site / f"{dist}.dist-info"
        info.mkdir()
        (info / "top_level.txt").write_text(top + "\n")
    return site
