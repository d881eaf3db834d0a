"""The flake8 plugin, run through the real flake8 (installed with the test extra)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

APP = '''import asyncio, time

import requests


def helper():
    time.sleep(1)


async def main():
    time.sleep(1)
    requests.get("https://example.com")  # noqa: BLK110
    open("x")  # noqa: ASYNC230
    helper()
'''


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture()
def project(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "ok.py").write_text("import asyncio\n\n\nasync def main():\n    await asyncio.sleep(1)\n")
    return tmp_path


def test_plugin_is_registered():
    result = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, timeout=60)
    assert "offload:" in result.stdout


def test_select_blk_reports_offload_findings(project: Path):
    result = flake8("--select", "BLK", "app.py", "ok.py", cwd=project)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "app.py:11:5: BLK100 blocking call `time.sleep()` in async function `main`; use `await asyncio.sleep(1)`",
        "app.py:14:5: BLK200 `helper()` in async function `main` blocks the event loop: it reaches "
        "`time.sleep()` at app.py:7 through helper; offload it with `await asyncio.to_thread(helper)`",
    ]


def test_flake8_ignore_and_clean_files(project: Path):
    assert flake8("--select", "BLK", "ok.py", cwd=project).returncode == 0
    result = flake8("--select", "BLK", "--extend-ignore", "BLK200", "app.py", cwd=project)
    assert [line.split(" ")[1] for line in result.stdout.splitlines()] == ["BLK100"]


def test_project_config_applies(project: Path):
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'demo'\n\n[tool.offload]\nignore = ['BLK100']\n\n"
        "[[tool.offload.blocking-calls]]\ncalls = ['legacy.fetch']\n"
    )
    (project / "legacy_user.py").write_text("import legacy\n\n\nasync def f():\n    legacy.fetch()\n")
    result = flake8("--select", "BLK", "app.py", "legacy_user.py", cwd=project)
    codes = [line.split(" ")[1] for line in result.stdout.splitlines()]
    assert codes == ["BLK200", "BLK190"]


def test_invalid_project_config_is_reported(project: Path):
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.offload]\nbogus = 1\n")
    result = flake8("--select", "BLK", "app.py", cwd=project)
    assert result.returncode == 1
    assert "BLK903 offload configuration error" in result.stdout and "bogus" in result.stdout


def test_readme_flake8_async_mapping_matches_the_catalogue():
    """The README's ASYNC -> BLK table is the catalogue's ``peer-codes``, so ``# noqa: ASYNCxxx`` does what it says."""
    from fixture_format import REPO

    from detector.catalog import builtin

    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- flake8-async-map")
    table = text[start:text.index("<!-- end flake8-async-map -->")]
    shown = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("ASYNC"):
            shown[cells[0]] = cells[2].split(", ")
    expected = {}
    for rule in sorted(builtin().rules.values(), key=lambda r: r.code):
        for peer in rule.peer_codes:
            expected.setdefault(peer, []).append(rule.code)
    assert shown == expected
