"""The per-file cache: it makes runs faster and never changes a result."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import detector
from detector import cache, runner
from detector.cli import main
from detector.config import Config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEPTH = FIXTURES / "projects" / "depth"
AN_HOUR_AGO = time.time() - 3600
FILES = len(list(DEPTH.rglob("*.py")))


def age(root: Path) -> None:
    """Give every file an old mtime, so the cache may trust stat alone (no racy window)."""
    for path in root.rglob("*.py"):
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))


@pytest.fixture()
def project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "depth"
    shutil.copytree(DEPTH, root, ignore=shutil.ignore_patterns(".offload_cache", "__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'depth'\n")
    age(root)
    monkeypatch.chdir(root)
    return root


def run(*args: str):
    result = CliRunner().invoke(main, ["check", *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def open_cache(root: Path) -> cache.Cache:
    store, warning = cache.open_cache(root, cache.salt(Config(root=root)))
    assert store is not None and warning is None
    return store


def api(root: Path, **options) -> runner.CheckResult:
    return runner.check_paths([root], Config(root=root), use_cache=True, jobs=1, **options)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cold_and_warm_runs_print_exactly_the_same(project: Path, fmt: str):
    cold = run("--no-cache", "--output-format", fmt)
    assert cold[0] == 1 and "BLK200" in cold[1]
    assert run("--output-format", fmt) == cold  # writes the cache
    assert run("--output-format", fmt) == cold  # reads it
    assert (project / ".offload_cache" / cache.FORMAT / "files").is_dir()


def test_warm_run_only_stats_files(project: Path, monkeypatch):
    first = api(project)
    assert first.analysed == FILES and first.cached == 0
    reads = []
    real_read = runner._read
    monkeypatch.setattr(runner, "_read", lambda item, store: reads.append(item.path) or real_read(item, store))
    warm = api(project)
    assert reads == [] and warm.analysed == 0 and warm.cached == FILES
    assert warm.findings == first.findings


def test_summaries_are_reused_when_only_the_selection_changes(project: Path):
    api(project)
    narrowed = runner.check_paths([project], Config(root=project, select=("BLK1",)), use_cache=True)
    assert narrowed.analysed == 0
    assert narrowed.findings == runner.check_paths([project], Config(root=project, select=("BLK1",))).findings
    assert all(f.code.startswith("BLK1") for f in narrowed.findings)


def test_an_edit_that_other_files_depend_on_changes_their_findings(project: Path):
    before = run()
    assert before == run("--no-cache")
    leaf = project / "app" / "leaf.py"
    leaf.write_text(leaf.read_text().replace("def level1():\n    time.sleep(1)", "def level1():\n    pass"))
    after = run()
    assert after == run("--no-cache")
    assert after != before
    def top_lines(out: str) -> list:
        return [line for line in out.splitlines() if line.startswith(os.path.join("app", "top.py"))]

    assert len(top_lines(after[1])) < len(top_lines(before[1]))
    assert "leaf.level1()" not in after[1]


def test_same_size_edit_with_the_old_mtime_is_still_seen(project: Path):
    api(project)
    leaf = project / "app" / "leaf.py"
    status = leaf.stat()
    text = leaf.read_text()
    edited = text.replace("time.sleep(1)", "time.ctime(1)")
    assert len(edited) == len(text)
    leaf.write_text(edited)
    os.utime(leaf, ns=(status.st_atime_ns, status.st_mtime_ns))  # size and mtime as before; ctime moved
    warm = api(project)
    assert warm.analysed == 1
    assert warm.findings == runner.check_paths([project], Config(root=project)).findings


def test_recently_modified_files_are_read_again(project: Path):
    leaf = project / "app" / "leaf.py"
    leaf.write_text(leaf.read_text() + "\n")  # mtime now: inside the racy window
    api(project)
    status = leaf.stat()
    cache_obj = open_cache(project)
    assert cache_obj.known_digest(os.path.abspath(leaf), cache.stat_key(status)) is None
    cache_obj.close()
    assert api(project).analysed == 0  # read and hashed again, but not analysed again


def test_corrupt_entries_are_recomputed(project: Path):
    cold = run("--no-cache")
    run()
    base = project / ".offload_cache" / cache.FORMAT
    entries = list((base / "files").iterdir()) + list((base / "findings").iterdir()) + [base / "index"]
    for number, path in enumerate(entries):
        data = path.read_bytes()
        path.write_bytes([b"", b"garbage", data[:-3], data[:40] + b"x" + data[41:]][number % 4])
    assert run() == cold
    assert run() == cold
    assert api(project).analysed == 0  # the rewritten entries are good again


def test_no_cache_writes_nothing(project: Path):
    run("--no-cache")
    runner.check_paths([project], Config(root=project))  # library calls do not cache by default
    assert not (project / ".offload_cache").exists()


def test_cache_directory_ignores_itself(project: Path):
    run()
    top = project / ".offload_cache"
    assert "*" in (top / ".gitignore").read_text().splitlines()
    assert (top / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_version_change_invalidates(project: Path, monkeypatch):
    api(project)
    assert api(project).analysed == 0
    monkeypatch.setattr(detector, "__version__", "999.0")
    monkeypatch.setattr(cache, "_CODE_DIGEST", [])
    assert api(project).analysed == FILES


def test_config_change_invalidates(project: Path):
    api(project)
    extended = Config(root=project, blocking_calls=({"calls": ["app.leaf.pure"]},))
    result = runner.check_paths([project], extended, use_cache=True)
    assert result.analysed == FILES
    assert result.findings == runner.check_paths([project], extended).findings
    assert any("pure" in f.message for f in result.findings)


def test_display_path_is_part_of_the_key(project: Path, monkeypatch):
    relative = run()
    monkeypatch.chdir(project.parent)
    absolute = CliRunner().invoke(main, ["check", "depth"], catch_exceptions=False).stdout
    assert absolute.replace(f"depth{os.sep}", "") == relative[1]


def test_unwritable_cache_is_skipped(project: Path):
    (project / ".offload_cache").write_text("not a directory")
    cold = run("--no-cache")
    assert run() == cold


def test_deleted_files_leave_the_index(project: Path):
    api(project)
    (project / "app" / "middle.py").unlink()
    api(project)
    store = open_cache(project)
    assert store.index and not any(path.endswith("middle.py") for path in store.index)
    store.close()


SHADOWED = "import time\n\n\nasync def handler(asyncio):\n    time.sleep(1)\n"  # `asyncio` is a parameter: no fix
RENAMED = SHADOWED.replace("(asyncio)", "(aio_mod)")  # same length: the same finding, now fixable
REFUSED = "no fix: `asyncio` here is a parameter"
# Runs the real command line, then says whether the run loaded the parser (it plans fixes with it).
_LOADS_LIBCST = ("import sys\nfrom detector.cli import main\ntry:\n    main(['check', '.'])\nfinally:\n"
                 "    print('libcst loaded' if 'libcst' in sys.modules else 'libcst not loaded', file=sys.stderr)\n")


@pytest.fixture()
def refusing(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "refusing"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'refusing'\n")
    (root / "app.py").write_text(SHADOWED)
    age(root)
    monkeypatch.chdir(root)
    return root


def test_a_warm_check_reads_what_the_fixes_refuse_from_the_cache_without_parsing(refusing: Path):
    runs = [subprocess.run([sys.executable, "-c", _LOADS_LIBCST], cwd=refusing, capture_output=True, text=True,
                           timeout=120) for _ in range(2)]
    assert [run.returncode for run in runs] == [1, 1]
    assert REFUSED in runs[0].stdout and runs[1].stdout == runs[0].stdout
    assert "libcst loaded" in runs[0].stderr  # the cold run analysed and planned
    assert "libcst not loaded" in runs[1].stderr
    assert list((refusing / ".offload_cache" / cache.FORMAT / "plans").iterdir())


def test_an_edited_file_is_planned_again_though_its_findings_are_the_same(refusing: Path):
    first = run()
    assert first[0] == 1 and REFUSED in first[1]
    (refusing / "app.py").write_text(RENAMED)
    second = run()
    assert REFUSED not in second[1] and "1 fixable with --fix" in run_stderr()
    assert second[1].split(": BLK100")[0] == first[1].split(": BLK100")[0]  # same place, same rule


def run_stderr(*args: str) -> str:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False).stderr
