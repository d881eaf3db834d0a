"""Files offload writes (``--fix``, ``--write-baseline``, ``watch --report``) never replace what
is not a plain file, keep symlinks, hard links, mode, owner and group, and refuse read-only files."""
from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from detector import atomic

from offload_cli import invoke_offload
from offload_cli import run_offload as offload

BLOCKING = "import asyncio, time\n\n\nasync def handler():\n    time.sleep(1)\n"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.offload]\n")
    (root / "app.py").write_text(BLOCKING)
    return root


# -- the module itself ------------------------------------------------------------------------
def test_new_file_gets_the_umask_mode_and_no_temporary_file_is_left(tmp_path: Path):
    target = tmp_path / "new.json"
    atomic.write_text(target, "{}\n")
    mask = os.umask(0)
    os.umask(mask)
    assert target.read_text() == "{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert os.listdir(tmp_path) == ["new.json"]


def test_existing_file_is_replaced_keeping_its_mode(tmp_path: Path):
    target = tmp_path / "old.py"
    target.write_text("old\n")
    target.chmod(0o640)
    inode = target.stat().st_ino
    atomic.write_bytes(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != inode  # replaced by rename: never half-written
    assert sorted(os.listdir(tmp_path)) == ["old.py"]


def test_symlink_is_written_through_and_kept(tmp_path: Path):
    (tmp_path / "shared.json").write_text("keep me\n")
    link = tmp_path / "link.json"
    link.symlink_to("shared.json")
    atomic.write_text(link, "new\n")
    assert link.is_symlink()
    assert (tmp_path / "shared.json").read_text() == "new\n"


def test_dangling_symlink_creates_its_target(tmp_path: Path):
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    atomic.write_text(link, "new\n")
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_text() == "new\n"


def test_hard_links_are_rewritten_in_place(tmp_path: Path):
    first = tmp_path / "a.py"
    first.write_text("old\n")
    os.link(first, tmp_path / "b.py")
    atomic.write_bytes(first, b"new\n")
    assert (tmp_path / "b.py").read_text() == "new\n"
    assert first.stat().st_ino == (tmp_path / "b.py").stat().st_ino


@pytest.mark.parametrize("linked", [False, True], ids=["renamed", "in place"])
def test_a_file_that_no_longer_holds_what_was_read_is_left_as_it_is(tmp_path: Path, linked: bool):
    target = tmp_path / "a.py"
    target.write_text("edited meanwhile\n")
    if linked:
        os.link(target, tmp_path / "b.py")
    with pytest.raises(atomic.ChangedFile):
        atomic.write_bytes(target, b"fixed\n", expected=b"read\n")
    assert target.read_text() == "edited meanwhile\n"
    target.write_text("read\n")
    atomic.write_bytes(target, b"fixed\n", expected=b"read\n")
    assert target.read_text() == "fixed\n"


def test_a_file_removed_since_it_was_read_is_not_created_again(tmp_path: Path):
    target = tmp_path / "gone.py"
    with pytest.raises(atomic.ChangedFile):
        atomic.write_bytes(target, b"fixed\n", expected=b"read\n")
    assert not target.exists() and os.listdir(tmp_path) == []


def test_fix_leaves_a_file_edited_while_the_project_is_rechecked(project: Path, monkeypatch: pytest.MonkeyPatch):
    from detector import runner

    recheck = runner.check_paths
    edited = "# edited while offload worked\n" + BLOCKING

    def editing(*args, **kwargs):
        if kwargs.get("overrides"):  # the re-check of the rewritten files, before they are written
            (project / "app.py").write_text(edited)
        return recheck(*args, **kwargs)

    monkeypatch.setattr(runner, "check_paths", editing)
    result = invoke_offload("check", "--no-cache", "--fix", "app.py", cwd=project)
    assert (project / "app.py").read_text() == edited
    assert "app.py: cannot fix: the file changed while offload worked on it: left as it is; run again" in result.stderr
    assert result.returncode != 0


def test_read_only_file_is_refused(tmp_path: Path):
    target = tmp_path / "ro.py"
    target.write_text("old\n")
    target.chmod(0o444)
    with pytest.raises(atomic.ReadOnlyFile, match="read-only"):
        atomic.write_bytes(target, b"new\n")
    assert target.read_text() == "old\n"


def test_directory_is_refused(tmp_path: Path):
    with pytest.raises(IsADirectoryError):
        atomic.write_bytes(tmp_path, b"x")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing owners needs root")
def test_owner_and_group_are_kept_when_root_writes(tmp_path: Path):
    target = tmp_path / "owned.py"
    target.write_text("old\n")
    os.chown(target, 65534, 65534)
    target.chmod(0o640)
    atomic.write_bytes(target, b"new\n")
    info = target.stat()
    assert (info.st_uid, info.st_gid) == (65534, 65534)
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert target.read_text() == "new\n"


# -- through the CLI ---------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_write_baseline_onto_a_fifo_writes_through_it(project: Path, tmp_path: Path):
    fifo = tmp_path / "baseline.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader exists: the writer does not block
    try:
        result = offload("check", "--no-cache", "--write-baseline", str(fifo), "app.py", cwd=project)
        assert result.returncode == 0, result.stderr
        received = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received)["findings"][0]["code"] == "BLK100"


@pytest.mark.skipif(not os.path.exists("/proc/self/fd/1"), reason="needs /proc")
def test_write_baseline_to_a_stdout_link_prints_it(project: Path, tmp_path: Path):
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")  # what /dev/stdout is on Linux
    result = offload("check", "--no-cache", "--write-baseline", str(link), "app.py", cwd=project)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert json.loads(result.stdout)["findings"][0]["call"] == "time.sleep"


def test_watch_report_onto_a_symlink_writes_its_target(project: Path, tmp_path: Path):
    (tmp_path / "shared.json").write_text("keep me\n")
    link = tmp_path / "report-link.json"
    link.symlink_to("shared.json")
    result = offload("watch", "--report", str(link), "--", sys.executable, "-c", "pass", cwd=project)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert json.loads((tmp_path / "shared.json").read_text())["version"] == 1


def test_fix_writes_a_symlinks_target_and_keeps_hard_links(project: Path, tmp_path: Path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "common.py").write_text(BLOCKING)
    (project / "link.py").symlink_to("../shared/common.py")
    (project / "hard.py").write_text(BLOCKING)
    os.link(project / "hard.py", project / "hard-alias.py")
    result = invoke_offload("check", "--no-cache", "--fix", "link.py", "hard.py", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (project / "link.py").is_symlink()
    for fixed in (shared / "common.py", project / "hard.py", project / "hard-alias.py"):
        assert "await asyncio.sleep(1)" in fixed.read_text(), fixed
    assert (project / "hard.py").stat().st_ino == (project / "hard-alias.py").stat().st_ino


def test_fix_refuses_a_read_only_file(project: Path):
    ro = project / "ro.py"
    ro.write_text(BLOCKING)
    ro.chmod(0o444)
    result = invoke_offload("check", "--no-cache", "--fix", "ro.py", cwd=project)
    assert result.returncode == 2
    assert "ro.py: cannot fix: the file is read-only" in result.stderr
    assert ro.read_text() == BLOCKING
    assert "ro.py:5:5: BLK100" in result.stdout
