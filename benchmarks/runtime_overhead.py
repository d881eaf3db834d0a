"""Overhead of the runtime watchdog and strict mode on loop-heavy workloads, against asyncio debug mode.

    python benchmarks/runtime_overhead.py [--repeat 7] [--debug-repeat 2] [--loops asyncio,uvloop]
                                          [--baseline executor|single]

Each workload runs on a fresh loop (``asyncio.run`` / ``uvloop.run``) in four
modes: plain (watchdog hooks not installed), with the watchdog (threshold 0.1 s),
with the watchdog and strict mode (the audit hook and the wrappers), and in
asyncio debug mode. An audit hook cannot be removed: after the first strict run
it stays, inert, in the other modes' runs too (it runs only when an audited
event is raised, and returns at its first test while strict mode is off). Runs are interleaved and the best time of each mode is
kept, so slow phases of a busy machine hit all modes alike. Figures are ratios
measured in this one run; absolute times depend on the machine.

Baselines. The watchdog needs a thread, and a process with two live threads
pays more for every system call on a file descriptor (Linux skips reference
counting only while a process has a single thread) and for some glibc locks:
several percent on uvloop's tight loop, whoever owns the second thread. Real
asyncio programs almost always have one: the default executor keeps its worker
threads after the first ``getaddrinfo``, ``to_thread`` or ``run_in_executor``.
So by default (``--baseline executor``) every run, in every mode, first runs one
``run_in_executor`` call, leaving an idle worker thread, as such a program
would. ``--baseline single`` measures against a strictly single-threaded loop
instead, which charges the cost of having any second thread to the watchdog.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from detector.runtime import hooks, strict, strict_wraps  # noqa: E402
from detector.runtime.api import subscribe  # noqa: E402

SLEEP_STEPS = 200_000
TASKS, TASK_STEPS = 20_000, 5
CLIENTS, ROUND_TRIPS = 10, 1_000


async def sleep0():
    for _ in range(SLEEP_STEPS):
        await asyncio.sleep(0)


async def many_tasks():
    async def task():
        for _ in range(TASK_STEPS):
            await asyncio.sleep(0)

    await asyncio.gather(*(task() for _ in range(TASKS)))


async def echo():
    async def serve(reader, writer):
        while data := await reader.read(4096):
            writer.write(data)
        writer.close()

    async def client(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(ROUND_TRIPS):
            writer.write(b"ping")
            await reader.readexactly(4)
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.gather(*(client(port) for _ in range(CLIENTS)))
    server.close()
    await server.wait_closed()


OFFLOADED_READS = 2_000


async def offloaded_reads():
    """File reads offloaded to the default executor: audited events on worker threads."""

    def read():
        with open(__file__, "rb") as handle:
            handle.read(64)
        os.path.exists(__file__)

    await asyncio.gather(*(asyncio.to_thread(read) for _ in range(OFFLOADED_READS)))


WORKLOADS = {
    f"{SLEEP_STEPS // 1000}k sleep(0)": sleep0,
    f"{TASKS // 1000}k tasks x {TASK_STEPS} steps": many_tasks,
    f"TCP echo {CLIENTS}x{ROUND_TRIPS}": echo,
    f"{OFFLOADED_READS // 1000}k to_thread(open)": offloaded_reads,
}


def run_workload(workload, loop_kind: str, executor: bool, debug: bool = False) -> None:
    """One run of ``workload`` on a fresh loop of ``loop_kind``."""
    async def main():
        if executor:  # leaves an idle worker thread, as any name lookup would
            await asyncio.get_running_loop().run_in_executor(None, int)
        await workload()

    if loop_kind == "uvloop":
        import uvloop

        uvloop.run(main(), debug=debug)
    else:
        asyncio.run(main(), debug=debug)


def run_once(workload, loop_kind: str, mode: str, executor: bool, clock=time.perf_counter) -> float:
    stalls = []
    subscription = None
    log = None
    if mode in ("watchdog", "strict"):
        subscription = subscribe(stalls.append, 0.1)
    else:
        hooks.uninstall()
    if mode == "strict":
        log = strict.attach(strict.StrictLog())
    debug = mode == "debug"
    try:
        start = clock()
        run_workload(workload, loop_kind, executor, debug)
        return clock() - start
    finally:
        if subscription is not None:
            subscription.close()
        if log is not None:
            strict.detach(log)
            strict_wraps.uninstall()
            assert not log.list(), "a workload made a blocking call on the loop"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per mode (best kept)")
    parser.add_argument("--debug-repeat", type=int, default=2, help="runs in debug mode (slow)")
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--workloads", default=",".join(str(i) for i in range(len(WORKLOADS))),
                        help="indexes of the workloads to run, e.g. 0,2")
    parser.add_argument("--baseline", choices=["executor", "single"], default="executor",
                        help="executor: loops have an idle executor thread (default); single: none")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: the process's CPU time (all threads), steadier on a loaded machine")
    args = parser.parse_args()
    executor = args.baseline == "executor"
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # debug mode's slow-callback log lines
    warm = threading.Thread(target=lambda: None)
    warm.start()
    warm.join()

    names = list(WORKLOADS)
    chosen = [names[int(i)] for i in args.workloads.split(",")]
    loops = [kind for kind in args.loops.split(",") if kind]
    baseline = "loops with an idle executor thread" if executor else "single-threaded loops"
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {baseline}; {args.clock} time; best of {args.repeat} "
          f"(debug mode: best of {args.debug_repeat})")
    print(f"{'workload':<26} {'loop':<8} {'plain':>9} {'watchdog':>18} {'watchdog+strict':>18} "
          f"{'strict vs watchdog':>18} {'debug mode':>20}")
    for name in chosen:
        for loop_kind in loops:
            best = {"plain": float("inf"), "watchdog": float("inf"), "strict": float("inf"), "debug": float("inf")}
            for rep in range(args.repeat):
                modes = ["plain", "watchdog", "strict"] if rep % 2 == 0 else ["strict", "watchdog", "plain"]
                if rep < args.debug_repeat:
                    modes.append("debug")
                for mode in modes:
                    best[mode] = min(best[mode], run_once(WORKLOADS[name], loop_kind, mode, executor, clock))
            plain = best["plain"]

            def cell(mode):
                value = best[mode]
                if value == float("inf"):
                    return "-"
                return f"{value:.3f}s ({(value / plain - 1) * 100:+.1f}%)"

            versus = f"{(best['strict'] / best['watchdog'] - 1) * 100:+.1f}%"
            print(f"{name:<26} {loop_kind:<8} {plain:>8.3f}s {cell('watchdog'):>18} {cell('strict'):>18} "
                  f"{versus:>18} {cell('debug'):>20}", flush=True)


if __name__ == "__main__":
    main()
