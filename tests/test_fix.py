"""--fix: goldens (text and AST), re-check of the golden, idempotence, encodings, the CLI, and
fixed programs run under a real event loop."""
from __future__ import annotations

import ast
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixture_format import FIXTURES, expected, without_annotations

from detector.catalog import builtin
from detector.cli import main
from detector.config import Config
from detector.fix import FileFix, FixGuardError, fix_source, guard
from detector.runner import check_source

CASES = sorted(p for p in (FIXTURES / "fix").glob("*.py") if not p.name.endswith(".fixed.py"))
REMEDIES = {code: rule.remedy for code, rule in builtin().rules.items()}


def options(path: Path):
    header = path.read_text(encoding="utf-8").splitlines()[0]
    version = re.search(r"target-version=(\w+)", header)
    executor = re.search(r"executor=(\S+)", header)
    return "unsafe" in header, Config(root=path.parent, target_version=version.group(1) if version else "py39",
                                      executor=executor.group(1) if executor else None)


def fix(data: bytes, name: str, unsafe: bool, config: Config) -> FileFix:
    return fix_source(data, check_source(data, name, config), REMEDIES, unsafe, config.target_version, config.executor)


def reported(data, name, config):
    return {(f.location.row, f.code) for f in check_source(data, name, config)}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fix_matches_golden_and_rechecks_clean(path: Path):
    unsafe, config = options(path)
    source = path.read_bytes()
    golden_path = path.with_name(path.stem + ".fixed.py")
    golden = golden_path.read_bytes()
    assert reported(source, path.name, config) == expected(source.decode())
    result = fix(source, path.name, unsafe, config)
    assert without_annotations(result.fixed.decode()) == without_annotations(golden.decode())
    assert ast.dump(ast.parse(result.fixed)) == ast.dump(ast.parse(golden))
    # What is left in the golden is exactly what the golden's annotations say.
    assert reported(golden, golden_path.name, config) == expected(golden.decode())
    # Fixing again changes nothing.
    assert not fix(golden, golden_path.name, unsafe, config).changed


@pytest.mark.parametrize("transform", [
    pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
    pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
    pytest.param(lambda b: b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + b, id="latin-1"),
])
def test_encoding_bom_and_line_endings_are_kept(transform):
    path = FIXTURES / "fix" / "sleep_safe.py"
    unsafe, config = options(path)
    # Fixing commutes with the change of encoding, BOM or line endings.
    assert fix(transform(path.read_bytes()), path.name, unsafe, config).fixed == transform(fix(path.read_bytes(), path.name, unsafe, config).fixed)


def test_guard_refuses_a_rewrite_that_still_blocks():
    source = b"import asyncio, time\n\nasync def f():\n    time.sleep(1)\n"
    finding = check_source(source, "m.py")[0]
    still_blocking = FileFix(source, source.replace(b"(1)", b"(2)"), applied=[finding])
    with pytest.raises(FixGuardError, match="does not re-check clean"):
        guard("m.py", still_blocking, False, Config())
    broken = FileFix(source, source.replace(b"(1)", b"(1"), applied=[finding])
    with pytest.raises(FixGuardError, match="does not parse"):
        guard("m.py", broken, False, Config())


def test_guard_accepts_fixing_one_of_two_identical_calls():
    source = b"import asyncio, time\n\nasync def f():\n    time.sleep(1)\n    time.sleep(1)\n"
    first = check_source(source, "m.py")[0]
    result = fix_source(source, [first], REMEDIES)
    assert result.fixed.count(b"await asyncio.sleep(1)") == 1
    guard("m.py", result, False, Config())


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_fix_writes_atomically_and_keeps_permissions(workdir: Path):
    target = workdir / "app.py"
    target.write_bytes((FIXTURES / "fix" / "to_thread_unsafe.py").read_bytes())
    target.chmod(0o640)
    runner = CliRunner()
    safe = runner.invoke(main, ["check", "--fix", "app.py"])
    assert safe.exit_code == 1 and "Fixed" not in safe.stderr  # nothing safe to do there
    result = runner.invoke(main, ["check", "--fix", "--unsafe-fixes", "app.py"])
    assert "Fixed 14 findings in 1 file." in result.stderr
    golden = (FIXTURES / "fix" / "to_thread_unsafe.fixed.py").read_text()
    assert without_annotations(target.read_text()) == without_annotations(golden)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert not [p for p in workdir.iterdir() if p.name.endswith(".offload-tmp")]  # no temp file left behind
    assert result.exit_code == 0


def test_cli_diff_writes_nothing(workdir: Path):
    original = (FIXTURES / "fix" / "sleep_safe.py").read_bytes()
    (workdir / "app.py").write_bytes(original)
    result = CliRunner().invoke(main, ["check", "--diff", "app.py"])
    assert result.exit_code == 1
    assert "+    await asyncio.sleep(0.5)" in result.stdout and "-    time.sleep(0.5)" in result.stdout
    assert (workdir / "app.py").read_bytes() == original


def test_unsafe_fixes_from_config(workdir: Path):
    (workdir / "pyproject.toml").write_text("[tool.offload]\nunsafe-fixes = true\n")
    (workdir / "app.py").write_bytes((FIXTURES / "fix" / "parents.py").read_bytes())
    result = CliRunner().invoke(main, ["check", "--fix"])
    assert result.exit_code == 0, result.output
    golden = (FIXTURES / "fix" / "parents.fixed.py").read_text()
    assert without_annotations((workdir / "app.py").read_text()) == without_annotations(golden)


PROGRAM = '''
import asyncio, time


def load():
    time.sleep(0.3)
    return 1


async def work():
    time.sleep(0.3)
    return load()


async def main():
    lag = 0.0

    async def ticker():
        nonlocal lag
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lag = max(lag, time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    await work()
    await asyncio.sleep(0.05)
    tick.cancel()
    print(f"{lag:.3f}")


asyncio.run(main())
'''


def max_lag(path: Path) -> float:
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, check=True)
    return float(out.stdout.strip())


def test_fixed_program_no_longer_stalls_the_loop(workdir: Path):
    program = workdir / "prog.py"
    program.write_text(PROGRAM)
    assert max_lag(program) >= 0.25
    result = CliRunner().invoke(main, ["check", "--fix", "--unsafe-fixes", "prog.py"])
    assert "Fixed 2 findings" in result.stderr, result.output
    assert "await asyncio.to_thread(load)" in program.read_text()
    assert max_lag(program) < 0.2
