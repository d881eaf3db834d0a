"""Text output for people: colour (``--color``, ``NO_COLOR``, a real terminal), ``--show-source``,
``--quiet``, and the ``rules`` / ``rule`` commands."""
from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.catalog import builtin
from detector.cli import main
from detector.report import terminal
from detector.report.ruledocs import docs

ANSI = re.compile(r"\x1b\[[0-9;]*m")

APP = "import time\n\n\nasync def main():\n\tx = 'é'; time.sleep(1)\n    # end\n"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text("import time\n\n\nasync def main():\n    time.sleep(1)\n")
    return tmp_path


def run(*args, env=None):
    return CliRunner().invoke(main, ["check", *args], env=env, catch_exceptions=False)


def run_on_a_terminal(args, cwd: Path, env: dict) -> str:
    """Run the real ``offload`` with stdout on a pseudo-terminal; return what it printed there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "detector", *args], cwd=cwd, env=env,
                            stdout=follower, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_and_no_color_respected(project: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    coloured = run_on_a_terminal(["check", "app.py"], project, env)
    assert "\x1b[" in coloured and "BLK100" in coloured
    assert ANSI.sub("", coloured).replace("\r\n", "\n").startswith("app.py:5:5: BLK100 ")
    plain = run_on_a_terminal(["check", "app.py"], project, {**env, "NO_COLOR": "1"})
    assert "BLK100" in plain and "\x1b[" not in plain
    forced_off = run_on_a_terminal(["check", "--color", "never", "app.py"], project, env)
    assert "BLK100" in forced_off and "\x1b[" not in forced_off


def test_no_colour_when_piped_unless_always(project: Path):
    piped = run("app.py")
    assert "\x1b[" not in piped.stdout
    forced = run("--color", "always", "app.py", env={"NO_COLOR": "1"})  # an explicit flag wins over NO_COLOR
    assert "\x1b[" in forced.stdout
    assert ANSI.sub("", forced.stdout) == piped.stdout
    # Other formats are never coloured.
    assert "\x1b[" not in run("--color", "always", "--output-format", "json", "app.py").stdout


@pytest.mark.parametrize("choice, tty, no_color, expected", [
    ("auto", True, None, True),
    ("auto", True, "1", False),
    ("auto", True, "", True),  # an empty NO_COLOR does not count (no-color.org)
    ("auto", False, None, False),
    ("always", False, "1", True),
    ("never", True, None, False),
])
def test_use_color(choice, tty, no_color, expected):
    stream = io.StringIO()
    stream.isatty = lambda: tty  # type: ignore[method-assign]
    environ = {} if no_color is None else {"NO_COLOR": no_color}
    assert terminal.use_color(choice, stream, environ) is expected


def test_show_source_caret_under_the_reported_range(project: Path):
    (project / "app.py").write_text(APP)
    result = run("--show-source", "app.py")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("app.py:5:11: BLK100")  # a tab is one column
    assert lines[1:4] == [
        "  |",
        "5 | \tx = 'é'; time.sleep(1)",
        "  | \t         ^^^^^^^^^^^^^",
    ]
    # The carets sit exactly under the call: same prefix width, one caret per character.
    source, carets = lines[2][4:], lines[3][4:]
    start = carets.index("^")
    assert source[start:start + carets.count("^")] == "time.sleep(1)"


def test_show_source_with_chain_and_multiline_call(project: Path):
    (project / "app.py").write_text(
        "import subprocess\n\n\ndef helper():\n    subprocess.run(['ls'])\n\n\n"
        "async def main():\n    subprocess.run(\n        ['ls'],\n    )\n    helper()\n"
    )
    out = run("--show-source", "app.py").stdout.splitlines()
    first = out.index(next(line for line in out if ":9:5: BLK121" in line))
    assert out[first + 2] == "9 |     subprocess.run("
    assert out[first + 3] == "  |     ^^^^^^^^^^^^^^^"  # to the end of the first line
    chain = out.index(next(line for line in out if ":12:5: BLK200" in line))
    assert out[chain + 1].startswith("    -> app.py:5:5: subprocess.run() in helper")
    assert out[chain + 3] == "12 |     helper()"
    assert out[chain + 4] == "   |     ^^^^^^^^"


def test_show_source_from_stdin(project: Path):
    result = CliRunner().invoke(main, ["check", "-", "--stdin-filename", "piped.py", "--show-source"],
                                input="import time\nasync def f():\n    time.sleep(1)\n", catch_exceptions=False)
    assert "3 |     time.sleep(1)" in result.stdout


def test_quiet_prints_findings_only(project: Path):
    loud = run("app.py")
    assert "Found 1 finding" in loud.stderr
    quiet = run("-q", "app.py")
    assert quiet.exit_code == 1 and quiet.stderr == "" and quiet.stdout == loud.stdout
    (project / "app.py").write_text("async def f():\n    return 1\n")
    clean = run("--quiet", "app.py")
    assert clean.exit_code == 0 and clean.stdout == "" and clean.stderr == ""


def test_rules_table_has_code_name_family_and_fix():
    result = CliRunner().invoke(main, ["rules"], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["CODE", "NAME", "FAMILY", "FIX"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1:]}
    for code, rule in builtin().rules.items():
        assert rows[code] == [rule.name, rule.family, {"none": "-"}.get(rule.fix, rule.fix)]


def test_rule_docs_and_unknown_code():
    result = CliRunner().invoke(main, ["rule", "blk130"], catch_exceptions=False)
    assert result.exit_code == 0
    rule = builtin().rules["BLK130"]
    assert result.stdout.startswith("# BLK130 blocking-open\n")
    assert docs(rule).strip() in result.stdout
    assert "```python\n" + rule.examples.invalid[0] in result.stdout and "{invalid[0]}" not in result.stdout
    for heading in ("## What it does", "## Why is this bad", "## Example", "## Use instead", "## Fix safety"):
        assert heading in result.stdout
    missing = CliRunner().invoke(main, ["rule", "BLK999"], catch_exceptions=False)
    assert missing.exit_code == 2 and "unknown rule code" in missing.stderr
