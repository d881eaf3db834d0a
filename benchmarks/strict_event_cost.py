"""What strict mode's audit hook and wrappers cost per event or call, by where it happens.

    python benchmarks/strict_event_cost.py [--events 200000] [--repeat 5]

Raises ``os.listdir`` (a listed event) and ``builtins.id`` (an unlisted one) with
``sys.audit`` — the hook's work without the I/O — and reports the CPU time per
event, best of several runs: without strict mode, with strict mode off the loop
(a plain thread: what offloaded work pays), and on the loop inside a task (a site
already reported: each further call walks the stack and adds to the count).
Then the same for a wrapper (what ``os.stat`` or ``Future.result`` pay), wrapped
around a function that does nothing: the call itself, the wrapper off the loop,
and on the loop for a call that cannot wait (a done future, as asyncio reads an
executor's result).
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from detector.runtime import strict, strict_wraps  # noqa: E402


def nothing(*args, **kwargs):
    return None


WRAPPED_NOTHING = strict_wraps._wrap(nothing, "concurrent.futures.Future.result", strict_wraps._future_result)
DONE = concurrent.futures.Future()
DONE.set_result(None)


def burst(event: str, count: int) -> float:
    audit = sys.audit
    start = time.thread_time()
    for _ in range(count):
        audit(event, ".")
    return time.thread_time() - start


def calls(function, count: int) -> float:
    start = time.thread_time()
    for _ in range(count):
        function(DONE)
    return time.thread_time() - start


def in_thread(event: str, count: int) -> float:
    out = []
    thread = threading.Thread(target=lambda: out.append(burst(event, count)))
    thread.start()
    thread.join()
    return out[0]


def on_loop(event: str, count: int) -> float:
    async def main():
        return burst(event, count)

    return asyncio.run(main())


def in_thread_calls(function, count: int) -> float:
    out = []
    thread = threading.Thread(target=lambda: out.append(calls(function, count)))
    thread.start()
    thread.join()
    return out[0]


def on_loop_calls(function, count: int) -> float:
    async def main():
        return calls(function, count)

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.events
    rows = []

    def best(function, event):
        return min(function(event, n) for _ in range(args.repeat)) / n * 1e9

    rows.append(("no audit hook, plain thread", best(in_thread, "os.listdir")))
    log = strict.attach(strict.StrictLog())
    rows.append(("strict on, unlisted event", best(in_thread, "builtins.id")))
    rows.append(("strict on, plain thread", best(in_thread, "os.listdir")))
    rows.append(("strict on, on the loop (reported)", best(on_loop, "os.listdir")))
    strict.detach(log)
    rows.append(("strict attached then off", best(in_thread, "os.listdir")))
    reported = log.list()
    assert len(reported) == 1 and reported[0].count == n * args.repeat, [(c.event, c.count) for c in reported]
    print(f"Python {sys.version.split()[0]}; CPU time per sys.audit() call, best of {args.repeat} x {n}")
    for label, ns in rows:
        print(f"{label:<36} {ns:8.0f} ns")

    rows = [("the call, unwrapped", best(lambda _, count: calls(nothing, count), None)),
            ("wrapped, strict off", best(lambda _, count: calls(WRAPPED_NOTHING, count), None))]
    log = strict.attach(strict.StrictLog())
    rows.append(("wrapped, plain thread", best(in_thread_calls, WRAPPED_NOTHING)))
    rows.append(("wrapped, on the loop, done future", best(on_loop_calls, WRAPPED_NOTHING)))
    strict.detach(log)
    strict_wraps.uninstall()
    assert log.list() == []
    print(f"CPU time per call of a function that does nothing, best of {args.repeat} x {n}")
    for label, ns in rows:
        print(f"{label:<36} {ns:8.0f} ns")


if __name__ == "__main__":
    main()
