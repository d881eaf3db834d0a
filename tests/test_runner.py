"""The check run: worker processes give exactly the in-process results; libcst loads lazily."""
from __future__ import annotations

import faulthandler
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from detector import runner, workers
from detector.config import Config
from detector.discovery import discover, module_name, source_roots

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir())


def check(root: Path, **options) -> runner.CheckResult:
    return runner.check_paths([root], Config(root=root), **options)


def records(result: runner.CheckResult) -> str:
    return json.dumps([f.to_dict() for f in result.findings], sort_keys=True)


@pytest.mark.parametrize("root", PROJECTS, ids=[p.name for p in PROJECTS])
def test_worker_processes_give_the_in_process_findings(root: Path, monkeypatch):
    alone = check(root, jobs=1)
    monkeypatch.setattr(workers, "MIN_PARALLEL", 0)  # small projects normally stay in-process
    pooled = check(root, jobs=2)
    assert pooled.findings == alone.findings and records(pooled) == records(alone)
    assert pooled.analysed == alone.analysed > 0


def generate(root: Path, count: int = 60) -> None:
    """A package of ``count`` modules whose helpers call each other across modules."""
    package = root / "gen"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'gen'\n")
    (package / "__init__.py").write_text("")
    for i in range(count):
        previous = f"m{i - 1}" if i else "m0"
        blocking = "time.sleep(0.1)" if i % 7 == 0 else f"{previous}.helper()"
        reader = "open(self.path).read()" if i % 3 == 0 else f"{previous}.Thing().read()"
        (package / f"m{i}.py").write_text(textwrap.dedent(f"""\
            import asyncio
            import time
            from gen import {previous}
            from gen.{previous} import Thing as Previous


            class Thing:
                def __init__(self):
                    self.path = "data{i}.txt"

                def read(self):
                    return {reader}


            def helper():
                {blocking}


            async def handler():
                helper()
                Thing().read()
                Previous()
                await asyncio.to_thread(helper)
                time.sleep({i})
            """))
    (package / "broken.py").write_text("def oops(:\n    pass\n")
    (package / "latin.py").write_bytes(b"# -*- coding: utf-8 -*-\nname = '\xff'\n")


def test_generated_tree_jobs_1_and_2_agree(tmp_path: Path):
    generate(tmp_path)
    alone = check(tmp_path, jobs=1)
    pooled = check(tmp_path, jobs=2)
    assert len(alone.findings) > 100
    assert {f.code for f in alone.findings} >= {"BLK100", "BLK200", "BLK900", "BLK901"}
    assert pooled.findings == alone.findings and records(pooled) == records(alone)


def test_progress_is_reported_for_every_analysed_file(tmp_path: Path):
    generate(tmp_path, count=40)
    calls = []
    result = check(tmp_path, jobs=2, progress=lambda done, total: calls.append((done, total)))
    total = result.analysed
    assert calls == [(done, total) for done in range(1, total + 1)]


_TEST_PROCESS = os.getpid()
_real_analyse = workers._analyse


def _segfault_on_marker(data, *args):  # stands in for workers._analyse in worker processes
    if b"CRASH-HERE" in data and os.getpid() != _TEST_PROCESS:
        faulthandler.disable()  # pytest's handler would print the worker's stack
        os.kill(os.getpid(), signal.SIGSEGV)
    return _real_analyse(data, *args)


def test_a_worker_crash_costs_one_file_and_the_others_are_analysed(tmp_path: Path, monkeypatch):
    generate(tmp_path, count=40)
    alone = check(tmp_path, jobs=1)
    if workers._context().get_start_method() != "fork" or workers.default_jobs() < 2:
        pytest.skip("the patched analysis reaches workers only through fork, with two cores")
    (tmp_path / "crasher.py").write_text("# CRASH-HERE\nimport time\n\nasync def f():\n    time.sleep(1)\n")
    monkeypatch.setattr(workers, "_analyse", _segfault_on_marker)
    pooled = check(tmp_path, jobs=2)
    crashed = [f for f in pooled.findings if f.filename.endswith("crasher.py")]
    assert [(f.code, f.message) for f in crashed] == [
        ("BLK903", "analysis crashed (the analysing process was killed by SIGSEGV); file skipped")]
    assert [f for f in pooled.findings if f not in crashed] == alone.findings


def test_jobs_are_capped_at_cores_and_files():
    assert workers.worker_count(100_000, 3) == min(3, workers.default_jobs())
    assert workers.worker_count(100_000, 10_000) == workers.default_jobs()
    assert workers.worker_count(1, 10_000) == 1


def test_chunks_cover_every_task_once_biggest_first():
    tasks = [workers.Task(i, b"x" * (i * 37 % 101), f"f{i}.py", f"f{i}", False) for i in range(200)]
    chunks = workers.plan(tasks, 2)
    flat = [task.index for chunk in chunks for task in chunk]
    assert sorted(flat) == list(range(200))
    assert len(chunks) > 2
    assert len(chunks[0][0].data) == max(len(t.data) for t in tasks)


@pytest.mark.parametrize("root", PROJECTS, ids=[p.name for p in PROJECTS])
def test_fast_resolution_gives_the_same_module_names(root: Path):
    roots = source_roots(root)
    resolve = runner._Resolver()
    for path in discover([root], Config(root=root)).files:
        assert module_name(resolve(path), roots) == module_name(path.resolve(), roots)
        assert resolve(path) == path.resolve()


def test_symlinked_file_resolves_to_its_target(tmp_path: Path):
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    assert runner._Resolver()(tmp_path / "link.py") == (tmp_path / "real.py").resolve()


LIBCST_LOADED = """
import os, sys
from detector.cli import main
sys.argv = ["offload", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(os.environ.get("OFFLOAD_PROBE", "libcst") in sys.modules, file=sys.stderr)
"""


def offload_in_subprocess(cwd: Path, *args: str, probe: str = "libcst") -> str:
    """Whether module ``probe`` was imported by ``offload ARGS`` ("True" / "False")."""
    done = subprocess.run([sys.executable, "-c", LIBCST_LOADED, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, OFFLOAD_PROBE=probe))
    return done.stderr.strip().splitlines()[-1]


def test_version_and_cached_runs_do_not_import_libcst(tmp_path: Path):
    root = tmp_path / "depth"
    shutil.copytree(FIXTURES / "projects" / "depth", root, ignore=shutil.ignore_patterns(".offload_cache"))
    (root / "pyproject.toml").write_text("[project]\nname = 'depth'\n")
    assert offload_in_subprocess(root, "--version") == "False"
    assert offload_in_subprocess(root, "check", "-q") == "True"  # cold: analyses
    # (--statistics: the counts need no rewrite checked, which parses the files with a fix)
    assert offload_in_subprocess(root, "check", "-q", "--statistics") == "False"  # warm: everything cached
    past = time.time() - 3600
    for path in root.rglob("*.py"):
        os.utime(path, (past, past))  # every stat changed: read and hashed again, still not analysed
    assert offload_in_subprocess(root, "check", "-q", "--statistics") == "False"
    assert offload_in_subprocess(root, "check", "-q", "--statistics", "--select", "BLK1") == "False"  # new findings, same summaries


def test_a_run_whose_findings_come_from_the_cache_does_not_load_the_project_model(tmp_path: Path):
    root = tmp_path / "depth"
    shutil.copytree(FIXTURES / "projects" / "depth", root, ignore=shutil.ignore_patterns(".offload_cache"))
    (root / "pyproject.toml").write_text("[project]\nname = 'depth'\n")
    model = "detector.analysis.project"
    assert offload_in_subprocess(root, "check", "-q", "--statistics", probe=model) == "True"  # cold
    assert offload_in_subprocess(root, "check", "-q", "--statistics", probe=model) == "False"  # findings reused
    assert offload_in_subprocess(root, "check", "-q", "--statistics", "--select", "BLK1", probe=model) == "True"
