"""A rule is its catalogue entry plus one registered check: with nothing else added, it is
reported, selected and ignored like any rule, documented by ``offload rule``, and its examples
run as tests."""
from __future__ import annotations

import json
import mimetypes
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from rule_examples import fixed, reported

from detector import catalog
from detector.analysis import checks
from detector.analysis.checks import Scan, check
from detector.cli import main
from detector.model import Finding

FIXTURE_RULE = '''
family = "fixture"

[[rule]]
code = "BLK399"
name = "monotonic-in-coroutine"
summary = "time.monotonic() in an async function"
calls = []
remedy = "none"
fix = "none"
message = "`{call}()` in async function `{function}`: {advice}"
docs = """
## What it does
Finds `time.monotonic()` in async functions, where the loop has its own clock.

## Example
{invalid[0]}

## Use instead
{valid[0]}
"""

[rule.examples]
invalid = ["import time\\n\\nasync def main():\\n    return time.monotonic()\\n"]
valid = ["import asyncio\\n\\nasync def main():\\n    return asyncio.get_running_loop().time()\\n"]
'''


def monotonic_in_coroutine(scan: Scan) -> Iterator[Finding]:
    for site in scan.sites:
        if site.function.is_async and site.call.target == "time.monotonic":
            yield scan.finding("BLK399", site.module, site.call, site.name, advice="use the loop's clock")


@pytest.fixture
def fixture_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[catalog.Rule]:
    """The shipped catalogue plus fixture.toml, and the check of BLK399 registered."""
    rules = tmp_path / "rules"
    shutil.copytree(catalog.rules_dir(), rules)
    (rules / "fixture.toml").write_text(FIXTURE_RULE, encoding="utf-8")
    monkeypatch.setattr(catalog, "rules_dir", lambda: rules)
    monkeypatch.setattr(catalog, "_BUILTIN", [])
    check("BLK399")(monotonic_in_coroutine)
    try:
        yield catalog.builtin().rules["BLK399"]
    finally:
        del checks.CHECKS["BLK399"]


def offload(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def test_a_registered_rule_is_reported_selected_and_documented(fixture_rule: catalog.Rule, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("import time\n\nasync def main():\n    return time.monotonic()\n", encoding="utf-8")
    checked = ["check", "--no-cache", "-j", "1", "--output-format", "json", "app.py"]

    found = json.loads(offload(*checked))
    assert [(f["code"], f["name"], f["message"]) for f in found] == [
        ("BLK399", "monotonic-in-coroutine", "`time.monotonic()` in async function `main`: use the loop's clock")]
    assert json.loads(offload(*checked, "--select", "BLK3")) == found
    assert json.loads(offload(*checked, "--ignore", "BLK399")) == []

    listed = offload("rules")
    assert "BLK399" in listed and "monotonic-in-coroutine" in listed
    documented = offload("rule", "BLK399")
    assert "## Example\n```python\nimport time\n\nasync def main():\n    return time.monotonic()\n```" in documented


def test_a_registered_rule_runs_its_examples(fixture_rule: catalog.Rule, tmp_path: Path) -> None:
    assert "BLK399" in reported(tmp_path, fixture_rule, fixture_rule.examples.invalid[0])
    assert "BLK399" not in reported(tmp_path, fixture_rule, fixture_rule.examples.valid[0])
    assert fixed(tmp_path, fixture_rule, fixture_rule.examples.invalid[0]) == fixture_rule.examples.invalid[0]


def test_an_opt_in_rule_runs_only_when_named(fixture_rule: catalog.Rule, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    rules = catalog.rules_dir()
    (rules / "fixture.toml").write_text(FIXTURE_RULE.replace('fix = "none"\n', 'fix = "none"\nopt-in = true\n'),
                                        encoding="utf-8")
    monkeypatch.setattr(catalog, "_BUILTIN", [])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("import time\n\nasync def main():\n    return time.monotonic()\n", encoding="utf-8")
    checked = ["check", "--no-cache", "-j", "1", "--output-format", "json", "app.py"]
    assert json.loads(offload(*checked)) == []
    assert json.loads(offload(*checked, "--select", "BLK3")) == []
    assert [f["code"] for f in json.loads(offload(*checked, "--select", "BLK399"))] == ["BLK399"]
    assert "Opt-in: runs only when selected by its full code (`--select BLK399`)." in offload("rule", "BLK399")


def test_every_check_is_a_catalogue_rule_with_its_own_message() -> None:
    rules = catalog.builtin().rules
    for code in checks.registered():
        assert code in rules, f"check {code} has no catalogue entry"
        assert rules[code].message != catalog.CALL_MESSAGE, f"{code} needs its own message template"


def test_mimetypes_reads_no_file_once_a_call_at_import_loaded_it():
    # The facts behind BLK181's loaded-once entry, on the running Python: after one of its `after`
    # calls, each of its `calls` reads no file; init() reads them again.
    code = '''
import builtins, mimetypes
from detector.catalog import builtin
[group] = [g for rule in builtin().rules.values() for g in rule.loaded_once]
mimetypes.add_type("image/webp", ".webp")
def refuse(*args, **kwargs):
    raise AssertionError(f"read {args[0]!r}")
builtins.open = refuse
for name in sorted(group.calls):
    function = getattr(mimetypes, name.rpartition(".")[2], None)
    if function is None:
        continue  # guess_file_type is new in 3.13
    function() if name.endswith("MimeTypes") else function("image/png" if "extension" in name else "a.png")
assert "mimetypes.init" not in group.calls
try:
    mimetypes.init()
except AssertionError:
    print("init reads")
'''
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    system_files = any(os.path.isfile(name) for name in mimetypes.knownfiles)
    assert run.returncode == 0 and run.stdout == ("init reads\n" if system_files else ""), run.stderr
