"""A configuration offload cannot use is one line naming the file and the key, exit 2: never a
traceback, never silently replaced by a parent directory's settings or the defaults."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from offload_cli import invoke_offload, run_offload

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n    open('x')\n"


def offload(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return invoke_offload("check", "--no-cache", *args, cwd=cwd)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_invalid_nearest_pyproject_is_an_error_not_skipped_for_the_parents(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.offload]\nselect = ["BLK1"]\nignore = ["BLK100"]\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.offload]\nignore = ["BLK130"\n')
    (sub / "app.py").write_text(BLOCKING)
    for args in (("app.py",), ("--config", "pyproject.toml", "app.py")):
        line = one_error_line(offload(*args, cwd=sub))
        # The nearest file, shown relative to the working directory.
        assert line.startswith("error: pyproject.toml: invalid TOML: Unclosed array"), line


def test_pyproject_that_is_not_utf8_is_an_error(tmp_path: Path):
    text = '[project]\nname = "demo"\nauthors = [{name = "Jos\u00e9"}]\n\n[tool.offload]\nignore = ["BLK101"]\n'
    (tmp_path / "pyproject.toml").write_bytes(text.encode("latin-1"))
    (tmp_path / "app.py").write_text(BLOCKING)
    for args in (("app.py",), ("--config", "pyproject.toml", "app.py")):
        line = one_error_line(offload(*args, cwd=tmp_path))
        assert "pyproject.toml: invalid TOML: not valid UTF-8 (byte 0xe9 at position 47)" in line


def test_a_byte_order_mark_before_the_settings_is_read_past(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_bytes("\ufeff[tool.offload]\nignore = [\"BLK100\"]\n".encode("utf-8"))
    (tmp_path / "app.py").write_text(BLOCKING)
    result = offload("--output-format", "json", "app.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert [f["code"] for f in json.loads(result.stdout)] == ["BLK130"]  # BLK100 ignored as the file says


def test_deeply_nested_toml_is_an_error(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\nselect = " + "[" * 20000 + "\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    assert "invalid TOML" in one_error_line(offload("app.py", cwd=tmp_path))


@pytest.mark.parametrize("tool", ['"offload"', '["offload"]', "5"])
def test_tool_key_that_is_not_a_table_is_an_error(tmp_path: Path, tool: str):
    (tmp_path / "pyproject.toml").write_text(f"tool = {tool}\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    assert one_error_line(offload("app.py", cwd=tmp_path)).endswith("pyproject.toml: [tool] must be a table")


@pytest.mark.parametrize("entry, message", [
    ('code = ["BLK191"]\ncalls = ["x.y"]', "blocking-calls[0]: 'code' must be a string"),
    ('code = {a = 1}\ncalls = ["x.y"]', "blocking-calls[0]: 'code' must be a string"),
    ("code = 191\ncalls = ['x.y']", "blocking-calls[0]: 'code' must be a string"),
    ('calls = "x.y"', "blocking-calls[0].calls: expected a list of non-empty strings"),
    ('calls = ["x.y"]\nfoo = 1', "blocking-calls[0]: unknown key(s) foo"),
    ('code = "BLK300"\ncalls = ["mylib.fetch"]', "calls can only be added to blocking-call rules"),
    ('code = "BLK200"\ncalls = ["mylib.fetch"]', "not BLK200"),
    ('code = "BLK900"\ncalls = ["mylib.fetch"]', "not BLK900"),
    ('code = "BLK950"\nname = "n"\nsummary = "s"\ncalls = ["mylib.fetch"]', "not BLK950"),
    ('code = "BLK191"\nname = "blocking-sleep"\nsummary = "s"\ncalls = ["mylib.fetch"]',
     "name 'blocking-sleep' is already the name of BLK100"),
    ('code = "BLK191"\nname = "n"\nsummary = "s"\ncalls = ["mylib.fetch"]\nremedy = "await"',
     "remedy 'await' is not one of to_thread, asyncio.sleep, none"),
    # Names that would never match a call, silently:
    ('calls = ["mylib..fetch"]', 'blocking-calls[0].calls: "mylib..fetch" is not a dotted name'),
    ('calls = ["mylib.fetch()"]', 'blocking-calls[0].calls: "mylib.fetch()" is not a dotted name'),
    ('code = "BLK100"\ncalls = ["mylib.wait"]\nlazy = ["mylib wait"]', '.lazy: "mylib wait" is not a dotted name'),
])
def test_bad_blocking_calls_entry_is_an_error(tmp_path: Path, entry: str, message: str):
    (tmp_path / "pyproject.toml").write_text(f"[tool.offload]\n[[tool.offload.blocking-calls]]\n{entry}\n")
    (tmp_path / "app.py").write_text("import mylib\n\n\nasync def handler():\n    mylib.fetch(1)\n")
    line = one_error_line(offload("app.py", cwd=tmp_path))
    assert "pyproject.toml: [tool.offload].blocking-calls" in line
    assert message in line


def test_misuse_rule_cannot_be_joined_so_fix_cannot_await_a_sync_call(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.offload]\n[[tool.offload.blocking-calls]]\ncode = "BLK300"\n'
                                             'calls = ["mylib.fetch"]\n')
    app = "import mylib\n\n\nasync def handler():\n    mylib.fetch(1)\n"
    (tmp_path / "app.py").write_text(app)
    result = offload("--diff", "--unsafe-fixes", ".", cwd=tmp_path)
    assert "await mylib.fetch" not in result.stdout
    assert "not BLK300" in one_error_line(result)


@pytest.mark.parametrize("body, key", [
    ("exclude = 5", "exclude"),
    ("per-file-ignores = 5", "per-file-ignores"),
    ('per-file-ignores = {"t/*" = 5}', "per-file-ignores.t/*"),
    ("offload-wrappers = [1]", "offload-wrappers"),
    ("target-version = [1]", "target-version"),
    ("executor = 5", "executor"),
    ("blocking-calls = 5", "blocking-calls"),
    ("select = {a = 1}", "select"),
])
def test_wrong_value_type_names_the_key(tmp_path: Path, body: str, key: str):
    (tmp_path / "pyproject.toml").write_text(f"[tool.offload]\n{body}\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    assert f"[tool.offload].{key}" in one_error_line(offload("app.py", cwd=tmp_path))


@pytest.mark.parametrize("key", ["select", "ignore", "exclude", "strict-allow", "offload-wrappers", "not-on-loop",
                                 "per-file-ignores.tests/*"])
def test_a_string_where_a_list_is_expected_is_an_error_and_nothing_is_fixed(tmp_path: Path, key: str):
    table, _, name = key.rpartition(".")
    header = f"[tool.offload.{table}]\n" if table else ""
    (tmp_path / "pyproject.toml").write_text(f'[tool.offload]\n{header}"{name}" = "BLK1"\n')
    (tmp_path / "app.py").write_text(BLOCKING)
    line = one_error_line(offload("--fix", "app.py", cwd=tmp_path))
    assert line == f'error: pyproject.toml: [tool.offload].{key}: expected a list of strings, got the string "BLK1"'
    assert (tmp_path / "app.py").read_text() == BLOCKING


@pytest.mark.parametrize("slot", ["99999999999999999999", "256", "-1", "true", "{ position = 99999999999999999999 }"])
def test_a_callback_index_no_call_has_is_an_error(tmp_path: Path, slot: str):
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.offload]\n[[tool.offload.on-loop]]\nframework = "F"\ncallbacks = {{ "a.b" = {slot} }}\n')
    (tmp_path / "app.py").write_text(BLOCKING)
    line = one_error_line(offload("app.py", cwd=tmp_path))
    assert line.startswith("error: pyproject.toml: [tool.offload].on-loop[0].callbacks.a.b: expected a table of "
                           "call name = index of the callback argument (0 to 255)"), line


def test_a_callback_index_in_range_is_accepted(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.offload]\n[[tool.offload.on-loop]]\nframework = "F"\ncallbacks = { "a.b" = 255 }\n')
    (tmp_path / "app.py").write_text(BLOCKING)
    assert offload("app.py", cwd=tmp_path).returncode == 1


def test_a_blocking_calls_entry_without_calls_is_a_warning(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.offload]\n[[tool.offload.blocking-calls]]\ncalls = []\n')
    (tmp_path / "app.py").write_text(BLOCKING)
    result = offload("app.py", cwd=tmp_path)
    assert result.returncode == 1 and "app.py:5:5: BLK100" in result.stdout, result.stdout + result.stderr
    assert "warning: pyproject.toml: [tool.offload].blocking-calls[0].calls: an empty list adds no call\n" \
        in result.stderr


def _make_not_regular(path: Path, kind: str) -> None:
    import os

    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink loop":
        path.symlink_to(path.name)
    elif kind == "broken symlink":
        path.symlink_to("nowhere.toml")
    else:
        path.symlink_to("/dev/zero")


NOT_REGULAR = {
    "fifo": "not a regular file (a FIFO)",
    "directory": "not a regular file (a directory)",
    "symlink loop": "symlink loop",
    "broken symlink": "broken symlink",
    "device": "not a regular file (a character device)",
}


@pytest.mark.parametrize("kind", sorted(NOT_REGULAR))
def test_nearest_pyproject_that_is_not_a_regular_file_is_an_error_not_skipped(tmp_path: Path, kind: str):
    """The parent's ignore would hide the finding in app.py: the run stops instead, at once (a FIFO is
    never waited on, /dev/zero never read)."""
    (tmp_path / "pyproject.toml").write_text('[tool.offload]\nignore = ["BLK1"]\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "app.py").write_text(BLOCKING)
    _make_not_regular(sub / "pyproject.toml", kind)
    for args in (("app.py",), ("--show-settings",)):
        result = run_offload("check", "--no-cache", *args, cwd=sub, timeout=60)
        assert one_error_line(result) == f"error: pyproject.toml: cannot read: {NOT_REGULAR[kind]}"


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_config_option_on_a_file_that_is_not_regular_says_what_it_is(tmp_path: Path, kind: str):
    (tmp_path / "app.py").write_text(BLOCKING)
    if kind == "device":
        name = "/dev/null"  # not an empty config: only regular files are read
    else:
        name = "settings.toml"
        _make_not_regular(tmp_path / name, kind)
    result = run_offload("check", "--no-cache", "--config", name, "app.py", cwd=tmp_path, timeout=60)
    if kind == "directory":  # click refuses it before offload reads anything
        assert result.returncode == 2 and "is a directory" in result.stderr, result.stderr
        return
    assert one_error_line(result) == f"error: {name}: cannot read: {NOT_REGULAR[kind]}"


def test_config_option_on_a_missing_file_is_not_found(tmp_path: Path):
    (tmp_path / "app.py").write_text(BLOCKING)
    assert one_error_line(offload("--config", "missing.toml", "app.py", cwd=tmp_path)) == \
        "error: missing.toml: config file not found"
