"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit with ``try-repo``.

``pre-commit try-repo REPO HOOK`` clones REPO at HEAD, or, when tracked files have uncommitted
changes, at a temporary commit of HEAD plus those changes (untracked files are left out), then
builds a virtualenv, pip-installs offload into it and runs the hook in a scratch git repository.
So the repository root is used as it is when it is a git checkout with nothing untracked (CI's
fresh clone); otherwise (new files not yet added, or no git at all) the test commits a snapshot of
the working tree and points try-repo at that. Each call installs afresh (try-repo uses a
throwaway store): 5-12 s per call here with a warm pip cache, 25-35 s for this file.
PRE_COMMIT_HOME points at a temporary directory so nothing is left in the user's cache.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HOOKS = REPO / ".pre-commit-hooks.yaml"

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


def _try_repo_sees_the_working_tree(env: dict) -> bool:
    """A git checkout whose working tree try-repo copies whole: nothing untracked (ignored files aside)."""
    top = _git(REPO, env, "rev-parse", "--show-toplevel")
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != REPO:
        return False
    untracked = _git(REPO, env, "ls-files", "--others", "--exclude-standard")
    return untracked.returncode == 0 and not untracked.stdout.strip()


def _snapshot(target: Path, env: dict) -> Path:
    """Commit the working tree (tracked and untracked files, ignored ones aside) as a new repository."""
    listed = _git(REPO, env, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed.returncode == 0:
        names = [name for name in listed.stdout.split("\0") if name]
        for name in names:
            if (REPO / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, target / name)
    else:  # not a git checkout at all (an unpacked sdist)
        shutil.copytree(REPO, target, ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "*.egg-info", "__pycache__", ".ci-venv", ".venv", ".offload_cache"))
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "snapshot")):
        assert _git(target, env, *args).returncode == 0
    return target


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("precommit")
    env = _env(tmp)
    hook_repo = REPO if _try_repo_sees_the_working_tree(env) else _snapshot(tmp / "offload-snapshot", env)
    return tmp, env, hook_repo


@pytest.fixture()
def work(setup, tmp_path: Path):
    _, env, _ = setup
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "notes.txt").write_text("time.sleep(1) in a text file is not checked\n")
    assert _git(tmp_path, env, "init", "-q").returncode == 0
    assert _git(tmp_path, env, "add", ".").returncode == 0
    return tmp_path


def try_repo(setup, work: Path, hook: str, *files: str) -> subprocess.CompletedProcess:
    _, env, hook_repo = setup
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--files", *files],
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
    result = try_repo(setup, work, "offload", "good.py", "notes.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_offload_hook_fails_on_a_blocking_call(setup, work: Path):
    result = try_repo(setup, work, "offload", "bad.py", "good.py", "notes.txt")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "bad.py:5:5: BLK100 blocking call `time.sleep()`" in result.stdout
    assert "notes.txt" not in result.stdout.split("Failed", 1)[1]


def test_offload_fix_hook_rewrites_the_file(setup, work: Path):
    result = try_repo(setup, work, "offload-fix", "bad.py")
    assert result.returncode == 1, result.stdout + result.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in result.stdout
    fixed = (work / "bad.py").read_text()
    assert "    await asyncio.sleep(1)\n" in fixed and "import asyncio\n" in fixed and "time.sleep" not in fixed
