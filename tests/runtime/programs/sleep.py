"""A coroutine calls time.sleep on the loop."""
import asyncio
import time

from _loops import run


async def main():
    await asyncio.sleep(0.02)
    time.sleep(0.4)  # STALL
    await asyncio.sleep(0.02)


run(main())
