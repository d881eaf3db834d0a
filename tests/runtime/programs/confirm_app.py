"""Stalls for `offload confirm`: a direct call, one through a helper, CPU work, dead code."""
import asyncio
import time


def helper():
    time.sleep(0.3)  # HELPER-SLEEP


def crunch(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def direct():
    time.sleep(0.3)  # DIRECT


async def via_helper():
    helper()  # VIA-HELPER


async def never_called():
    time.sleep(1)  # NEVER


async def main():
    await direct()
    await asyncio.sleep(0.05)
    await via_helper()
    await asyncio.sleep(0.05)
    crunch(0.3)  # CPU


asyncio.run(main())
