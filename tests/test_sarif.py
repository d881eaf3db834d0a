"""``--output-format sarif`` is valid SARIF 2.1.0 (checked by jsonschema against the official OASIS
schema in tests/data), and what it says matches the findings: rules, locations, chains, fixes."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from detector import __version__
from detector.catalog import builtin
from detector.cli import main
from detector.config import Config
from detector.fix import plan_findings
from detector.report import sarif
from detector.report.ruledocs import docs
from detector.runner import check_source

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

APP = '''import sqlite3
import asyncio, time

import requests

from pkg.helpers import load


async def main(path):
    time.sleep(1)
    data = requests.get("https://example.com").json()
    text = load(path)
    db = sqlite3.connect("x.db")
    return data, text, db
'''

HELPERS = '''def load(path):
    return _read(path)


def _read(path):
    with open(path) as handle:
        return handle.read()
'''


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The file is the OASIS errata01 schema, not a hand-written subset.
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.fixture()
def project(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "helpers.py").write_text(HELPERS)
    (tmp_path / "pkg" / "app.py").write_text(APP)
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    return tmp_path


def run_sarif(*args, input=None) -> dict:
    result = CliRunner().invoke(main, ["check", "--output-format", "sarif", *args], input=input, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def apply(source: str, replacements) -> str:
    """Apply SARIF replacements by their char offsets (from the end, so offsets stay valid)."""
    for rep in sorted(replacements, key=lambda r: r["deletedRegion"]["charOffset"], reverse=True):
        region = rep["deletedRegion"]
        start, length = region["charOffset"], region["charLength"]
        source = source[:start] + rep.get("insertedContent", {}).get("text", "") + source[start + length:]
    return source


def offset_of(source: str, line: int, column: int) -> int:
    lines = source.splitlines(keepends=True)
    return sum(len(text) for text in lines[:line - 1]) + column - 1


def test_cli_sarif_validates_against_the_official_schema(project: Path, validator):
    log = run_sarif()
    assert_valid(validator, log)
    assert log["version"] == "2.1.0"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "offload" and driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")


def test_rules_carry_the_catalogue(project: Path):
    rules = run_sarif()["runs"][0]["tool"]["driver"]["rules"]
    catalogue = builtin().rules
    assert [r["id"] for r in rules] == sorted(catalogue)
    for descriptor in rules:
        rule = catalogue[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["markdown"] == (docs(rule).strip() or rule.summary)
        assert "{invalid[0]}" not in descriptor["fullDescription"]["markdown"]  # examples shown as code
        assert descriptor["help"]["markdown"].startswith(f"# {rule.code} {rule.name}")
        assert descriptor["defaultConfiguration"]["level"] == "error"


def test_results_locations_and_rule_index(project: Path):
    log = run_sarif()
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"BLK100", "BLK110", "BLK160", "BLK200", "BLK900"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert "\\" not in location["artifactLocation"]["uri"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    sleep = next(r for r in results if r["ruleId"] == "BLK100")
    assert sleep["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "pkg/app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 10, "startColumn": 5, "endLine": 10, "endColumn": 18},
    }
    assert sleep["message"]["text"].startswith("blocking call `time.sleep()`")
    broken = next(r for r in results if r["ruleId"] == "BLK900")
    assert broken["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    assert "fixes" not in broken and "fix" not in broken["properties"]
    # Identical findings get distinct, stable fingerprints.
    prints = [r["partialFingerprints"]["offload/v1"] for r in results]
    assert len(set(prints)) == len(prints)
    assert prints == [r["partialFingerprints"]["offload/v1"] for r in run_sarif()["runs"][0]["results"]]


def test_transitive_finding_has_related_locations_and_code_flow(project: Path):
    results = run_sarif()["runs"][0]["results"]
    chain = next(r for r in results if r["ruleId"] == "BLK200")
    related = chain["relatedLocations"]
    assert [(loc["physicalLocation"]["artifactLocation"]["uri"], loc["physicalLocation"]["region"]["startLine"],
             loc["message"]["text"]) for loc in related] == [
        ("pkg/app.py", 12, "load() in main"),
        ("pkg/helpers.py", 2, "_read() in load"),
        ("pkg/helpers.py", 6, "open() in _read"),
    ]
    assert [loc["id"] for loc in related] == [0, 1, 2]
    steps = chain["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [s["location"]["physicalLocation"] for s in steps] == [loc["physicalLocation"] for loc in related]
    assert [s["executionOrder"] for s in steps] == [1, 2, 3]


def test_fixes_are_real_edits_that_remove_the_finding(project: Path):
    results = run_sarif()["runs"][0]["results"]
    source = (project / "pkg" / "app.py").read_text()
    fixed_codes = set()
    for result in results:
        if "fixes" not in result:
            continue
        change = result["fixes"][0]["artifactChanges"][0]
        assert change["artifactLocation"]["uri"] == "pkg/app.py"
        for rep in change["replacements"]:
            region = rep["deletedRegion"]  # line/column and offsets name the same place
            assert offset_of(source, region["startLine"], region["startColumn"]) == region["charOffset"]
            assert offset_of(source, region["endLine"], region["endColumn"]) == region["charOffset"] + region["charLength"]
        fixed = apply(source, change["replacements"])
        compile(fixed, "app.py", "exec")
        assert "import asyncio" in fixed
        after = check_source(fixed, "pkg/app.py")
        assert result["ruleId"] not in {f.code for f in after if f.call == result["properties"]["call"]}
        assert result["properties"]["fix"]["applicability"] in ("safe", "unsafe")
        fixed_codes.add(result["ruleId"])
    assert fixed_codes == {"BLK100", "BLK110", "BLK200"}
    sleep = next(r for r in results if r["ruleId"] == "BLK100")
    assert "await asyncio.sleep(1)" in apply(source, sleep["fixes"][0]["artifactChanges"][0]["replacements"])
    # A rule without a fix (BLK160) has no fixes; its fix record is a suggestion that says why.
    db = next(r for r in results if r["ruleId"] == "BLK160")
    assert "fixes" not in db
    assert db["properties"]["fix"]["applicability"] == "suggestion" and db["properties"]["fix"]["reason"]


def test_stdin_sarif_has_fixes_from_the_piped_source(project: Path, validator):
    log = run_sarif("-", "--stdin-filename", "piped.py", input="import asyncio, time\n\nasync def f():\n    time.sleep(2)\n")
    assert_valid(validator, log)
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "piped.py"
    assert result["fixes"][0]["artifactChanges"][0]["replacements"]


def test_no_findings_is_a_valid_empty_run(tmp_path: Path, validator, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.py").write_text("async def f():\n    return 1\n")
    result = CliRunner().invoke(main, ["check", "--output-format", "sarif"], catch_exceptions=False)
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    assert_valid(validator, log)
    assert log["runs"][0]["results"] == []


def test_paths_outside_the_root_and_odd_characters(tmp_path: Path, validator):
    source = "import asyncio, time\n\nasync def f():\n    x = 'é'; time.sleep(1)\n"
    findings = check_source(source, str(tmp_path / "dir with space" / "m.py"))
    sources = {findings[0].filename: source.encode()}
    log = json.loads(sarif.render(plan_findings(findings, Config(), sources), sources=sources, root=tmp_path / "elsewhere"))
    assert_valid(validator, log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].startswith("file:///")
    assert "uriBaseId" not in location["artifactLocation"]
    inside = json.loads(sarif.render(findings, with_fixes=False, root=tmp_path))
    uri = inside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/m.py"
    # Columns are code points (run.columnKind): the é counts as one.
    assert inside["runs"][0]["columnKind"] == "unicodeCodePoints"
    assert location["region"]["startColumn"] == 14


def test_each_fix_is_the_rewrite_of_its_finding_alone_also_in_crlf_and_latin1():
    from detector.fix import fix_source

    remedies = {code: rule.remedy for code, rule in builtin().rules.items()}
    source = ("# -*- coding: latin-1 -*-\r\nimport asyncio, time\r\nNAME = 'Jos\xe9'\r\n\r\n\r\nasync def f():\r\n"
              "    time.sleep(1)\r\n    time.sleep(2)\r\n").encode("latin-1")
    findings = check_source(source, "m.py")
    assert len(findings) == 2
    log = json.loads(sarif.render(plan_findings(findings, Config(), {"m.py": source}), sources={"m.py": source}))
    for finding, result in zip(findings, log["runs"][0]["results"]):
        alone = fix_source(source, [finding], remedies, filename="m.py").fixed.decode("latin-1")
        replacements = result["fixes"][0]["artifactChanges"][0]["replacements"]
        assert apply(source.decode("latin-1"), replacements) == alone
