"""The real CLI through click's CliRunner, on real files in temporary directories."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector import __version__
from detector.cli import main

BLOCKING = "import asyncio, time\n\n\nasync def main():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def main():\n    await asyncio.sleep(1)\n"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_findings_exit_1_with_path_line_col_code(project: Path):
    (project / "app.py").write_text(BLOCKING)
    result = run("check", "app.py")
    assert result.exit_code == 1
    assert result.stdout.startswith("app.py:5:5: BLK100 blocking call `time.sleep()` in async function `main`")
    assert "Found 1 finding" in result.stderr


def test_clean_exit_0_and_exit_zero(project: Path):
    (project / "ok.py").write_text(CLEAN)
    assert run("check").exit_code == 0
    (project / "bad.py").write_text(BLOCKING)
    assert run("check").exit_code == 1
    assert run("check", "--exit-zero").exit_code == 0


def test_json_output_schema(project: Path):
    (project / "app.py").write_text(BLOCKING)
    records = json.loads(run("check", "--output-format", "json").stdout)
    assert records == [{
        "code": "BLK100",
        "name": "blocking-sleep",
        "message": records[0]["message"],
        "filename": "app.py",
        "location": {"row": 5, "column": 5},
        "end_location": {"row": 5, "column": 18},
        "fix": {"applicability": "safe", "message": "Replace with `await asyncio.sleep(1)`"},
    }]


def test_missing_path_is_an_error_but_other_results_still_show(project: Path):
    (project / "app.py").write_text(BLOCKING)
    result = run("check", "app.py", "nope.py")
    assert result.exit_code == 2
    assert "nope.py: no such file or directory" in result.stderr
    assert "BLK100" in result.stdout


def test_unparsable_file_is_a_diagnostic_not_a_crash(project: Path):
    (project / "broken.py").write_text("def f(:\n    pass\n")
    (project / "app.py").write_text(BLOCKING)
    result = run("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("app.py:5:5: BLK100") for line in lines)
    assert any(line.startswith("broken.py:1:") and "BLK900 syntax error" in line for line in lines)


def test_undecodable_file(project: Path):
    (project / "latin.py").write_bytes(b"\xff\xfe\x00bad = 1\n")
    result = run("check")
    assert result.exit_code == 1
    assert "latin.py:1:1: BLK901 cannot decode file" in result.stdout


def test_directory_without_python_files(project: Path):
    (project / "empty").mkdir()
    result = run("check", "empty")
    assert result.exit_code == 2
    assert "empty: no Python files found" in result.stderr


def test_stdin_with_stdin_filename(project: Path):
    result = run("check", "-", "--stdin-filename", "pkg/mod.py", input=BLOCKING)
    assert result.exit_code == 1
    assert result.stdout.startswith("pkg/mod.py:5:5: BLK100")


def test_stdin_summary_does_not_offer_fix_which_refuses_stdin(project: Path):
    result = run("check", "-", input=BLOCKING)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "Found 1 finding in 1 file checked."
    assert run("check", "--fix", "-", input=BLOCKING).exit_code == 2


def test_unknown_config_key_is_an_error(project: Path):
    (project / "pyproject.toml").write_text("[tool.offload]\nselcet = ['BLK1']\n")
    (project / "app.py").write_text(BLOCKING)
    result = run("check")
    assert result.exit_code == 2
    assert "unknown key 'selcet' (did you mean 'select'?)" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("body, message", [
    ("target-version = 'py2'", "target-version: 'py2' is not one of"),
    ("select = ['E501']", "'E501' is not a rule code or prefix"),
    ("unsafe-fixes = 'yes'", "unsafe-fixes: expected true or false"),
    ("[[tool.offload.blocking-calls]]\ncode = 'BLK130'", "missing key 'calls'"),
    ("[[tool.offload.blocking-calls]]\ncode = 'BLK195'\nname = 'x'\nsummary = 'y'\ncalls = ['x.y']\nremedy = 'pray'",
     "remedy 'pray' is not one of"),
    ("[[tool.offload.blocking-calls]]\ncalls = ['x.y']\nremedy = 'none'", "cannot be set when adding calls to BLK190"),
])
def test_bad_config_values(project: Path, body: str, message: str):
    (project / "pyproject.toml").write_text(f"[tool.offload]\n{body}\n")
    (project / "app.py").write_text(BLOCKING)
    result = run("check")
    assert result.exit_code == 2
    assert message in result.stderr


def test_invalid_toml_is_an_error(project: Path):
    (project / "offload.toml").write_text("select = [\n")
    (project / "app.py").write_text(BLOCKING)
    result = run("check", "--config", "offload.toml")
    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr


def test_select_ignore_and_statistics(project: Path):
    (project / "app.py").write_text(BLOCKING + "    open('x')\n")
    assert run("check", "--select", "BLK13").stdout.count("BLK130") == 1
    assert "BLK100" not in run("check", "--ignore", "BLK100").stdout
    stats = run("check", "--statistics").stdout
    assert "1  BLK100  blocking-sleep" in stats and "1  BLK130  blocking-open" in stats
    bad = run("check", "--select", "nonsense")
    assert bad.exit_code == 2 and "not a rule code" in bad.stderr


def test_statistics_in_json_are_json_and_other_formats_are_refused(project: Path):
    import json

    (project / "app.py").write_text(BLOCKING + "    open('x')\n    time.sleep(2)\n")
    result = run("check", "--statistics", "--output-format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{"code": "BLK100", "name": "blocking-sleep", "count": 2},
                                         {"code": "BLK130", "name": "blocking-open", "count": 1}]
    for other in ("sarif", "github"):
        refused = run("check", "--statistics", "--output-format", other)
        assert refused.exit_code == 2 and refused.stdout == ""
        assert f"error: --statistics prints text or json, not {other}" in refused.stderr


def test_config_from_pyproject_select_per_file_ignores_and_exclude(project: Path):
    (project / "pyproject.toml").write_text(
        "[tool.offload]\nexclude = ['vendored']\n[tool.offload.per-file-ignores]\n'tests/*' = ['BLK1']\n"
    )
    for folder in ("vendored", "tests", "src"):
        (project / folder).mkdir()
        (project / folder / "m.py").write_text(BLOCKING)
    result = run("check")
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [os.path.join("src", "m.py")]


def test_user_blocking_calls_extend_the_catalogue(project: Path):
    (project / "pyproject.toml").write_text(
        "[tool.offload]\n"
        "[[tool.offload.blocking-calls]]\ncalls = ['legacy.fetch']\n"
        "[[tool.offload.blocking-calls]]\ncode = 'BLK110'\ncalls = ['vendor.http.get']\n"
    )
    (project / "app.py").write_text(
        "import legacy\nfrom vendor import http\n\nasync def f():\n    legacy.fetch()\n    http.get('u')\n"
    )
    codes = [line.split()[1] for line in run("check").stdout.splitlines()]
    assert codes == ["BLK190", "BLK110"]


def test_skip_file(project: Path):
    (project / "app.py").write_text("# offload: skip-file\n" + BLOCKING)
    assert run("check").exit_code == 0


def test_crlf_and_bom_files_report_the_same_positions(project: Path):
    (project / "crlf.py").write_bytes(BLOCKING.replace("\n", "\r\n").encode())
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + BLOCKING.encode())
    lines = run("check").stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == ["bom.py:5:5", "crlf.py:5:5"]


def test_version_and_help():
    assert run("--version").stdout.strip() == f"offload, version {__version__}"
    help_text = run("check", "--help").stdout
    for option in ("--output-format", "--select", "--ignore", "--exit-zero", "--config", "--stdin-filename", "--statistics"):
        assert option in help_text
