"""offload check against flake8-async and ruff on the same real async code, in one run.

    /path/to/venv/bin/python benchmarks/bench_static.py [--repeat 5] [--workdir DIR] [--jobs N]

Downloads pinned wheels of real async projects from PyPI (``pip download --no-deps``),
unpacks their Python files side by side into one directory (as in site-packages, so
imports between their modules resolve), adds the standard library's ``asyncio`` package, and
then times, each in its own subprocess with the running venv's executables:

  * ``offload check --no-cache``            cold: every file parsed and analysed
  * ``offload check`` on an empty cache      cold, also writing the cache
  * ``offload check``                        warm: nothing changed
  * ``offload check`` after appending a comment to one file
  * ``flake8 --select ASYNC2``               flake8-async's blocking-call rules
  * ``ruff check --select ASYNC --no-cache``

and prints files, lines, wall and CPU time, peak memory and the ratios.

With ``--dependencies`` it measures instead what following calls into installed libraries costs,
on the projects of ``dependency_corpus.py`` (each with its dependencies in its own venv, every
version pinned; built from PyPI into the workdir, or ``--project NAME=SOURCE:VENV`` for ones at
hand): per project, cold (``--no-cache``) and warm, with ``--no-follow-dependencies`` and with
``--python VENV``, and the user cache's effect: the first run of a project whose libraries an
earlier project put in the user cache (project cache empty, user cache filled). offload always
follows calls through sync helpers across modules (BLK200); the other two check each call
on its own. Runs are repeated (``--repeat``, ``--cold-repeat``; flake8 runs once) and the
median is shown; with several projects, a last row sums each column over them (the corpus as
one run). Peak memory is the largest sum of PSS over the command's process tree, sampled every
20 ms (a forked worker's shared pages count once), and never less than the largest single
process's maximum RSS reported by ``wait4``. Speed claims are the ratios; absolute times depend on
the machine and on what else it runs (the load average is printed before and after).

flake8, flake8-async and ruff are installed from benchmarks/requirements.txt when missing.
Child processes run without PYTHONDONTWRITEBYTECODE, after one warm-up call each, so Python
tools load their modules from bytecode caches as installed tools normally do.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PACKAGES = (  # pinned: the same code on every machine and every run
    "aiohttp==3.10.10",
    "httpx==0.27.2",
    "discord.py==2.4.0",
    "python-telegram-bot==21.6",
    "aiogram==3.13.1",
)
TOUCHED = "aiohttp/client.py"  # a large module many others import
# flake8 runs every installed plugin whatever --select says, and offload registers one: keep
# it out, so the flake8 row measures flake8 with flake8-async as a user without offload has it.
FLAKE8_ALONE = (
    "import sys; from flake8.plugins import finder; finder.BANNED_PLUGINS['offload'] = '0'; "
    "from flake8.main.cli import main; sys.argv[0] = 'flake8'; sys.exit(main())"
)
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# -- the corpus -------------------------------------------------------------------------------
def copy_corpus(source: Path, workdir: Path) -> Path:
    """Any directory of Python code (e.g. a whole standard library), copied so the cache lands in the copy."""
    corpus = workdir / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    shutil.copytree(source, corpus, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "site-packages", ".offload_cache"))
    if not (corpus / "pyproject.toml").exists():
        (corpus / "pyproject.toml").write_text('[project]\nname = "bench-corpus"\nversion = "0"\n')
    return corpus


def build_corpus(workdir: Path) -> Path:
    wheels = workdir / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for spec in PACKAGES:
        name = spec.split("==")[0].replace("-", "_").replace(".", "_").lower()
        version = spec.split("==")[1]
        if not any(w.name.lower().replace(".", "_").startswith(f"{name}-{version}".replace(".", "_"))
                   for w in wheels.glob("*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            "--dest", str(wheels), spec], check=True)
    corpus = workdir / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir()
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.endswith(".py") and ".dist-info/" not in member and ".data/" not in member:
                    archive.extract(member, corpus)
    stdlib_asyncio = Path(sysconfig.get_paths()["stdlib"]) / "asyncio"
    shutil.copytree(stdlib_asyncio, corpus / "asyncio", ignore=shutil.ignore_patterns("__pycache__"))
    # One project root for every tool: module names start at the corpus directory.
    (corpus / "pyproject.toml").write_text('[project]\nname = "bench-corpus"\nversion = "0"\n')
    return corpus


def ensure_tools() -> None:
    missing = [tool for tool in ("flake8", "ruff", "offload") if not (BIN / tool).exists()]
    probe = None
    if "flake8" not in missing:
        probe = subprocess.run([str(BIN / "flake8"), "--version"], capture_output=True, text=True)
    if missing or (probe is not None and "flake8-async" not in probe.stdout):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r", str(HERE / "requirements.txt")],
                       check=True)
    if not (BIN / "offload").exists():
        sys.exit(f"offload is not installed in {BIN.parent}: pip install -e . first")


# -- measuring --------------------------------------------------------------------------------
def _tree_memory(root: int) -> int:
    """Bytes of PSS (RSS where PSS is unavailable) over ``root`` and its descendants."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) * 1024 for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            try:
                with open(f"/proc/{pid}/statm") as handle:
                    total += int(handle.read().split()[1]) * PAGE
            except OSError:
                pass
    return total


@dataclass
class Run:
    wall: float
    cpu: float
    peak: int  # bytes
    output: str
    code: int


def run_once(command: Sequence[str], cwd: Path, env: Dict[str, str]) -> Run:
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.DEVNULL)
        peak = [0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                if os.path.isdir("/proc"):
                    peak[0] = max(peak[0], _tree_memory(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    peak_bytes = max(peak[0], usage.ru_maxrss * 1024)  # ru_maxrss: KiB on Linux
    return Run(wall, usage.ru_utime + usage.ru_stime, peak_bytes, output, process.returncode)


@dataclass
class Row:
    label: str
    runs: List[Run] = field(default_factory=list)
    findings: Optional[int] = None

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def best(self) -> float:
        return min(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def peak(self) -> int:
        return max(r.peak for r in self.runs)


def count_lines(corpus: Path) -> int:
    return sum(path.read_bytes().count(b"\n") for path in corpus.rglob("*.py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each fast command (median shown)")
    parser.add_argument("--cold-repeat", type=int, default=3, help="runs of the cold offload command (median shown)")
    parser.add_argument("--workdir", type=Path, help="keep downloads and corpus here (default: a temporary directory)")
    parser.add_argument("--jobs", type=int, help="offload --jobs (default: offload's own, every core)")
    parser.add_argument("--skip-flake8", action="store_true", help="leave out flake8-async (slow)")
    parser.add_argument("--corpus", type=Path, help="benchmark a copy of this directory instead of the PyPI projects")
    parser.add_argument("--touch", help=f"file to edit, relative to the corpus (default: {TOUCHED}, "
                        "or the largest file)")
    parser.add_argument("--dependencies", action="store_true",
                        help="measure following calls into installed libraries (dependency_corpus.py)")
    parser.add_argument("--project", action="append", default=[], metavar="NAME=SOURCE:VENV",
                        help="with --dependencies: a project at hand and its venv, instead of building them")
    args = parser.parse_args()

    if not args.dependencies:
        ensure_tools()
    elif not (BIN / "offload").exists():
        sys.exit(f"offload is not installed in {BIN.parent}: pip install -e . first")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="offload-bench-"))
    try:
        if args.dependencies:
            report_dependencies(dependency_projects(args.project, workdir), workdir, args)
            return
        corpus = copy_corpus(args.corpus, workdir) if args.corpus else build_corpus(workdir)
        report(corpus, args)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def report(corpus: Path, args) -> None:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    offload = [str(BIN / "offload"), "check", "--exit-zero", "-q", "--output-format", "json"]
    if args.jobs:
        offload += ["--jobs", str(args.jobs)]
    flake8 = [sys.executable, "-c", FLAKE8_ALONE, "--select", "ASYNC2", "--exit-zero", "."]
    ruff = [str(BIN / "ruff"), "check", "--select", "ASYNC", "--no-cache", "--exit-zero", "--output-format", "json",
            "."]
    for tool in ("offload", "flake8", "ruff"):  # writes bytecode caches; loads the plugins once
        subprocess.run([str(BIN / tool), "--version"], cwd=corpus, env=env, capture_output=True)

    files = sorted(corpus.rglob("*.py"))
    lines = count_lines(corpus)
    load_before = os.getloadavg()
    cache_dir = corpus / ".offload_cache"

    rows: List[Row] = []

    def measure(label: str, command: Sequence[str], times: int, before=None) -> Row:
        row = Row(label)
        for _ in range(times):
            if before is not None:
                before()
            row.runs.append(run_once(command, corpus, env))
        rows.append(row)
        return row

    def drop_cache() -> None:
        shutil.rmtree(cache_dir, ignore_errors=True)

    touch_name = args.touch or (TOUCHED if (corpus / TOUCHED).exists() else
                                max(files, key=lambda p: p.stat().st_size).relative_to(corpus).as_posix())
    touched = corpus / touch_name
    counter = [0]

    def touch() -> None:
        counter[0] += 1
        with open(touched, "a") as handle:
            handle.write(f"# benchmark edit {counter[0]}\n")

    cold = measure("offload check --no-cache (cold)", offload + ["--no-cache", "."], args.cold_repeat, drop_cache)
    cold_write = measure("offload check, empty cache (cold, writes cache)", offload + ["."], 1, drop_cache)
    warm = measure("offload check, warm (no change)", offload + ["."], args.repeat)
    edited = measure(f"offload check, warm, 1 file edited ({touch_name})", offload + ["."], args.repeat, touch)
    reference = measure("offload check --no-cache after the edits", offload + ["--no-cache", "."], 1)
    ruff_row = measure("ruff check --select ASYNC --no-cache", ruff, args.repeat)
    flake_row = None if args.skip_flake8 else measure("flake8 --select ASYNC2 (flake8-async)", flake8, 1)
    load_after = os.getloadavg()

    for row in (cold, cold_write, warm, edited, reference):
        row.findings = len(json.loads(row.runs[-1].output or "[]"))
    ruff_row.findings = len(json.loads(ruff_row.runs[-1].output or "[]"))
    if flake_row is not None:
        flake_row.findings = sum(1 for line in flake_row.runs[-1].output.splitlines() if line.strip())
    same_before = cold.runs[-1].output == cold_write.runs[-1].output == warm.runs[-1].output
    same_after = edited.runs[-1].output == reference.runs[-1].output

    versions = {name: " ".join(subprocess.run([str(BIN / name), "--version"], capture_output=True, text=True,
                                              env=env).stdout.split()) for name in ("offload", "ruff", "flake8")}
    what = (f"a copy of {args.corpus}" if args.corpus else
            f"{', '.join(PACKAGES)}, asyncio of Python {sys.version.split()[0]}")
    print(f"corpus: {len(files)} files, {lines:,} lines: {what}")
    print(f"tools: {versions['offload']}; {versions['ruff']}; flake8 {versions['flake8']}")
    print("flake8 runs without offload's own flake8 plugin (see FLAKE8_ALONE)")
    print(f"machine: {os.cpu_count()} cores; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print()
    header = f"{'command':<58} {'runs':>4} {'wall s':>8} {'best s':>8} {'cpu s':>8} {'peak MB':>8} {'findings':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.label:<58} {len(row.runs):>4} {row.wall:>8.3f} {row.best:>8.3f} {row.cpu:>8.2f} "
              f"{row.peak / 2**20:>8.0f} {row.findings if row.findings is not None else '':>8}")
    print()
    print("same offload output cold / cold writing cache / warm:", "yes" if same_before else "NO")
    print("same offload output warm after edits / --no-cache:  ", "yes" if same_after else "NO")
    print()
    if flake_row is not None:
        ratio = flake_row.wall / cold.wall
        print(f"offload cold vs flake8-async:        {ratio:6.1f}x faster   (target >= 20x; "
              f"CPU time {flake_row.cpu / cold.cpu:.1f}x less)")
    print(f"offload warm (no change) vs ruff:    {warm.wall / ruff_row.wall:6.1f}x ruff's time  (target <= 3x)")
    print(f"offload warm, one file edited:       {edited.wall:6.2f} s        (target < 1 s)")
    peak = max(row.peak for row in (cold, cold_write, warm, edited))
    print(f"offload peak memory (process tree):  {peak / 2**20:6.0f} MB       (target < 500 MB)")


# -- following dependencies -------------------------------------------------------------------
def dependency_projects(given: Sequence[str], workdir: Path) -> Dict[str, Tuple[Path, Path]]:
    """name -> (a copy of the project's code, its venv): the ``--project`` ones, else the corpus built."""
    if not given:
        sys.path.insert(0, str(HERE))
        import dependency_corpus  # benchmarks/ is not a package

        built = dependency_corpus.build(workdir)
    else:
        built = {}
        for spec in given:
            name, _, rest = spec.partition("=")
            source, _, venv = rest.rpartition(":")
            if not (name and source and venv):
                sys.exit(f"--project {spec!r}: expected NAME=SOURCE:VENV")
            built[name] = (Path(source), Path(venv))
    return {name: (copy_corpus(source, workdir / "copies" / name), venv) for name, (source, venv) in built.items()}


def report_dependencies(projects: Dict[str, Tuple[Path, Path]], workdir: Path, args) -> None:
    base = dict(os.environ)
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base.pop("VIRTUAL_ENV", None)
    base["NO_COLOR"] = "1"
    offload = [str(BIN / "offload"), "check", "--exit-zero", "-q", "--output-format", "json"]
    if args.jobs:
        offload += ["--jobs", str(args.jobs)]
    subprocess.run([str(BIN / "offload"), "--version"], env=base, capture_output=True)
    load_before = os.getloadavg()
    print(f"offload: {' '.join(subprocess.run([str(BIN / 'offload'), '--version'], capture_output=True, text=True).stdout.split())}")
    print(f"machine: {os.cpu_count()} cores; load average {load_before[0]:.2f} before")
    print(f"runs: cold {args.cold_repeat}, warm {args.repeat} (the run of median wall time); each cell: wall s / CPU s")
    print("cold: --no-cache; warm: project (and user) cache filled, nothing changed; 2nd project: project cache")
    print("empty, user cache filled by an earlier run on the same libraries")
    print()
    header = (f"{'project':<15} {'files':>5} {'cold':>13} {'cold+deps':>13} {'warm':>11} {'warm+deps':>11} "
              f"{'2nd project':>13} {'findings':>8} {'+deps':>5}")
    print(header)
    print("-" * len(header), flush=True)
    totals: Dict[str, List[Run]] = {}  # column -> its run on each project
    for name, (corpus, venv) in projects.items():
        caches = workdir / "user-caches" / name
        without = dict(base, XDG_CACHE_HOME=str(caches / "without"))
        following = dict(base, XDG_CACHE_HOME=str(caches / "with"))
        plain = offload + ["--no-follow-dependencies", "."]
        deps = offload + ["--python", str(venv), "."]

        def median(command: List[str], env: Dict[str, str], times: int, before=None) -> Run:
            runs = []
            for _ in range(times):
                if before is not None:
                    before()
                runs.append(run_once(command, corpus, env))
            return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]

        def drop_project_cache() -> None:
            shutil.rmtree(corpus / ".offload_cache", ignore_errors=True)

        cold = median(plain[:-1] + ["--no-cache", "."], without, args.cold_repeat)
        cold_deps = median(deps[:-1] + ["--no-cache", "."], following, args.cold_repeat)
        drop_project_cache()
        run_once(plain, corpus, without)  # writes the project cache
        warm = median(plain, without, args.repeat)
        drop_project_cache()
        shutil.rmtree(caches / "with", ignore_errors=True)
        run_once(deps, corpus, following)  # writes the project cache and the user cache
        warm_deps = median(deps, following, args.repeat)
        # Another project using the same libraries: its own cache empty, the user cache filled.
        second = median(deps, following, args.cold_repeat, drop_project_cache)
        row = {"cold": cold, "cold+deps": cold_deps, "warm": warm, "warm+deps": warm_deps, "2nd": second}
        for column, run in row.items():
            totals.setdefault(column, []).append(run)
        found, found_deps = (len(json.loads(r.output or "[]")) for r in (warm, warm_deps))
        files = len(list(corpus.rglob('*.py')))
        _dependency_row(name, files, {c: (r.wall, r.cpu) for c, r in row.items()}, f"{found:>8} {found_deps:>5}")
    if len(projects) > 1:  # the corpus as one: each column summed over the projects
        print("-" * len(header))
        _dependency_row("corpus", sum(len(list(c.rglob('*.py'))) for c, _ in projects.values()),
                        {c: (sum(r.wall for r in runs), sum(r.cpu for r in runs)) for c, runs in totals.items()}, "")
    print(f"load average {os.getloadavg()[0]:.2f} after")


def _dependency_row(name: str, files: int, cells: Dict[str, Tuple[float, float]], found: str) -> None:
    """One row of the dependency table (wall s / CPU s per column), and its CPU ratios."""
    widths = {"cold": 13, "cold+deps": 13, "warm": 11, "warm+deps": 11, "2nd": 13}
    shown = " ".join(f"{f'{cells[c][0]:.1f}/{cells[c][1]:.1f}':>{w}}" for c, w in widths.items())
    cpu = {c: cpu for c, (_, cpu) in cells.items()}
    print(f"{name:<15} {files:>5} {shown} {found}".rstrip())
    print(f"{'':<15} CPU: cold with deps {cpu['cold+deps'] / cpu['cold']:.2f}x (target <= 2x), warm with deps "
          f"{cpu['warm+deps'] / cpu['warm']:.2f}x (target <= 1.5x), 2nd project {cpu['2nd'] / cpu['cold']:.2f}x "
          f"of cold without deps", flush=True)

if __name__ == "__main__":
    main()
