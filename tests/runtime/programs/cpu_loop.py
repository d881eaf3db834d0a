"""A coroutine calls a pure-Python CPU-bound helper."""
import asyncio
import time

from _loops import run


def crunch(seconds):
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:  # LOOP-START
        for i in range(200):
            total += i * i
    return total  # LOOP-END


async def main():
    await asyncio.sleep(0.02)
    crunch(0.4)  # STALL
    await asyncio.sleep(0.02)


run(main())
