"""Wall time of a small pytest-asyncio suite: plain, --offload-watch, --offload-watch --offload-strict.

    python benchmarks/pytest_overhead.py [--repeat 5] [--tests 200]

The suite is written to a temporary directory: each test steps the loop, reads a
file through ``asyncio.to_thread``, checks a path offloaded, and talks to a
TCP echo server on 127.0.0.1 (none of it blocks the loop, so no test fails). Each
mode runs the whole suite in a fresh ``python -m pytest`` process; runs are
interleaved and the best time of each mode is kept.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

SUITE = '''
import asyncio
import os

import pytest


async def echo_round_trips(count):
    async def serve(reader, writer):
        while data := await reader.read(4096):
            writer.write(data)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    for _ in range(count):
        writer.write(b"ping")
        await reader.readexactly(4)
    writer.close()
    server.close()
    await server.wait_closed()


def read_self():
    with open(__file__, "rb") as handle:
        return handle.read(64)


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({tests}))
async def test_work(n):
    for _ in range(200):
        await asyncio.sleep(0)
    assert await asyncio.to_thread(read_self)
    assert await asyncio.to_thread(os.path.exists, __file__)
    await echo_round_trips(20)
'''

INI = """[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""

MODES = {
    "plain": [],
    "watch": ["--offload-watch"],
    "watch+strict": ["--offload-watch", "--offload-strict"],
}


def run(directory: str, options) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *options],
        cwd=directory, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"the suite failed with {options}:\n{result.stdout[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "test_suite.py"), "w") as handle:
            handle.write(SUITE.replace("{tests}", str(args.tests)))
        with open(os.path.join(directory, "pytest.ini"), "w") as handle:
            handle.write(INI)
        best = {mode: float("inf") for mode in MODES}
        names = list(MODES)
        for rep in range(args.repeat):
            for mode in (names if rep % 2 == 0 else names[::-1]):
                best[mode] = min(best[mode], run(directory, MODES[mode]))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.tests} pytest-asyncio tests; "
          f"best of {args.repeat}")
    plain, watch = best["plain"], best["watch"]
    for mode in names:
        value = best[mode]
        extra = f" ({(value / watch - 1) * 100:+.1f}% vs watch)" if mode == "watch+strict" else ""
        print(f"{mode:<14} {value:7.3f}s ({(value / plain - 1) * 100:+.1f}% vs plain){extra}")


if __name__ == "__main__":
    main()
