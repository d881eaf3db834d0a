"""Which packages and which environment a run follows: bad values are errors, doubtful ones warnings."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fake_environment import install, write
from offload_cli import invoke_offload

SLOW = {"slowlib/__init__.py": "import time\n\ndef slow():\n    time.sleep(1)\n"}
APP = "import slowlib\n\n\nasync def main():\n    slowlib.slow()\n"


def _project(tmp_path: Path, settings: str = "", venv: bool = False) -> Path:
    """A project calling ``slowlib.slow()`` on the loop; ``venv``: slowlib installed in its ``.venv``."""
    root = tmp_path / "proj"
    write(root, {"app.py": APP, "pyproject.toml": f"[project]\nname = 'app'\n{settings}"})
    if venv:
        install(root / ".venv", SLOW, {"slowlib-1.0": "slowlib"})
    return root


@pytest.fixture(autouse=True)
def _no_active_environment(monkeypatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)


@pytest.mark.parametrize("value", ['"true"', '"false"', '"slowlib"', "1"])
def test_follow_dependencies_that_is_neither_a_boolean_nor_a_list_is_an_error(tmp_path: Path, value: str) -> None:
    root = _project(tmp_path, f"[tool.offload]\nfollow-dependencies = {value}\n", venv=True)
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 2
    assert done.stderr.startswith("error: pyproject.toml: [tool.offload].follow-dependencies: expected true, false or a list")
    assert done.stdout == ""


def test_a_follow_list_name_that_matches_nothing_installed_is_a_warning(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.offload]\nfollow-dependencies = ["nonexistent", "slowlib.sub", "slowlib"]\n',
                    venv=True)
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 1 and "slowlib.slow()" in done.stdout  # the name that matches is followed
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: pyproject.toml: [tool.offload].follow-dependencies: 'nonexistent' matches no distribution or "
        "import root installed in .venv",
        "warning: pyproject.toml: [tool.offload].follow-dependencies: 'slowlib.sub' matches no distribution or "
        "import root installed in .venv (an import root is a top-level name: 'slowlib')",
    ]


def test_an_empty_follow_list_is_a_warning(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.offload]\nfollow-dependencies = []\n", venv=True)
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 0 and "slowlib" not in done.stdout
    assert ("warning: pyproject.toml: [tool.offload].follow-dependencies: an empty list follows no library "
            "(`false` says so)") in done.stderr.splitlines()


def test_a_follow_list_of_distribution_names_matches_without_a_warning(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.offload]\nfollow-dependencies = ["SlowLib"]\n', venv=True)
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 1 and "warning" not in done.stderr


def test_show_settings_tells_a_follow_list_from_the_boolean(tmp_path: Path) -> None:
    listed = _project(tmp_path / "a", '[tool.offload]\nfollow-dependencies = ["true", "tornado"]\n', venv=True)
    shown = invoke_offload("check", "--show-settings", cwd=listed)
    assert 'follow-dependencies: ["true", "tornado"]' in shown.stdout.splitlines()
    assert "'true' matches no distribution" in shown.stderr and "'tornado' matches no distribution" in shown.stderr
    boolean = _project(tmp_path / "b", "[tool.offload]\nfollow-dependencies = true\n", venv=True)
    assert "follow-dependencies: true" in invoke_offload("check", "--show-settings", cwd=boolean).stdout.splitlines()


def test_an_empty_python_option_is_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path, venv=True)
    done = invoke_offload("check", "--python", "", ".", cwd=root)
    assert done.returncode == 2
    assert done.stderr == "error: --python: empty path: name a Python interpreter or environment directory\n"


def test_a_python_path_that_does_not_exist_says_so(tmp_path: Path) -> None:
    root = _project(tmp_path, venv=True)
    done = invoke_offload("check", "--python", "/nonexistent/python", ".", cwd=root)
    assert done.returncode == 2
    assert done.stderr == "error: --python /nonexistent/python: no such file or directory\n"


def test_a_broken_project_venv_is_passed_over_with_a_warning(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(tmp_path / "gone" / "python3")  # dangling, no lib/
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 0
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: .venv/ in the project has no site-packages directory: following ")
    assert warnings[0].endswith(" (the Python running offload) instead")


@pytest.mark.parametrize("broken", ["missing", "empty"])
def test_a_virtual_env_without_site_packages_is_passed_over_with_a_warning(tmp_path: Path, monkeypatch,
                                                                           broken: str) -> None:
    root = _project(tmp_path, venv=True)
    active = tmp_path / "active"
    if broken == "empty":
        active.mkdir()
    monkeypatch.setenv("VIRTUAL_ENV", str(active))
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 1 and "slowlib.slow()" in done.stdout  # the project's .venv is followed
    what = "does not exist" if broken == "missing" else "has no site-packages directory"
    assert f"warning: VIRTUAL_ENV {active} {what}: following .venv (.venv/ in the project) instead\n" in done.stderr


def test_the_projects_venv_comes_before_offloads_own_activated_environment(tmp_path: Path, monkeypatch) -> None:
    root = _project(tmp_path, venv=True)
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)  # the environment running offload, activated
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 1 and "slowlib.slow()" in done.stdout
    shown = invoke_offload("check", "--show-settings", cwd=root)
    assert "environment: .venv (.venv/ in the project (VIRTUAL_ENV is offload's own environment))" in shown.stdout
    assert shown.stderr == ""


def test_another_activated_environment_comes_before_the_projects_venv(tmp_path: Path, monkeypatch) -> None:
    root = _project(tmp_path, venv=True)
    other = tmp_path / "other"
    install(other, {"otherlib.py": "x = 1\n"})
    monkeypatch.setenv("VIRTUAL_ENV", str(other))
    done = invoke_offload("check", ".", cwd=root)
    assert done.returncode == 0 and done.stderr.count("warning") == 0
