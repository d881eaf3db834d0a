"""The built wheel ships the catalogue and the entry points (tests run against the installed package)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from source_tree import REPO, copy_source_tree

import detector
from detector import catalog


def test_wheel_contains_catalogue_and_entry_points(tmp_path: Path):
    # Built from a clean copy: a stale build/ or egg-info in the checkout must not fill the wheel.
    source = copy_source_tree(tmp_path / "source")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(source)],
        check=True, timeout=300,
    )
    wheel = next(tmp_path.glob("offload-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("detector/rules/") and n.endswith(".toml")}
    assert shipped == {p.name for p in (REPO / "rules").glob("*.toml")}
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "offload = detector.cli:main" in text and "offload = detector.runtime.pytest_plugin" in text


def test_catalogue_loads_from_wherever_detector_is_installed():
    assert catalog.rules_dir().is_dir()
    assert len(catalog.builtin().rules) >= 15
    if "site-packages" in detector.__file__:
        assert "site-packages" in str(catalog.rules_dir())
