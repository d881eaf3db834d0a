"""Multi-module fixture projects: transitive findings == the annotations across all files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixture_format import FIXTURES, expected

from detector.config import Config
from detector.runner import check_paths

PROJECTS = sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir())


def annotated(root: Path):
    want = set()
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        want.update((rel, row, code) for row, code in expected(path.read_text(encoding="utf-8")))
    return want


def reported(root: Path):
    result = check_paths([root], Config(root=root))
    assert result.errors == []
    return {(Path(os.path.abspath(f.filename)).relative_to(root).as_posix(), f.location.row, f.code)
            for f in result.findings}, result


@pytest.mark.parametrize("root", PROJECTS, ids=[p.name for p in PROJECTS])
def test_project_findings_match_annotations(root: Path):
    got, _ = reported(root)
    want = annotated(root)
    assert sorted(got - want) == [], "unexpected findings"
    assert sorted(want - got) == [], "missed findings"


def test_chain_goes_from_call_site_to_blocking_call():
    root = FIXTURES / "projects" / "depth"
    _, result = reported(root)
    deepest = [f for f in result.findings if f.call == "level5"][0]
    assert [hop.function for hop in deepest.chain] == ["handler", "level5", "level4", "level2", "level1"]
    assert [hop.call for hop in deepest.chain] == ["level5", "level4", "leaf.level2", "level1", "time.sleep"]
    last = deepest.chain[-1]
    assert last.filename.endswith(os.path.join("app", "leaf.py")) and last.row == 5
    record = deepest.to_dict()
    assert set(record["chain"][0]) == {"filename", "row", "column", "function", "call"}


def test_checking_one_file_still_sees_the_rest_of_the_project():
    root = FIXTURES / "projects" / "srclayout"
    result = check_paths([root / "src" / "corp" / "tools" / "jobs.py"], Config(root=root))
    assert [(f.code, f.location.row) for f in result.findings] == [("BLK200", 6), ("BLK200", 7)]
