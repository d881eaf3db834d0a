"""Every rule's catalogue examples, checked with the real ``offload check``: an invalid example
is reported by its rule, a valid one is not, and ``--fix`` writes exactly the fixed one."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from rule_examples import fixed, reported

from detector.catalog import Rule, builtin
from detector.report.ruledocs import describe

RULES = sorted(builtin().rules.values(), key=lambda rule: rule.code)
SHOWN = [rule for rule in RULES if rule.examples.invalid]


def examples(kind: str) -> List[object]:
    return [pytest.param(rule, source, id=f"{rule.code}-{kind}-{i}")
            for rule in RULES for i, source in enumerate(getattr(rule.examples, kind))]


@pytest.mark.parametrize("rule, source", examples("invalid"))
def test_invalid_example_is_reported_by_its_rule(tmp_path: Path, rule: Rule, source: str) -> None:
    assert rule.code in reported(tmp_path, rule, source)


@pytest.mark.parametrize("rule, source", examples("valid"))
def test_valid_example_is_not_reported_by_its_rule(tmp_path: Path, rule: Rule, source: str) -> None:
    assert rule.code not in reported(tmp_path, rule, source)


@pytest.mark.parametrize("rule", SHOWN, ids=[rule.code for rule in SHOWN])
def test_fix_writes_the_fixed_example_or_nothing(tmp_path: Path, rule: Rule) -> None:
    """``fixed`` is what --fix writes from the first invalid example; without one, --fix changes nothing."""
    first = rule.examples.invalid[0]
    assert fixed(tmp_path, rule, first) == (rule.examples.fixed[0] if rule.examples.fixed else first)


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_docs_show_code_only_from_the_examples(rule: Rule) -> None:
    """Code in the docs comes from the examples, so the tests above keep it true."""
    assert "```python" not in rule.docs
    text = describe(rule)
    if rule.code.startswith("BLK9"):
        return  # diagnostics: a file offload cannot analyse, not a pattern in code
    assert rule.examples.invalid, f"{rule.code} has no invalid example"
    assert "## Example\n```python\n" + rule.examples.invalid[0] in text + "\n"

