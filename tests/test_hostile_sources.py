"""Files built to break the analysis cost themselves a diagnostic, never the run.

Each test writes its hostile files into tmp_path and runs the real CLI in a subprocess: a
segfault in the parser shows up as exit status -11 and no output, which only a subprocess
can observe.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from click.testing import CliRunner

from detector.analysis import module
from detector.cli import main
from offload_cli import invoke_offload

APP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def offload(cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """In a process of its own: deep nesting, huge files or worker counts must not take this one down."""
    return subprocess.run([sys.executable, "-m", "detector", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def project(root: Path, files: Dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text("[tool.offload]\n")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def codes(done: subprocess.CompletedProcess) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for record in json.loads(done.stdout):
        found.setdefault(Path(record["filename"]).name, []).append(record["code"])
    return found


def elif_chain(branches: int) -> str:
    lines = ["import time", "", "", "async def dispatch(x):", "    if x == 0:", "        time.sleep(1)"]
    for i in range(1, branches):
        lines += [f"    elif x == {i}:", f"        time.sleep({i + 1})"]
    return "\n".join(lines) + "\n"


# Shapes CPython refuses to compile, which crashed libcst's native parser or ran for minutes.
TOO_DEEP = {
    "parens.py": "x = " + "(" * 2000 + "1" + ")" * 2000 + "\n",
    "brackets.py": "x = " + "[" * 5000 + "]" * 5000 + "\n",
    "long_sum.py": "x = " + "+".join(["a"] * 8000) + "\n",
    "attributes.py": "x = a" + ".b" * 100_000 + "\n",
    "calls.py": "x = f" + "()" * 50_000 + "\n",
    "elifs.py": elif_chain(10_000),
    # Flat for CPython, nested for libcst: 20,000 operands of `and`.
    "conjunction.py": "x = " + " and ".join(["a"] * 20_000) + "\n",
}


def test_a_deeply_nested_project_file_does_not_crash_a_check_of_another_file(tmp_path: Path):
    root = project(tmp_path, {"app.py": APP, "generated.py": TOO_DEEP["parens.py"]})
    done = offload(root, "check", "--no-cache", "app.py")
    assert done.returncode == 1, done.stderr
    assert "app.py:5:5: BLK100" in done.stdout


def test_every_too_deep_shape_is_blk902_and_other_files_are_still_reported(tmp_path: Path):
    ordinary = {f"ok{i}.py": APP for i in range(40)}  # enough files for worker processes
    root = project(tmp_path, {**TOO_DEEP, **ordinary})
    done = offload(root, "check", "--no-cache", "-j", "2", "--output-format", "json", ".")
    assert done.returncode == 1, done.stderr
    found = codes(done)
    for name in TOO_DEEP:
        assert found.get(name) == ["BLK902"], name
    for name in ordinary:
        assert found.get(name) == ["BLK100"], name


def test_every_branch_of_a_long_elif_chain_python_compiles_is_analysed(tmp_path: Path):
    source = elif_chain(1000)
    compile(source, "chain.py", "exec")
    root = project(tmp_path, {"chain.py": source})
    done = offload(root, "check", "--no-cache", "--output-format", "json", "chain.py")
    assert done.returncode == 1, done.stderr
    assert codes(done) == {"chain.py": ["BLK100"] * 1000}


def test_a_file_over_max_file_size_is_blk904_and_other_files_are_reported(tmp_path: Path):
    data = "X = [" + "1," * 300_000 + "]\n"  # a 600 kB one-line literal: gigabytes for libcst
    root = project(tmp_path, {"app.py": APP, "data.py": data})
    (root / "pyproject.toml").write_text("[tool.offload]\nmax-file-size = 500000\n")
    done = offload(root, "check", "--no-cache", ".")
    assert done.returncode == 1, done.stderr
    assert "app.py:5:5: BLK100" in done.stdout
    assert ("data.py:1:1: BLK904 file too large to analyse (600007 bytes, limit 500000; "
            "`max-file-size` in [tool.offload] sets it); skipped") in done.stdout


def test_max_file_size_must_be_a_positive_number_of_bytes(tmp_path: Path):
    root = project(tmp_path, {"app.py": APP})
    (root / "pyproject.toml").write_text("[tool.offload]\nmax-file-size = \"1MB\"\n")
    done = invoke_offload("check", "--no-cache", ".", cwd=root)
    assert done.returncode == 2
    assert "max-file-size: expected a number of bytes" in done.stderr


def test_identifiers_are_compared_as_python_normalises_them(tmp_path: Path):
    root = project(tmp_path, {
        "wide.py": "import time\n\nasync def f():\n    \uff54\uff49\uff4d\uff45.sleep(1)\n    time.\uff53leep(2)\n",
        "alias.py": "import time as \uff54\n\nasync def f():\n    t.sleep(1)\n",
    })
    done = invoke_offload("check", "--no-cache", "wide.py", "alias.py", cwd=root)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "alias.py:4:5: BLK100 blocking call `t.sleep()` in async function `f`; use `await asyncio.sleep(1)`",
        "wide.py:4:5: BLK100 blocking call `time.sleep()` in async function `f`; use `await asyncio.sleep(1)`",
        "wide.py:5:5: BLK100 blocking call `time.sleep()` in async function `f`; use `await asyncio.sleep(2)`",
    ]


def test_a_huge_jobs_count_is_capped_and_every_file_is_reported(tmp_path: Path):
    root = project(tmp_path, {f"m{i}.py": APP for i in range(40)})
    done = offload(root, "check", "--no-cache", "-q", "-j", "100000", ".")
    assert done.returncode == 1, done.stderr
    assert sorted(done.stdout.splitlines()) == sorted(
        f"m{i}.py:5:5: BLK100 blocking call `time.sleep()` in async function `handler`; use `await asyncio.sleep(1)`"
        for i in range(40))


def _broken_analysis(*args):
    raise RuntimeError("boom")


def test_a_file_offload_fails_on_exits_2_with_the_other_findings(tmp_path: Path, monkeypatch):
    project(tmp_path, {"app.py": APP})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(module, "summarize", _broken_analysis)
    result = CliRunner().invoke(main, ["check", "--no-cache", "-j", "1", "app.py"])
    assert result.exit_code == 2, result.output
    assert "app.py:1:1: BLK903 internal error: RuntimeError: boom" in result.output


@pytest.mark.parametrize("shape", ["parens.py", "elifs.py"])
def test_check_source_of_a_too_deep_module_is_a_diagnostic(shape: str):
    from detector.runner import check_source

    assert [f.code for f in check_source(TOO_DEEP[shape], shape)] == ["BLK902"]


def test_nodes_built_after_an_analysis_are_still_validated():
    # A parse of source CPython accepts skips libcst's checks of the nodes it builds; nodes built
    # afterwards (the fixes' rewrites) must still be checked.
    import libcst as cst

    from detector.runner import check_source

    findings = check_source("import time\n\n\nasync def f():\n    time.sleep(1)\n", "mod.py")
    assert [f.code for f in findings] == ["BLK100"]
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")



def _nested_helpers(count: int) -> str:
    helpers = "".join(f"def f{i}():\n    return f{i + 1}()\n\n\n" for i in range(count))
    return f"import time\n\n\n{helpers}def f{count}():\n    time.sleep(1)\n\n\nasync def main():\n    f0()\n"


def test_a_chain_of_helpers_longer_than_any_written_by_hand_is_not_followed(tmp_path: Path):
    from detector.analysis.chains import MAX_HOPS

    root = project(tmp_path, {"short.py": _nested_helpers(MAX_HOPS - 2), "long.py": _nested_helpers(MAX_HOPS * 40)})
    found = json.loads(offload(root, "check", "--no-cache", "-j", "1", "--output-format", "json", ".").stdout)
    assert [(f["filename"], f["code"]) for f in found] == [("short.py", "BLK200")]
    assert "through f0 -> f1 -> " in found[0]["message"] and f"-> f{MAX_HOPS - 2}; " in found[0]["message"]
