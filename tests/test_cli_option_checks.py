"""Options that would be silently ignored or meaningless are refused, and the help and
--show-settings name every setting (the real CLI in a subprocess)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from detector.config import KEYS
from offload_cli import run_offload


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "a.py").write_text("import time\n\n\nasync def f():\n    time.sleep(1)\n")
    return tmp_path


def test_stdin_filename_without_stdin_is_an_error(project):
    result = run_offload("check", "--no-cache", "--stdin-filename", "x.py", cwd=project)
    assert result.returncode == 2
    assert result.stderr == "error: --stdin-filename names the source read from '-': add '-' as the only path\n"
    assert result.stdout == ""


@pytest.mark.parametrize("option", ["--threshold", "--dump-after"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0"])
def test_watch_times_must_be_finite_and_positive(tmp_path, option, value):
    marker = tmp_path / "ran"
    result = run_offload("watch", option, value, "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')",
                         cwd=tmp_path)
    assert result.returncode == 2
    assert f"Invalid value for '{option}': must be a positive number of seconds" in result.stderr
    assert not marker.exists()


def test_check_help_names_every_config_key(project):
    result = run_offload("check", "--help", cwd=project)
    assert result.returncode == 0
    listed = " ".join(result.stdout.split())  # click wraps the help text
    keys = re.search(r"\(keys: (.*?)\); options win", listed)
    assert keys, result.stdout
    assert [key for key in KEYS if key not in re.split(r"[ ,]+", keys.group(1))] == []


def test_show_settings_shows_max_file_size(project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.offload]\nmax-file-size = 12345\n')
    result = run_offload("check", "--show-settings", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "max-file-size: 12345" in result.stdout.splitlines()
