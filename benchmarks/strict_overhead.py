"""What strict mode costs on top of the watchdog: ratios against plain watch, measured in the same run.

    python benchmarks/strict_overhead.py [--repeat 7] [--tests 300] [--clock wall|cpu] [--loops asyncio,uvloop]

Two kinds of work, each run ``--repeat`` times in two modes, interleaved (watch,
strict, then strict, watch), so that a busy machine's slow phases hit both alike:

* the loop-heavy workloads of ``runtime_overhead.py``, in this process: the
  watchdog subscribed, then the watchdog plus strict mode (audit hook and wrappers);
* a generated pytest-asyncio suite of ``--tests`` small tests, each mode a fresh
  ``python -m pytest`` with ``--offload-watch``, then with ``--offload-strict`` too.

Each repetition gives one ratio strict / watch; the script prints their median
and their spread (lowest and highest). ``--clock cpu`` counts CPU time (this
process's, or the pytest child's) instead of wall time: steadier when other
processes compete for the CPUs.
"""
from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest_overhead  # noqa: E402
import runtime_overhead  # noqa: E402

MODES = ("watchdog", "strict")
PYTEST_OPTIONS = {"watchdog": ["--offload-watch"], "strict": ["--offload-watch", "--offload-strict"]}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_suite(directory: str, mode: str, cpu: bool) -> float:
    """One run of the generated suite in a fresh pytest process: wall or CPU seconds."""
    start, start_cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         *PYTEST_OPTIONS[mode]],
        cwd=directory, capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"the suite failed in mode {mode}:\n{result.stdout[-2000:]}")
    return _children_cpu() - start_cpu if cpu else time.perf_counter() - start


def ratios(measure: Callable[[str], float], repeat: int) -> List[float]:
    """strict / watch for each repetition, the two modes run back to back in alternating order."""
    out = []
    for rep in range(repeat):
        times: Dict[str, float] = {}
        for mode in (MODES if rep % 2 == 0 else MODES[::-1]):
            times[mode] = measure(mode)
        out.append(times["strict"] / times["watchdog"])
    return out


def line(name: str, values: List[float]) -> str:
    median = statistics.median(values)
    return (f"{name:<34} {(median - 1) * 100:+6.1f}%   "
            f"[{(min(values) - 1) * 100:+.1f}% .. {(max(values) - 1) * 100:+.1f}%]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="repetitions (ratios) per workload")
    parser.add_argument("--tests", type=int, default=300, help="tests in the generated pytest-asyncio suite")
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--workloads", default=",".join(str(i) for i in range(len(runtime_overhead.WORKLOADS))),
                        help="indexes of runtime_overhead.py's workloads, e.g. 0,2 (empty: none)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    cpu = args.clock == "cpu"
    clock = time.process_time if cpu else time.perf_counter
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.clock} time; {args.repeat} repetitions; "
          f"strict vs plain watch: median [lowest .. highest]")
    names = list(runtime_overhead.WORKLOADS)
    for index in filter(None, args.workloads.split(",")):
        name = names[int(index)]
        for loop_kind in filter(None, args.loops.split(",")):
            workload = runtime_overhead.WORKLOADS[name]
            values = ratios(lambda mode: runtime_overhead.run_once(workload, loop_kind, mode, True, clock),
                            args.repeat)
            print(line(f"{name} ({loop_kind})", values), flush=True)
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "test_suite.py"), "w") as handle:
            handle.write(pytest_overhead.SUITE.replace("{tests}", str(args.tests)))
        with open(os.path.join(directory, "pytest.ini"), "w") as handle:
            handle.write(pytest_overhead.INI)
        values = ratios(lambda mode: run_suite(directory, mode, cpu), args.repeat)
        print(line(f"pytest-asyncio, {args.tests} tests", values), flush=True)


if __name__ == "__main__":
    main()
