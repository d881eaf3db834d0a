"""A checkout's .offload_cache/ is attacker-controlled: nothing in it may run code, reach
outside the cache, hang a run, crash it, or change what a run reports."""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner

from detector import cache, runner, workers
from detector.analysis.summary import CallFlag, CallRecord, ClassSummary, FunctionSummary, ModuleSummary, Symbol
from detector.cache import codec, secret
from detector.cli import main
from detector.config import Config, effective_catalog
from fake_environment import install
from offload_cli import invoke_offload

APP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
FINDING = "app.py:5:5: BLK100"
OLD = time.time() - 30 * 24 * 3600


@pytest.fixture()
def project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    (root / "app.py").write_text(APP)
    (root / "helper.py").write_text("def pure():\n    return 1\n")
    os.utime(root / "app.py", (OLD, OLD))
    monkeypatch.chdir(root)
    return root


class Run(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def offload(root: Path) -> Run:
    """``offload check`` in ``root`` (the working directory), in this process."""
    assert Path.cwd() == root
    done = CliRunner().invoke(main, ["check"], catch_exceptions=False)
    return Run(done.exit_code, done.stdout, done.stderr)


def offload_in_subprocess(root: Path) -> Run:
    """The real CLI under a deadline: a hang fails the test instead of the suite."""
    done = subprocess.run([sys.executable, "-m", "detector", "check"], cwd=root, capture_output=True,
                          text=True, timeout=60)
    return Run(done.returncode, done.stdout, done.stderr)


def reports_the_finding(done: Run) -> bool:
    return done.returncode == 1 and done.stdout.startswith(FINDING) and "Traceback" not in done.stderr


def base(root: Path) -> Path:
    return root / cache.DIRNAME / cache.FORMAT


def entries(root: Path, where: str) -> list:
    return sorted((base(root) / where).iterdir())


def signed(where: str, name: str, body: bytes, key: bytes) -> bytes:
    """An entry as offload writes it, under ``key``."""
    return secret.mac(key, where.encode(), name.encode(), body) + body


def code_running_pickle(marker: Path) -> bytes:
    """A pickle that only names types reachable from offload's own record modules, through
    dotted names (FunctionType, CodeType), and calls code that creates ``marker``."""
    source = f"lambda: open({str(marker)!r}, 'w').write('ran')"
    code = eval(compile(source, "<planted>", "eval")).__code__
    args = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_nlocals,
            code.co_stacksize, code.co_flags, code.co_code, code.co_consts, code.co_names,
            code.co_varnames, code.co_filename, code.co_name, code.co_qualname, code.co_firstlineno,
            code.co_linetable, code.co_exceptiontable, code.co_freevars, code.co_cellvars)

    def global_(module: str, name: str) -> bytes:
        return b"".join(b"\x8c" + bytes([len(part)]) + part for part in (module.encode(), name.encode())) + b"\x93"

    inner = pickle.dumps(args, protocol=3)[2:-1]  # without PROTO and STOP
    return (b"\x80\x04" + global_("detector.model", "Finding.__init__.__class__")
            + global_("detector.model", "Finding.__init__.__code__.__class__")
            + inner + b"R" + b"}\x86R" + b")R" + b".")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the payload uses the 3.11 code object layout")
def test_a_planted_pickle_payload_runs_no_code(project: Path, tmp_path: Path):
    assert reports_the_finding(offload(project))
    marker = tmp_path / "marker"
    payload = code_running_pickle(marker)
    for path in [base(project) / "index", *entries(project, "files"), *entries(project, "findings")]:
        path.write_bytes(payload)
    done = offload(project)
    assert not marker.exists()
    assert reports_the_finding(done)


@pytest.mark.parametrize("where", ["findings", "files", "plans"])
def test_symlinked_cache_directories_delete_nothing_outside(project: Path, tmp_path: Path, where: str):
    victim = tmp_path / "victim"
    victim.mkdir()
    names = [f"{number:040x}" for number in range(20)] + [f"doc{number}.txt" for number in range(5)]
    for name in names:
        (victim / name).write_text("precious")
        os.utime(victim / name, (OLD, OLD))  # old enough for any pruning rule
    base(project).mkdir(parents=True)
    (base(project) / where).symlink_to(victim, target_is_directory=True)
    done = offload(project)
    assert reports_the_finding(done)
    assert sorted(path.name for path in victim.iterdir()) == sorted(names)  # none deleted, none added
    assert (base(project) / where).is_symlink()
    assert "running without the cache" in done.stderr


@pytest.mark.parametrize("link", [cache.DIRNAME, f"{cache.DIRNAME}/{cache.FORMAT}"])
def test_a_symlinked_cache_directory_is_not_used(project: Path, tmp_path: Path, link: str):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    (project / link).symlink_to(elsewhere, target_is_directory=True)
    done = offload(project)
    assert reports_the_finding(done)
    assert list(elsewhere.iterdir()) == []


def test_pruning_removes_only_the_caches_own_old_entries(project: Path):
    assert reports_the_finding(offload(project))
    files = base(project) / "files"
    stale = files / ("0" * 40)
    foreign = files / "notes.txt"
    for path in (stale, foreign):
        path.write_text("x")
        os.utime(path, (OLD, OLD))
    (project / "app.py").write_text(APP + "\n# edited\n")  # a new entry: this run prunes
    assert reports_the_finding(offload(project))
    assert not stale.exists()
    assert foreign.read_text() == "x"


@pytest.mark.parametrize("planted", ["pickle", "json-signed-elsewhere"])
def test_planted_findings_are_ignored(project: Path, planted: str):
    assert reports_the_finding(offload(project))
    (base(project) / "index").unlink()
    for path in entries(project, "files"):
        path.unlink()
    findings = entries(project, "findings")
    assert findings
    for path in findings:  # "no findings", as an attacker would commit it
        if planted == "pickle":
            path.write_bytes(pickle.dumps([]))
        else:
            path.write_bytes(signed("findings", path.name, b"[]", os.urandom(secret.KEY_BYTES)))
    done = offload(project)
    assert reports_the_finding(done)
    assert "All checks passed" not in done.stderr


def test_a_cache_written_with_another_key_is_ignored(project: Path, tmp_path: Path, monkeypatch):
    with monkeypatch.context() as other_user:
        other_user.setenv("XDG_CACHE_HOME", str(tmp_path / "other"))
        assert reports_the_finding(offload(project))
    assert entries(project, "files") and entries(project, "findings")
    result = runner.check_paths([project], Config(root=project), use_cache=True, jobs=1)
    assert result.cached == 0 and result.analysed == 2  # nothing another key signed is used
    assert [finding.code for finding in result.findings] == ["BLK100"]


def test_malformed_entries_are_recomputed(project: Path):
    """Entries that pass authentication (this user's key) but hold the wrong types."""
    assert reports_the_finding(offload(project))
    key, _ = secret.load()
    assert key is not None
    app = os.path.abspath(project / "app.py")
    good = {path: path.read_bytes() for path in (base(project) / "index", *entries(project, "files"),
                                                 *entries(project, "findings"))}
    summary = [path for path in entries(project, "files")
               if codec.decode_summary(path.read_bytes()[secret.MAC_BYTES:]).module == "app"][0]
    finding = entries(project, "findings")[0]
    cases = [
        ("index", base(project) / "index", {app: 5}),
        ("index", base(project) / "index", [[app, [1, 2, 3, "x", 4]]]),
        ("index", base(project) / "index", {app: [1, 2, 3, "x", True]}),
        ("findings", finding, [["BLK100", "x", "msg", "app.py", None, None, None, [], "", ""]]),
        ("findings", finding, [["BLK100", "x", "msg", "app.py", [1, 1], [1, "2"], None, [], "", ""]]),
        ("findings", finding, {"not": "a list"}),
        ("files", summary, ["app.py", "app", 5, {}, {}, [], False, []]),
        ("files", summary, ["app.py", "app", [], {}, {}, [["x", None]], False, []]),
        ("files", summary, ["app.py", "app"]),
    ]
    for where, path, value in cases:
        for original, data in good.items():
            original.write_bytes(data)
        path.write_bytes(signed(where, path.name, json.dumps(value).encode(), key))
        done = offload(project)
        assert reports_the_finding(done), (where, value, done.stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("where", ["index", "files", "findings", "plans"])
def test_a_fifo_in_the_cache_does_not_hang(project: Path, where: str):
    assert reports_the_finding(offload(project))
    path = base(project) / "index" if where == "index" else entries(project, where)[0]
    if where == "files":
        for reused in entries(project, "findings"):
            reused.unlink()  # so that the run loads summaries
    path.unlink()
    os.mkfifo(path)
    assert reports_the_finding(offload_in_subprocess(project))


def test_the_key_is_created_outside_the_project_private(project: Path, tmp_path: Path, monkeypatch):
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    assert reports_the_finding(offload(project))
    key = home / "offload" / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.stat().st_size == secret.KEY_BYTES
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert [path.name for path in key.parent.iterdir()] == ["key"]  # no temporary file left
    assert not any(path.name == "key" for path in project.rglob("*"))
    secret_bytes = key.read_bytes()
    assert reports_the_finding(offload(project))
    assert key.read_bytes() == secret_bytes  # kept, not made again


@pytest.mark.parametrize("damage", ["readable-by-others", "symlink", "short"])
def test_an_unsafe_key_disables_the_cache(project: Path, tmp_path: Path, monkeypatch, damage: str):
    home = tmp_path / "xdg"
    (home / "offload").mkdir(parents=True, mode=0o700)
    key = home / "offload" / "key"
    if damage == "symlink":
        real = tmp_path / "planted-key"
        real.write_bytes(b"k" * secret.KEY_BYTES)
        real.chmod(0o600)
        key.symlink_to(real)
    else:
        key.write_bytes(b"k" * (secret.KEY_BYTES if damage == "readable-by-others" else 3))
        key.chmod(0o644 if damage == "readable-by-others" else 0o600)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    done = offload(project)
    assert reports_the_finding(done)
    assert "running without the cache" in done.stderr
    if damage == "symlink":  # refused as a link, not "too many levels of symbolic links"
        assert f"running without the cache: {key} is a symlink: the cache key must be a regular file\n" in done.stderr
    assert not (project / cache.DIRNAME).exists()


@pytest.mark.parametrize("replacement", ["symlink", "file"])
def test_a_replaced_library_cache_directory_is_a_warning(project: Path, tmp_path: Path, monkeypatch,
                                                         replacement: str):
    home = tmp_path / "xdg"
    (home / "offload").mkdir(parents=True, mode=0o700)
    libraries = home / "offload" / cache.DIRNAME
    if replacement == "symlink":
        (tmp_path / "elsewhere").mkdir()
        libraries.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    else:
        libraries.write_text("not a directory\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    install(tmp_path / "env", {"slowlib.py": "import time\n\ndef slow():\n    time.sleep(1)\n"})
    (project / "app.py").write_text("import slowlib\n\n\nasync def main():\n    slowlib.slow()\n")
    done = invoke_offload("check", "--python", str(tmp_path / "env"), cwd=project)
    assert done.returncode == 1 and "slowlib.slow()" in done.stdout
    assert done.stderr.count("warning:") == 1
    assert f"warning: running without the cache: {libraries} is a symlink or not a directory\n" in done.stderr
    assert list((tmp_path / "elsewhere").iterdir() if replacement == "symlink" else []) == []


def test_every_source_and_catalogue_file_is_in_the_code_digest():
    import detector
    from detector import catalog

    package = Path(detector.__file__).resolve().parent
    covered = {path.resolve() for _, path in cache._code_files()}
    expected = {path.resolve() for path in package.rglob("*.py") if "__pycache__" not in path.parts}
    expected |= {path.resolve() for path in catalog.rules_dir().glob("*.toml")}
    assert expected and expected <= covered


def test_summaries_survive_the_cache_encoding_unchanged():
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    files = sorted(fixtures.rglob("*.py"))
    config = Config(root=fixtures)
    catalog = effective_catalog(config)
    summaries = [workers.analyse(path.read_bytes(), str(path), catalog, path.stem, False) for path in files]
    assert any(summary.functions and summary.classes and summary.bindings for summary in summaries)
    functions = [function for summary in summaries for function in summary.functions]
    assert any(function.returns for function in functions) and any(function.decorated for function in functions)
    assert any(function.guards for function in functions)
    assert any(summary.constructions for summary in summaries)
    assert any(cls.from_params for summary in summaries for cls in summary.classes.values())
    for summary in summaries:
        assert codec.decode_summary(codec.encode_summary(summary)) == summary
        for finding in summary.diagnostics:
            run = codec.RunFindings([finding], {"/venv/site-packages/lib.py": (120, 17, 18)})
            assert codec.decode_findings(codec.encode_findings(run)) == run


def test_flags_and_symbols_come_back_as_their_own_types():
    flags = CallFlag.ACCESS | CallFlag.MUTATES
    summary = ModuleSummary("a.py", "a", functions=[FunctionSummary("a.f", True, [CallRecord("a.C.x", "self.x", 1, 2, 1, 8, flags)])],
                            classes={"a.C": ClassSummary("a.C", [Symbol("ref", "object"), None], {"x": Symbol("inst", "b.B")})},
                            bindings={"C": Symbol("ref", "a.C"), "y": None})
    decoded = codec.decode_summary(codec.encode_summary(summary))
    assert decoded == summary
    call = decoded.functions[0].calls[0]
    assert type(call.flags) is CallFlag and call.flags == flags
    assert type(decoded.bindings["C"]) is Symbol and decoded.bindings["C"].kind == "ref"
    assert type(decoded.classes["a.C"].attrs["x"]) is Symbol and decoded.classes["a.C"].bases[1] is None


def _flagged_summary() -> ModuleSummary:
    call = CallRecord("a.C.x", "self.x", 1, 2, 1, 8, CallFlag.ACCESS)
    return ModuleSummary("a.py", "a", functions=[FunctionSummary("a.f", True, [call])],
                         bindings={"x": Symbol("ref", "os")})


@pytest.mark.parametrize("damage", ["unknown flag", "negative flags", "flags as text", "unknown symbol kind",
                                    "short symbol"])
def test_the_decoder_rejects_unknown_flags_and_symbols(damage: str):
    data = json.loads(codec.encode_summary(_flagged_summary()))
    call = data[2][0][2][0]
    flags = [f.name for f in dataclasses.fields(CallRecord)].index("flags")
    assert call[flags] == CallFlag.ACCESS.value and data[4]["x"] == ["ref", "os"]  # where the damage goes
    if damage == "unknown flag":
        call[flags] = max(CallFlag).value * 2
    elif damage == "negative flags":
        call[flags] = -1
    elif damage == "flags as text":
        call[flags] = "ACCESS"
    elif damage == "unknown symbol kind":
        data[4]["x"] = ["module", "os"]
    else:
        data[4]["x"] = ["ref"]
    with pytest.raises(codec.Invalid):
        codec.decode_summary(json.dumps(data).encode())


@pytest.mark.parametrize("data", [b"", b"[", b"1e999", b"[" * 100_000 + b"]" * 100_000,
                                  b'["a.py", "a", [], {}, {}, [], 1, []]', b"\xff"])
def test_the_decoder_rejects_what_is_not_a_summary(data: bytes):
    with pytest.raises(codec.Invalid):
        codec.decode_summary(data)


SHADOWING = "import time\n\n\nasync def handler(asyncio):\n    time.sleep(1)\n"
REFUSAL = "no fix: `asyncio` here is a parameter"


@pytest.mark.parametrize("planted", ["unsigned", "json-signed-elsewhere", "signed-out-of-range"])
def test_planted_fix_plans_are_ignored(project: Path, planted: str):
    (project / "app.py").write_text(SHADOWING)
    os.utime(project / "app.py", (OLD, OLD))
    first = offload(project)
    assert REFUSAL in first.stdout
    plans = entries(project, "plans")
    assert plans
    for path in plans:
        body = json.dumps({"0": "planted reason"}).encode()
        if planted == "unsigned":
            path.write_bytes(body)
        elif planted == "json-signed-elsewhere":
            path.write_bytes(signed("plans", path.name, body, os.urandom(secret.KEY_BYTES)))
        else:  # this user's key (as a bug could write it): a position the file's findings do not have
            key, _ = secret.load()
            assert key is not None
            path.write_bytes(signed("plans", path.name, json.dumps({"7": "planted reason"}).encode(), key))
    again = offload(project)
    assert again == first and "planted" not in again.stdout


def test_a_run_prunes_only_the_entries_of_the_kind_it_wrote(project: Path):
    """A run that plans fixes again (its summaries and findings all cached) prunes old plans, and
    leaves old summaries to the runs that write summaries."""
    (project / "app.py").write_text(SHADOWING)
    os.utime(project / "app.py", (OLD, OLD))
    assert REFUSAL in offload(project).stdout
    stale_summary, stale_plan = base(project) / "files" / ("1" * 40), base(project) / "plans" / ("2" * 40)
    for path in (stale_summary, stale_plan):
        path.write_text("x")
        os.utime(path, (OLD, OLD))
    for path in entries(project, "plans"):
        if path != stale_plan:
            path.unlink()  # the next run plans again and writes a plan entry
    assert REFUSAL in offload(project).stdout
    assert not stale_plan.exists()
    assert stale_summary.read_text() == "x"
