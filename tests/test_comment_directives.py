"""``# noqa`` and ``# offload: skip-file`` are real comments on Python's own lines: text in a
string does not count, and a form feed, NEL or U+2028 earlier in the file does not shift them."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from detector.suppress import has_skip_file, parse_noqa

from offload_cli import invoke_offload

BODY = "\nasync def f():\n    time.sleep(1)  # noqa\n    time.sleep(2)\n"


def offload(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return invoke_offload("check", "--no-cache", *args, cwd=cwd)


@pytest.mark.parametrize("line2", [
    "\x0c",  # a form feed on a line of its own: a page break
    'S = "a\x85b"',  # NEL inside a string
    'S = "a\u2028b"',
    'S = "a\u2029b"',
    'S = "a\x0bb\x1cc\x1dd\x1ee"',
])
def test_noqa_stays_on_its_line_after_characters_splitlines_breaks_on(tmp_path: Path, line2: str):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    with open(tmp_path / "mod.py", "w", encoding="utf-8", newline="") as handle:
        handle.write("import time\n" + line2 + "\n" + BODY)
    result = offload("mod.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    # Line 5 has the noqa; line 6 does not, and it is the one reported.
    assert [line.split(" ", 2)[:2] for line in result.stdout.splitlines()] == [["mod.py:6:5:", "BLK100"]]


def test_noqa_rows_follow_python_line_breaks():
    text = "a = 1\r# noqa\r\nb = 2\x0c\n\u2028c = '\x85'  # noqa: BLK100\n"
    assert parse_noqa(text) == {2: None, 4: frozenset({"BLK100"})}


def test_skip_file_in_a_docstring_does_not_skip(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "docskip.py").write_text(
        '"""Helpers.\n\nTo silence offload in a module, add\n\n# offload: skip-file\n\non a line of its own.\n"""\n'
        "import time\n\n\nasync def f():\n    time.sleep(1)\n")
    result = offload("docskip.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("docskip.py:13:5: BLK100")


def test_skip_file_comment_skips(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "skip.py").write_text("# offload: skip-file\nimport time\n\n\nasync def f():\n    time.sleep(1)\n")
    assert offload("skip.py", cwd=tmp_path).returncode == 0


def test_noqa_inside_a_string_does_not_silence(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "noqastr.py").write_text('import time\n\n\nasync def f():\n    s = "# noqa"; time.sleep(1)\n')
    result = offload("noqastr.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("noqastr.py:5:19: BLK100")


def test_directives_only_in_comments():
    assert not has_skip_file('x = """\n# offload: skip-file\n"""\n')
    assert has_skip_file("x = 1\n  # offload: skip-file\n")
    assert parse_noqa("x = '# noqa'\ny = 2  # NOQA:BLK100,ASYNC230\n") == {2: frozenset({"BLK100", "ASYNC230"})}


# Lines whose strings hold a ``#``, a directive in a docstring or between the parts of a string,
# Python's three line breaks, compound statements' headers, and lines with no statement at all.
DIRECTIVE_SOURCES = [
    'x = "# noqa"  # noqa: BLK101\n',
    "x = ('a'  # noqa\n     'b')\n",
    'def f():\n    """doc # noqa\n    more"""\n    return 1  # NOQA\n',
    'x = f"{y!r} # noqa" # noqa:BLK1\n',
    '@dec("#")  # noqa\ndef f(): pass\n',
    'if a == "#":  # noqa: X1, Y2\n    pass\n',
    'x = 1\r\ny = "#"  # noqa\rz = 2 # noqa\n',
    'x = b"#" + "\u00e9#"  # noqa: E1\n',
    'class A(B, m="#"):  # noqa\n    y = 1  # noqa: Z9\n',
    'match x:\n    case "#":  # noqa\n        pass\n',
    'try:\n    pass\nexcept E("#"):  # noqa\n    pass\n',
    '# offload: skip-file\nx = 1\n',
    'x = "# offload: skip-file"\n',
    'x = 1 # noqa\n# noqa: A1\n\n   # trailing noqa   \n',
    'x = """\n# noqa\n"""\n',
    'x = [\n  "#",  # noqa\n  1, # NoQa: B2\n]\n',
    'y = "#"; z = "#" # offload: skip-file\n',
]


@pytest.mark.parametrize("text", DIRECTIVE_SOURCES)
def test_directives_found_with_the_tree_are_the_tokenizers(text: str):
    import ast

    tree = ast.parse(text)
    assert parse_noqa(text, tree) == parse_noqa(text)
    assert has_skip_file(text, tree) == has_skip_file(text)


def test_directive_lines_read_with_the_tree():
    import ast

    text = 'x = "# noqa"  # noqa: BLK101\ny = 1  # NOQA\n"""\n# noqa\n"""\n'
    assert parse_noqa(text, ast.parse(text)) == {1: frozenset({"BLK101"}), 2: None}
