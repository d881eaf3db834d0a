"""``--output-format github``: workflow commands the Actions runner turns into annotations.

There is no runner here, so ``parse`` below is a line-for-line port of the runner's parser
(actions/runner ``ActionCommand.TryParseV2`` and its unescape tables): what it reads back is
what GitHub would show.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.model import Finding, Hop, Location
from detector.report import github

_UNESCAPE_PROPERTY = [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")]
_UNESCAPE_DATA = [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")]


def _unescape(text: str, table) -> str:
    for replacement, token in table:
        text = text.replace(replacement, token)
    return text


def parse(line: str):
    """(command, properties, data) as the runner parses ``::command k=v,k=v::data``; None if it would not."""
    line = line.lstrip()
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info = line[2:end]
    name, _, props = info.partition(" ")
    properties = {}
    for item in (p for p in props.strip().split(",") if p):
        key, sep, value = item.partition("=")
        if sep and key and value:
            properties[key] = _unescape(value, _UNESCAPE_PROPERTY)
    return name, properties, _unescape(line[end + 2:], _UNESCAPE_DATA)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    return tmp_path


def test_cli_github_annotations(project: Path):
    (project / "sub").mkdir()
    (project / "sub" / "app.py").write_text(
        "import time\n\n\ndef helper():\n    time.sleep(1)\n\n\nasync def main():\n    open('x')\n    helper()\n"
    )
    result = CliRunner().invoke(main, ["check", "--output-format", "github"], catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("::error file=sub/app.py,line=9,col=5,endLine=9,endColumn=14,title=BLK130 blocking-open::")
    name, props, data = parse(lines[0])
    assert name == "error"
    assert props == {"file": "sub/app.py", "line": "9", "col": "5", "endLine": "9", "endColumn": "14",
                     "title": "BLK130 blocking-open"}
    assert data.startswith("blocking call `open()` in async function `main`")
    _, props, data = parse(lines[1])
    assert props["title"] == "BLK200 blocking-call-via-helper"
    # The chain follows the message on its own lines.
    assert data.splitlines()[1] == "-> sub/app.py:5:5: time.sleep() in helper"


def test_escaping_round_trips_through_the_runner_parser():
    nasty_file = "dir,with:odd%chars/50%,a::b.py"
    nasty_message = "100% blocking: a, b\r\nnext line :: with %0A literal"
    finding = Finding(
        code="BLK130", name="blocking-open", message=nasty_message, filename=nasty_file,
        location=Location(3, 7), end_location=Location(4, 2),
        chain=(Hop(nasty_file, 3, 7, "f", "g"), Hop("x.py", 1, 1, "g", "open")),
    )
    line = github.annotation(finding)
    assert "\n" not in line and "\r" not in line
    name, props, data = parse(line)
    assert name == "error"
    assert props == {"file": nasty_file, "line": "3", "col": "7", "endLine": "4", "endColumn": "2",
                     "title": "BLK130 blocking-open"}
    assert data == nasty_message + "\n-> x.py:1:1: open() in g"


def test_no_findings_prints_nothing(project: Path):
    (project / "ok.py").write_text("async def f():\n    return 1\n")
    result = CliRunner().invoke(main, ["check", "--output-format", "github"], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout == ""
