"""Generated and mutated programs never make `offload check` raise, crash or disagree with itself.

A small budget of what ``benchmarks/fuzz.py`` runs at scale (10,000 programs by default).
"""
from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies

from detector.runner import check_source

FUZZ_SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz.py"

pytestmark = pytest.mark.fuzz


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("offload_fuzz", FUZZ_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _programs() -> strategies.SearchStrategy[str]:
    # Built when the test first draws, not at collection: the grammar's parser takes seconds to build.
    import hypothesmith

    return hypothesmith.from_grammar() | hypothesmith.from_node()


@settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(strategies.deferred(_programs))
def test_generated_programs_never_make_the_analysis_fail(source: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings of the generated code
        findings = check_source(source.encode("utf-8", "surrogatepass"), "generated.py")
    assert not [f for f in findings if f.code == "BLK903"]


def test_mutated_asyncio_modules_give_the_same_findings_with_and_without_cache_and_workers():
    fuzz = _fuzz_module()
    programs = fuzz.mutated(30, seed=1) + [b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n"]
    problems = fuzz.check_batch(programs, timeout=240)
    assert [p.what for p in problems] == []
