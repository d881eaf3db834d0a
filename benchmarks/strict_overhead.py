"""What strict mode costs on top of the watchdog: ratios against plain watch, measured in the same run.

    python benchmarks/strict_overhead.py [--repeat 21] [--runs 3] [--suite-repeat 11] [--tests 300]
                                         [--clock cpu|wall] [--loops asyncio,uvloop] [--workloads 0,1,2,3]

Two kinds of work, each measured in two modes, plain watch and watch + strict:

* the loop-heavy workloads of ``runtime_overhead.py``. Each mode has a worker
  process of its own, started once: the watch worker subscribes to the watchdog
  and never installs strict mode, so its runs pay nothing for an audit hook (one
  cannot be removed once installed); the strict worker also attaches a strict
  log for its whole life, as ``offload watch --strict`` does. A sample is
  ``--runs`` runs of the workload (each on a fresh loop) in one worker, timed
  there;
* a generated pytest-asyncio suite of ``--tests`` small tests, a sample being one
  fresh ``python -m pytest`` with ``--offload-watch``, or with ``--offload-strict`` too.

The two modes' samples alternate (watch, strict, then strict, watch, ...), so that
a busy machine's slow phases hit both alike; each pair gives one ratio strict /
watch. The script prints the median ratio, its interquartile range and its lowest
and highest values, and each mode's median time. ``--clock cpu`` (the default)
counts the CPU time of the process that did the work, all its threads included:
on a machine shared with other jobs it varies less than wall time, though still by
tens of percent from one sample to the next, hence the many samples.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest_overhead  # noqa: E402
import runtime_overhead  # noqa: E402

MODES = ("watchdog", "strict")
# warn: a stall the machine causes (a loaded one can keep a thread off the CPU for 0.1 s)
# must not end the measurement.
PYTEST_OPTIONS = {"watchdog": ["--offload-watch", "--offload-mode", "warn"],
                  "strict": ["--offload-watch", "--offload-mode", "warn", "--offload-strict"]}
Samples = Dict[str, List[float]]


# -- the worker processes (one per mode) -------------------------------------------------------
def worker(mode: str, clock_name: str) -> None:
    """Serve samples on stdin/stdout: a line ``index loop_kind runs`` in, the time taken out."""
    from detector.runtime.api import subscribe

    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    clock = time.process_time if clock_name == "cpu" else time.perf_counter
    stalls: List[object] = []
    subscribe(stalls.append, 0.1)
    log = None
    if mode == "strict":
        from detector.runtime import strict

        log = strict.attach(strict.StrictLog())
    workloads = list(runtime_overhead.WORKLOADS.values())
    for request in sys.stdin:
        index, loop_kind, runs = request.split()
        start = clock()
        for _ in range(int(runs)):
            runtime_overhead.run_workload(workloads[int(index)], loop_kind, executor=True)
        elapsed = clock() - start
        calls = log.list() if log is not None else []
        print(json.dumps({"time": elapsed, "strict_calls": len(calls)}), flush=True)


class Worker:
    def __init__(self, mode: str, clock_name: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", mode, "--clock", clock_name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def measure(self, index: int, loop_kind: str, runs: int) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{index} {loop_kind} {runs}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            sys.exit(f"the worker ended (exit status {self.process.wait()})")
        result = json.loads(answer)
        if result["strict_calls"]:
            sys.exit("a workload made a blocking call on the loop")
        return float(result["time"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


# -- the pytest suite ---------------------------------------------------------------------------
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


# -- sampling and reporting ---------------------------------------------------------------------
def alternate(measure: Callable[[str], float], repeat: int) -> Samples:
    """``repeat`` samples of each mode, the two run back to back in alternating order."""
    samples: Samples = {mode: [] for mode in MODES}
    for rep in range(repeat):
        for mode in (MODES if rep % 2 == 0 else MODES[::-1]):
            samples[mode].append(measure(mode))
    return samples


def quartiles(values: List[float]) -> Tuple[float, float]:
    if len(values) < 4:
        return min(values), max(values)
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high


def line(name: str, samples: Samples) -> str:
    ratios = [s / w for s, w in zip(samples["strict"], samples["watchdog"])]
    low, high = quartiles(ratios)

    def pct(value: float) -> str:
        return f"{(value - 1) * 100:+.1f}%"

    return (f"{name:<30} {statistics.median(samples['watchdog']):8.3f}s {statistics.median(samples['strict']):8.3f}s "
            f"{pct(statistics.median(ratios)):>8}  [{pct(low)} .. {pct(high)}]  "
            f"({pct(min(ratios))} .. {pct(max(ratios))})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="samples (ratios) per workload")
    parser.add_argument("--runs", type=int, default=3, help="runs of a workload per sample")
    parser.add_argument("--suite-repeat", type=int, default=11, help="samples (ratios) of the pytest suite")
    parser.add_argument("--tests", type=int, default=300, help="tests in the generated pytest-asyncio suite")
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--workloads", default=",".join(str(i) for i in range(len(runtime_overhead.WORKLOADS))),
                        help="indexes of runtime_overhead.py's workloads, e.g. 0,2 (empty: none)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.clock)
        return
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"{args.clock} time; strict vs plain watch, per sample pair: median [quartiles] (lowest .. highest)")
    print(f"{'work':<30} {'watch':>9} {'strict':>9} {'ratio':>8}")
    names = list(runtime_overhead.WORKLOADS)
    indexes = [int(index) for index in filter(None, args.workloads.split(","))]
    if indexes:
        workers = {mode: Worker(mode, args.clock) for mode in MODES}
        try:
            for index in indexes:
                for loop_kind in filter(None, args.loops.split(",")):
                    samples = alternate(lambda mode: workers[mode].measure(index, loop_kind, args.runs), args.repeat)
                    print(line(f"{names[index]} ({loop_kind})", samples), flush=True)
        finally:
            for each in workers.values():
                each.close()
    if args.suite_repeat:
        with tempfile.TemporaryDirectory() as directory:
            with open(os.path.join(directory, "test_suite.py"), "w") as handle:
                handle.write(pytest_overhead.SUITE.replace("{tests}", str(args.tests)))
            with open(os.path.join(directory, "pytest.ini"), "w") as handle:
                handle.write(pytest_overhead.INI)
            samples = alternate(lambda mode: run_suite(directory, mode, args.clock == "cpu"), args.suite_repeat)
            print(line(f"pytest-asyncio, {args.tests} tests", samples), flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
