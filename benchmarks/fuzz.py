"""Fuzz `offload check` with generated programs and mutated real modules.

    python benchmarks/fuzz.py                 # 10,000 programs
    python benchmarks/fuzz.py -n 500 --seed 7 --keep crashes/

Programs come from hypothesmith (valid Python from the grammar and from libcst's node types)
and from random mutations of the standard library's asyncio modules (deleted, duplicated and
swapped lines, stray brackets and quotes, truncation, deep parentheses, NUL bytes, look-alike
identifiers). They are checked in batches, each batch four times with the real CLI: without
the cache with -j 1 and -j 2, then with a cold and a warm cache. A batch fails when a run
exits with anything but 0 or 1, prints a traceback, reports BLK903 (offload failed on a file),
or when the four runs disagree; its files are then checked one by one to name the culprits.
Prints one line per problem and a summary; exits 1 when anything was found.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

RUNS = (
    ("no cache, -j 1", ["--no-cache", "-j", "1"]),
    ("no cache, -j 2", ["--no-cache", "-j", "2"]),
    ("cold cache, -j 2", ["-j", "2"]),
    ("warm cache, -j 1", ["-j", "1"]),
)


@dataclass
class Problem:
    what: str
    files: List[str] = field(default_factory=list)


def generated(count: int, seed: int) -> List[str]:
    """``count`` programs from hypothesmith (fewer when it repeats itself)."""
    import hypothesmith
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    found: List[str] = []

    @with_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(hypothesmith.from_grammar() | hypothesmith.from_node())
    def collect(source: str) -> None:
        found.append(source)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings of the generated code
        collect()
    return found


_SNIPPETS = ["(", ")", "[", "]", "{", "}", ":", "\\", "'", '"""', "async ", "await ", "lambda: ", "\t", "\x00",
             "\u00e9", "\uff54\uff49\uff4d\uff45", "if x:\n", "elif y:\n", " and ", ".", "*", "@", "\n    ",
             "time.sleep(1)\n", "async def f():\n    open(p).read()\n", "# noqa\n", "\r", "\ufeff", "yield "]


def _seed_modules() -> List[bytes]:
    folder = Path(asyncio.__file__).parent
    return [path.read_bytes() for path in sorted(folder.glob("*.py"))]


def mutated(count: int, seed: int) -> List[bytes]:
    """``count`` stdlib asyncio modules, each changed by one to four random edits."""
    rng = random.Random(seed)
    modules = _seed_modules()
    found = []
    for _ in range(count):
        data = rng.choice(modules)
        for _ in range(rng.randint(1, 4)):
            data = _mutate(data, rng)
        found.append(data)
    return found


def _mutate(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    at = rng.randrange(len(lines))
    kind = rng.randrange(7)
    if kind == 0:
        del lines[at:at + rng.randint(1, 20)]
    elif kind == 1:
        lines.insert(at, lines[rng.randrange(len(lines))])
    elif kind == 2:
        other = rng.randrange(len(lines))
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == 3:
        line = lines[at]
        cut = rng.randint(0, len(line))
        lines[at] = line[:cut] + rng.choice(_SNIPPETS).encode("utf-8") + line[cut:]
    elif kind == 4:
        return data[:rng.randrange(len(data) + 1)]
    elif kind == 5:
        depth = rng.choice([10, 100, 199, 250, 1000, 3000])
        lines[at] = lines[at].replace(b"(", b"(" * depth, 1).replace(b")", b")" * depth, 1)
    else:
        lines[at] = lines[at].replace(b"time", "\uff54ime".encode("utf-8")).replace(b"    ", b"\t", 1)
    return b"\n".join(lines)


def _run(root: Path, options: Sequence[str], files: Sequence[str], timeout: float) -> "tuple[Optional[list], str]":
    """The findings of one CLI run, or None and what went wrong."""
    try:
        done = subprocess.run([sys.executable, "-m", "detector", "check", "-q", "--output-format", "json",
                               *options, *files], cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"no answer after {timeout:.0f} s"
    if done.returncode not in (0, 1):
        return None, f"exit status {done.returncode}: {done.stderr.strip()[-300:]}"
    if "Traceback" in done.stderr:
        return None, f"traceback: {done.stderr.strip()[-300:]}"
    try:
        found = json.loads(done.stdout)
    except ValueError:
        return None, f"output is not JSON: {done.stdout[:200]!r}"
    failed = [f"{r['filename']}: {r['message']}" for r in found if r["code"] == "BLK903"]
    if failed:
        return None, f"BLK903: {failed[0]}"
    return found, ""


def check_batch(programs: Sequence[bytes], timeout: float = 600) -> List[Problem]:
    """Write the programs into a fresh project and check it four ways; name the culprits."""
    problems: List[Problem] = []
    root = Path(tempfile.mkdtemp(prefix="offload-fuzz-"))
    try:
        (root / "pyproject.toml").write_text("[tool.offload]\n")
        names = []
        for index, data in enumerate(programs):
            name = f"p{index:05d}.py"
            (root / name).write_bytes(data)
            names.append(name)
        results = []
        for label, options in RUNS:
            found, error = _run(root, options, ["."], timeout)
            if found is None:
                problems += _culprits(root, names, label, options, error, timeout)
                return problems
            results.append((label, found))
        first_label, first = results[0]
        for label, found in results[1:]:
            if found != first:
                differing = sorted({r["filename"] for r in found} ^ {r["filename"] for r in first}
                                   | {r["filename"] for r in found if r not in first}
                                   | {r["filename"] for r in first if r not in found})
                problems.append(Problem(f"findings differ between '{first_label}' and '{label}'",
                                        [(root / n).read_bytes().decode("utf-8", "replace") for n in differing[:5]]))
        return problems
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _culprits(root: Path, names: Sequence[str], label: str, options: Sequence[str], error: str,
              timeout: float) -> List[Problem]:
    problems = []
    for name in names:
        found, own_error = _run(root, ["--no-cache", "-j", "1"], [name], timeout)
        if found is None:
            problems.append(Problem(f"{own_error}", [(root / name).read_bytes().decode("utf-8", "replace")]))
    if not problems:  # only the whole batch fails (the pool, the cache): report the batch
        problems.append(Problem(f"batch run '{label}' failed: {error}", []))
    return problems


def batches(count: int, size: int, seed: int) -> Iterator[List[bytes]]:
    """Alternating batches of generated programs and mutated modules."""
    done = 0
    number = 0
    while done < count:
        take = min(size, count - done)
        if number % 2 == 0:
            programs = [source.encode("utf-8", "surrogatepass") for source in generated(take, seed + number)]
        else:
            programs = mutated(take, seed + number)
        done += take
        number += 1
        yield programs[:take]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--programs", type=int, default=10_000, help="programs to check (default 10,000)")
    parser.add_argument("--batch", type=int, default=250, help="programs per project checked at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the programs that caused problems into this folder")
    args = parser.parse_args(argv)
    started = time.monotonic()
    ran = 0
    problems: List[Problem] = []
    for programs in batches(args.programs, args.batch, args.seed):
        found = check_batch(programs)
        ran += len(programs)
        for problem in found:
            print(f"PROBLEM: {problem.what}", flush=True)
        problems += found
        print(f"{ran} programs checked, {len(problems)} problems, {time.monotonic() - started:.0f} s", flush=True)
    if args.keep is not None and problems:
        args.keep.mkdir(parents=True, exist_ok=True)
        for index, problem in enumerate(problems):
            for number, text in enumerate(problem.files):
                (args.keep / f"problem{index}_{number}.py").write_text(text)
    print(f"done: {ran} programs, {len(problems)} problems (crashes, tracebacks, BLK903 or disagreeing runs) "
          f"in {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
