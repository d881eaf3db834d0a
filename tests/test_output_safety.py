"""Text from the checked files reaches the terminal escaped (file names, quoted code, source
lines), whatever ``--color`` says; a file name that is not UTF-8 is shown and encoded, not a
crash; ``--show-source`` decodes a file with its declared encoding."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from offload_cli import invoke_offload

ESC, BEL = "\x1b", "\x07"
OUR_COLOURS = re.compile("\x1b\\[(?:0|1|2|31|34|36)m")


def offload(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """In a process of its own: how a file name that is not UTF-8 reaches its real standard output."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "detector", "check", "--no-cache", *args], cwd=cwd, env=env,
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def in_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The same check in this process: what it prints, as UTF-8 bytes."""
    return invoke_offload("check", "--no-cache", *args, cwd=cwd, text=False)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "esc.py").write_text(
        "def helper():\n"
        f"    return open(\"{ESC}]0;TITLE{BEL}{ESC}[2K{ESC}[1Gfake\\u202e\").read()\n"
        "\n\nasync def handler():\n    helper()\n")
    (tmp_path / "showsrc.py").write_text(
        "import time\n\n\nasync def handler():\n"
        f"    time.sleep(1)  # {ESC}]0;TITLE-HIJACK{BEL}{ESC}[2K{ESC}[1Ahidden \u202eevil\n")
    (tmp_path / f"name{ESC}[31mRED.py").write_text("import time\n\n\nasync def h():\n    time.sleep(1)\n")
    return tmp_path


def without_our_colours(output: bytes) -> str:
    return OUR_COLOURS.sub("", output.decode("utf-8"))


@pytest.mark.parametrize("color", ["never", "always"])
def test_control_characters_from_checked_files_are_escaped(project: Path, color: str):
    result = in_process("--color", color, "--show-source", ".", cwd=project)
    assert result.returncode == 1, result.stderr
    shown = without_our_colours(result.stdout)
    for unsafe in (ESC, BEL, "\u202e"):
        assert unsafe not in shown
    assert "name\\x1b[31mRED.py:5:5:" in shown
    assert 'open("\\x1b]0;TITLE\\x07\\x1b[2K\\x1b[1Gfake\\u202e").read()' in shown
    assert "# \\x1b]0;TITLE-HIJACK\\x07\\x1b[2K\\x1b[1Ahidden \\u202eevil" in shown


def test_carets_stay_under_the_call_after_escapes(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "m.py").write_text(f"import time\n\n\nasync def h():\n    x = '{ESC}'; time.sleep(1)\n")
    out = in_process("--color", "never", "--show-source", "m.py", cwd=tmp_path).stdout.decode().splitlines()
    source, carets = out[2], out[3]
    assert source == "5 |     x = '\\x1b'; time.sleep(1)"
    assert source.index("time.sleep") == carets.index("^")
    assert carets.count("^") == len("time.sleep(1)")


def test_github_annotations_escape_control_characters(project: Path):
    result = in_process("--output-format", "github", "esc.py", cwd=project)
    assert ESC not in result.stdout.decode() and BEL not in result.stdout.decode()
    assert "\\x1b]0;TITLE\\x07" in result.stdout.decode()


@pytest.fixture()
def latin1_name(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.py"), "wb") as handle:
        handle.write(b"import time\n\n\nasync def handler():\n    time.sleep(1)\n")
    return tmp_path


def test_sarif_with_a_file_name_that_is_not_utf8(latin1_name: Path):
    result = offload("--output-format", "sarif", ".", cwd=latin1_name)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    (finding,) = log["runs"][0]["results"]
    assert finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad%FF.py"


def test_text_and_json_with_a_file_name_that_is_not_utf8(latin1_name: Path):
    text = offload(".", cwd=latin1_name)
    assert text.returncode == 1, text.stderr
    assert text.stdout.decode().startswith("bad\\xff.py:5:5: BLK100")
    records = json.loads(offload("--output-format", "json", ".", cwd=latin1_name).stdout)
    assert os.fsencode(records[0]["filename"]) == b"bad\xff.py"  # the real name, round-trips


def test_show_source_honours_the_encoding_cookie(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "latin1.py").write_bytes(
        '# -*- coding: latin-1 -*-\nimport time\n\n\nasync def handler():\n    x = "\u00e9"; time.sleep(1)  # caf\u00e9\n'
        .encode("latin-1"))
    out = in_process("--color", "never", "--show-source", "latin1.py", cwd=tmp_path).stdout.decode().splitlines()
    assert out[2] == '6 |     x = "\u00e9"; time.sleep(1)  # caf\u00e9'
    assert out[3].index("^") == out[2].index("time.sleep")


@pytest.mark.parametrize("raw, shown", [
    ("a\x1bb", "a\\x1bb"), ("\x07", "\\x07"), ("\x7f", "\\x7f"), ("\x9b", "\\x9b"), ("\x85", "\\x85"),
    ("\u202e", "\\u202e"), ("\u2066", "\\u2066"), ("\u2028", "\\u2028"), ("x\udcffy", "x\\xffy"),
    ("\t", "\\x09"), ("caf\u00e9 \u4e2d", "caf\u00e9 \u4e2d"),
])
def test_printable_escapes_every_control_character(raw: str, shown: str):
    from detector.display import printable

    assert printable(raw) == shown
