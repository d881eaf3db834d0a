"""Every annotated fixture: reported == annotated, and noqa on each annotation silences it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixture_format import FIXTURES, as_noqa, expected

from detector.config import Config
from detector.runner import check_source

DIRECT = sorted(p for p in (FIXTURES / "direct").glob("*.py") if not p.name.endswith(".fixed.py"))


def reported(text: str, name: str):
    """Findings by (row, code); a ``# offload-select: A,B`` header line selects rules."""
    select = re.search(r"^# offload-select: (\S+)", text, re.MULTILINE)
    config = Config(select=tuple(select.group(1).split(","))) if select else Config()
    return {(f.location.row, f.code) for f in check_source(text, name, config)}


@pytest.mark.parametrize("path", DIRECT, ids=[p.stem for p in DIRECT])
def test_reported_matches_annotations(path: Path):
    text = path.read_text(encoding="utf-8")
    want = expected(text)
    got = reported(text, path.name)
    assert sorted(got - want) == [], "unexpected findings"
    assert sorted(want - got) == [], "missed findings"


@pytest.mark.parametrize("path", DIRECT, ids=[p.stem for p in DIRECT])
def test_noqa_on_each_annotation_silences_it(path: Path):
    text = path.read_text(encoding="utf-8")
    if not expected(text):
        pytest.skip("negative-only fixture")
    assert reported(as_noqa(text), path.name) == set()


def test_every_fixture_set_is_not_empty():
    assert len(DIRECT) >= 10
    assert sum(len(expected(p.read_text(encoding="utf-8"))) for p in DIRECT) >= 100
