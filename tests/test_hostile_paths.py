"""Hostile paths in a checked project: symlink loops, FIFOs, devices, huge and unreadable files.

Each test builds its project in tmp_path. Where a hang is possible (FIFOs, devices, huge and
unreadable files) the real CLI runs in a subprocess under a timeout: a hang fails the test
instead of the suite, and a traceback shows in stderr. Project discovery and exit statuses run
the CLI in this process.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

from detector import files

from offload_cli import invoke_offload

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
TIMEOUT = 120  # generous for a loaded machine; a hang is what it catches


def offload(cwd: Path, *args: str, stdin=subprocess.DEVNULL, prefix: Optional[List[str]] = None,
            env: Optional[dict] = None) -> subprocess.CompletedProcess:
    command = (prefix or []) + [sys.executable, "-m", "detector", *args]
    return subprocess.run(command, cwd=cwd, stdin=stdin, capture_output=True, text=True, timeout=TIMEOUT,
                          env=env)


def in_process(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return invoke_offload(*args, cwd=cwd)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "app.py").write_text(BLOCKING)
    return tmp_path


def assert_no_traceback(run: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("named", [["app.py"], ["."], ["app.py", "a.py"]], ids=["context", "walked", "named"])
def test_symlink_loop_is_a_diagnostic_not_a_crash(project: Path, named: List[str]):
    (project / "a.py").symlink_to("b.py")
    (project / "b.py").symlink_to("a.py")
    run = offload(project, "check", "--no-cache", *named)
    assert_no_traceback(run)
    assert run.returncode == 1
    assert "app.py:5:5: BLK100" in run.stdout
    if named != ["app.py"]:
        assert "a.py:1:1: BLK901 cannot read file: symlink loop" in run.stdout
    else:  # only files asked about are reported
        assert "BLK901" not in run.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("named", [["app.py"], ["."], ["app.py", "pipe.py"]], ids=["context", "walked", "named"])
def test_fifo_named_py_is_not_waited_on(project: Path, named: List[str]):
    os.mkfifo(project / "pipe.py")
    run = offload(project, "check", "--no-cache", "--show-source", *named)
    assert_no_traceback(run)
    assert run.returncode == 1
    assert "app.py:5:5: BLK100" in run.stdout
    if named != ["app.py"]:
        assert "pipe.py:1:1: BLK901 cannot read file: not a regular file (a FIFO)" in run.stdout


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_symlink_to_an_endless_device_is_not_read(project: Path):
    (project / "zero.py").symlink_to("/dev/zero")
    run = offload(project, "check", "--no-cache", "zero.py", "app.py")
    assert_no_traceback(run)
    assert run.returncode == 1
    assert "zero.py:1:1: BLK901 cannot read file: not a regular file (a character device)" in run.stdout
    assert "app.py:5:5: BLK100" in run.stdout


def test_a_walked_symlink_to_outside_the_project_is_neither_quoted_nor_rewritten(
        project: Path, tmp_path_factory: pytest.TempPathFactory):
    outside = tmp_path_factory.mktemp("elsewhere")
    secret = outside / "secret.py"
    secret.write_text("TOKEN=abc123 not python\n")
    other = outside / "lib.py"
    other.write_text("import time\n\n\nasync def g():\n    time.sleep(1)\n")
    (project / "env.py").symlink_to(secret)
    (project / "pkg").mkdir()
    (project / "pkg" / "link.py").symlink_to(other)
    (project / "inside.py").symlink_to(project / "app.py")
    run = offload(project, "check", "--no-cache", "--show-source", "--fix", ".")
    assert_no_traceback(run)
    assert "abc123" not in run.stdout + run.stderr
    assert "warning: env.py: a symlink to a file outside the project: not checked (name it to check it)" in run.stderr
    assert "warning: pkg/link.py: a symlink to a file outside the project" in run.stderr
    assert other.read_text().endswith("time.sleep(1)\n")  # not rewritten
    assert "await asyncio.sleep(1)" in (project / "app.py").read_text()  # the project's own file is
    named = offload(project, "check", "--no-cache", "pkg/link.py")
    assert named.returncode == 1 and "pkg/link.py:5:5: BLK100" in named.stdout  # named: checked


def test_huge_sparse_file_is_refused_by_size_not_read(project: Path):
    with open(project / "huge.py", "wb") as handle:
        handle.truncate(2 * 1024 ** 3)  # sparse: no disk space used; reading it would take 2 GB
    run = offload(project, "check", "--no-cache", ".")
    assert_no_traceback(run)
    assert run.returncode == 1
    assert "huge.py:1:1: BLK901 cannot read file: file too large (2048.0 MiB; the limit is 4.0 MiB)" in run.stdout
    assert "app.py:5:5: BLK100" in run.stdout


def test_read_file_stops_at_the_limit(tmp_path: Path):
    path = tmp_path / "big.py"
    path.write_bytes(b"x = 1\n" * 100)
    assert files.read_file(path, limit=600).data == b"x = 1\n" * 100
    with pytest.raises(files.UnreadableFile, match="file too large"):
        files.read_file(path, limit=599)


def test_read_file_never_reads_past_the_limit_of_an_endless_file(tmp_path: Path):
    """A file that grows while it is read (here: /proc reports size 0) is cut at the limit."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    assert files.read_file("/proc/self/status").data  # size 0 in fstat, still read (regular file)
    with pytest.raises(files.UnreadableFile, match="more than the limit"):
        files.read_file("/proc/self/status", limit=10)


def _without_read_override() -> Optional[List[str]]:
    """A command prefix under which file permissions apply, or None when that is not possible.

    As root, permissions are ignored (CAP_DAC_OVERRIDE); dropping those capabilities from the
    bounding set with setpriv makes a mode-000 file unreadable to the child, as for any user.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]
    try:
        probe = subprocess.run(prefix + ["sh", "-c", "exec 3</proc/1/environ"], capture_output=True, timeout=TIMEOUT)
    except OSError:
        return None
    return prefix if probe.returncode != 0 else None


def test_unreadable_file_and_directory_are_diagnostics_and_the_rest_is_analysed(project: Path):
    prefix = _without_read_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to apply")
    (project / "secret.py").write_text("x = 1\n")
    (project / "locked").mkdir()
    (project / "locked" / "mod.py").write_text(BLOCKING)
    (project / "secret.py").chmod(0)
    (project / "locked").chmod(0)
    try:
        walked = offload(project, "check", "--no-cache", ".", prefix=prefix)
        named = offload(project, "check", "--no-cache", "app.py", "secret.py", "locked/mod.py", prefix=prefix)
    finally:
        (project / "locked").chmod(0o755)
        (project / "secret.py").chmod(0o644)
    for run in (walked, named):
        assert_no_traceback(run)
        assert run.returncode == 1, run.stderr
        assert "app.py:5:5: BLK100" in run.stdout
        assert "secret.py:1:1: BLK901 cannot read file: Permission denied" in run.stdout
    assert "locked:1:1: BLK901 cannot read directory: Permission denied" in walked.stdout
    assert "locked/mod.py:1:1: BLK901 cannot read file: Permission denied" in named.stdout


def test_only_an_unreadable_directory_is_a_finding_not_no_files(project: Path):
    prefix = _without_read_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to apply")
    (project / "locked").mkdir()
    (project / "locked" / "mod.py").write_text(BLOCKING)
    (project / "locked").chmod(0)
    try:
        run = offload(project, "check", "--no-cache", "locked", prefix=prefix)
    finally:
        (project / "locked").chmod(0o755)
    assert_no_traceback(run)
    assert run.returncode == 1
    assert "locked:1:1: BLK901 cannot read directory: Permission denied" in run.stdout
    assert "no Python files" not in run.stderr


def test_empty_path_is_an_error_not_the_whole_directory(project: Path):
    (project / "sub").mkdir()
    (project / "sub" / "old.py").write_text(BLOCKING)
    run = in_process(project, "check", "--no-cache", "")
    assert run.returncode == 2
    assert run.stderr.startswith("error: empty path")
    assert run.stdout == ""
    assert in_process(project / "sub", "check", "--no-cache").returncode == 1  # no path at all: still "."


def test_only_excluded_files_named_is_success(project: Path):
    (project / "pyproject.toml").write_text('[tool.offload]\nexclude = ["migrations"]\n')
    (project / "migrations").mkdir()
    (project / "migrations" / "m1.py").write_text(BLOCKING)
    (project / "ok.py").write_text("x = 1\n")
    alone = in_process(project, "check", "--no-cache", "migrations/m1.py")
    assert alone.returncode == 0, alone.stderr
    assert "every file named is excluded" in alone.stderr
    assert in_process(project, "check", "--no-cache", "-q", "migrations/m1.py").stderr == ""
    both = in_process(project, "check", "--no-cache", "migrations/m1.py", "ok.py")
    assert both.returncode == 0 and "1 file checked" in both.stderr
    (project / "empty").mkdir()
    nothing = in_process(project, "check", "--no-cache", "empty")  # no Python file at all: still an error
    assert nothing.returncode == 2 and "no Python files to check" in nothing.stderr


def test_closed_stdin_is_a_one_line_error(project: Path):
    code = ("import os, runpy, sys; os.close(0); sys.argv = ['offload', 'check', '-']; "
            "runpy.run_module('detector', run_name='__main__')")
    run = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=TIMEOUT)
    # Closing fd 0 inside Python leaves sys.stdin set; a process started with fd 0 closed has
    # sys.stdin None: start one that way too.
    closed = subprocess.run(["sh", "-c", f"exec {sys.executable} -m detector check - <&-"], cwd=project,
                            capture_output=True, text=True, timeout=TIMEOUT)
    for result in (run, closed):
        assert_no_traceback(result)
        assert result.returncode == 2
        assert result.stderr.startswith("error: cannot read standard input")
        assert len(result.stderr.strip().splitlines()) == 1


def test_an_internal_error_exits_2_not_1(project: Path):
    """A bug must not read as "findings remain": make the analysis itself raise."""
    code = ("import sys, runpy; import detector.runner as r; "
            "r.check_paths = lambda *a, **k: 1 / 0; "
            "sys.argv = ['offload', 'check', '--no-cache', 'app.py']; runpy.run_module('detector', run_name='__main__')")
    run = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 2
    assert "error: internal error: ZeroDivisionError" in run.stderr.strip().splitlines()[-1]


HELPER = "import time\n\n\ndef work():\n    time.sleep(1)\n"
CALLER = "import helper\n\n\nasync def handler():\n    helper.work()\n"


def _marker_above(path: Path) -> bool:
    from detector.config import ROOT_MARKERS

    return any((parent / marker).exists() for parent in path.parents for marker in ROOT_MARKERS)


def test_project_root_is_found_from_the_checked_file(tmp_path: Path):
    """Only a directory with a project marker is read as context for a single checked file."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text(CALLER)
    (project / "helper.py").write_text(HELPER)
    if _marker_above(project):
        pytest.skip("a project marker above the temporary directory")
    alone = in_process(project, "check", "--no-cache", "main.py")
    assert alone.returncode == 0, alone.stdout  # no project: the sibling module is not read
    walked = in_process(project, "check", "--no-cache", ".")
    assert "main.py:5:5: BLK200" in walked.stdout  # named directory: analysed together
    (project / ".git").mkdir()
    for cwd, name in ((project, "main.py"), (tmp_path, "proj/main.py")):
        run = in_process(cwd, "check", "--no-cache", name)
        assert run.returncode == 1, run.stderr
        assert f"{name}:5:5: BLK200" in run.stdout


def test_directories_that_cannot_be_packages_do_not_prefix_module_names(tmp_path: Path):
    """A checkout (``.git``) holding ``lib/python3.11/``: imports start below ``python3.11``."""
    (tmp_path / ".git").mkdir()
    lib = tmp_path / "versions" / "3.11.7" / "lib" / "python3.11"
    lib.mkdir(parents=True)
    (lib / "main.py").write_text(CALLER)
    (lib / "helper.py").write_text(HELPER)
    run = in_process(tmp_path, "check", "--no-cache", "versions")
    assert run.returncode == 1, run.stderr
    assert "versions/3.11.7/lib/python3.11/main.py:5:5: BLK200" in run.stdout


def test_gitignore_is_honoured_and_build_output_is_not_skipped_silently(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / ".gitignore").write_text("build/\n*_gen.py\n!keep_gen.py\n")
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("scratch.py\n")
    for name in ("build/x.py", "dist/y.py", "a_gen.py", "keep_gen.py", "scratch.py", "sub/local.py", "sub/ok.py",
                 "sub/deep/local.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(BLOCKING)
    (tmp_path / "sub" / ".gitignore").write_text("/local.py\n")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "dist" / ".gitignore")  # never waited on
    run = offload(tmp_path, "check", "--no-cache", ".")
    reported = sorted(line.split(":")[0] for line in run.stdout.splitlines())
    assert reported == ["dist/y.py", "keep_gen.py", "sub/deep/local.py", "sub/ok.py"], run.stdout + run.stderr
    named = offload(tmp_path, "check", "--no-cache", "build/x.py", "a_gen.py")  # named files: always checked
    assert sorted(line.split(":")[0] for line in named.stdout.splitlines()) == ["a_gen.py", "build/x.py"]
    directory = offload(tmp_path, "check", "--no-cache", "build")  # a named ignored directory too
    assert [line.split(":")[0] for line in directory.stdout.splitlines()] == ["build/x.py"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_pyproject_is_not_waited_on(tmp_path: Path):
    (tmp_path / "app.py").write_text(BLOCKING)
    os.mkfifo(tmp_path / "pyproject.toml")
    run = offload(tmp_path, "check", "--no-cache", "app.py")  # an error, not skipped for a parent's settings
    assert run.returncode == 2 and run.stderr == "error: pyproject.toml: cannot read: not a regular file (a FIFO)\n"
    explicit = offload(tmp_path, "check", "--no-cache", "--config", "pyproject.toml", "app.py")
    assert explicit.returncode == 2 and explicit.stderr.startswith("error: pyproject.toml:")
