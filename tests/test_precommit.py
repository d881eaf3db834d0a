"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit.

The hook repository is a fresh git repository holding a copy of the working tree (tracked and
untracked files, ignored ones aside), so the hooks as they are now are tested. Every test's
scratch repository names it, at its one commit, in a .pre-commit-config.yaml, and runs
``pre-commit run HOOK --files ...``. All of them share one PRE_COMMIT_HOME (a temporary
directory, so nothing is left in the user's cache): pre-commit builds the virtualenv and
pip-installs offload into it once for the module (5-12 s with a warm pip cache), not once per test.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from source_tree import REPO, copy_source_tree

HOOKS = REPO / ".pre-commit-hooks.yaml"
# On one test process: the hook environment is built once (see above), not once per process.
pytestmark = pytest.mark.xdist_group("precommit")

BAD = "import time\n\n\nasync def main():\n    time.sleep(1)\n"
GOOD = "import asyncio\n\n\nasync def main():\n    await asyncio.sleep(1)\n"


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and not k.startswith("PRE_COMMIT")}
    env.update(PRE_COMMIT_HOME=str(tmp / "pre-commit-home"), PRE_COMMIT_COLOR="never",
               GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com",
               GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com")
    return env


def _git(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(env with the shared PRE_COMMIT_HOME, the .pre-commit-config.yaml naming the hook repository)."""
    tmp = tmp_path_factory.mktemp("precommit")
    env = _env(tmp)
    hook_repo = copy_source_tree(tmp / "offload-snapshot")
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "snapshot")):
        assert _git(hook_repo, env, *args).returncode == 0
    rev = _git(hook_repo, env, "rev-parse", "HEAD").stdout.strip()
    config = (f"repos:\n- repo: {hook_repo.as_posix()}\n  rev: {rev}\n"
              "  hooks:\n  - id: offload\n  - id: offload-fix\n")
    return env, config


@pytest.fixture()
def work(setup, tmp_path: Path):
    env, config = setup
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "notes.txt").write_text("time.sleep(1) in a text file is not checked\n")
    (tmp_path / ".pre-commit-config.yaml").write_text(config)
    assert _git(tmp_path, env, "init", "-q").returncode == 0
    assert _git(tmp_path, env, "add", ".").returncode == 0
    return tmp_path


def run_hook(setup, work: Path, hook: str, *files: str) -> subprocess.CompletedProcess:
    env, _ = setup
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook, "--files", *files],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )


def test_hook_definitions():
    import yaml  # pre-commit's own dependency

    hooks = {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text())}
    assert set(hooks) == {"offload", "offload-fix"}
    assert hooks["offload"]["entry"] == "offload check"
    assert hooks["offload-fix"]["entry"] == "offload check --fix"
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types"] == ["python"]


def test_offload_hook_passes_on_clean_code(setup, work: Path):
    result = run_hook(setup, work, "offload", "good.py", "notes.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_offload_hook_fails_on_a_blocking_call(setup, work: Path):
    result = run_hook(setup, work, "offload", "bad.py", "good.py", "notes.txt")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "bad.py:5:5: BLK100 blocking call `time.sleep()`" in result.stdout
    assert "notes.txt" not in result.stdout.split("Failed", 1)[1]


def test_offload_fix_hook_rewrites_the_file(setup, work: Path):
    result = run_hook(setup, work, "offload-fix", "bad.py")
    assert result.returncode == 1, result.stdout + result.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in result.stdout
    fixed = (work / "bad.py").read_text()
    assert "    await asyncio.sleep(1)\n" in fixed and "import asyncio\n" in fixed and "time.sleep" not in fixed
