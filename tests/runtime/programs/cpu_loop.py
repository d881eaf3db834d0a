"""A coroutine calls a pure-Python CPU-bound helper."""
import asyncio
import time

from _loops import run


def crunch(seconds):
    # Seconds of CPU time, not of wall time: on a loaded machine the stall gets longer,
    # and the helper still does all of its work inside it.
    end = time.thread_time() + seconds
    total = 0
    while time.thread_time() < end:  # LOOP-START
        for i in range(200):
            total += i * i
    return total  # LOOP-END


async def main():
    await asyncio.sleep(0.02)
    crunch(0.4)  # STALL
    await asyncio.sleep(0.02)


run(main())
