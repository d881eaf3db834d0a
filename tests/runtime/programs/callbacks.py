"""Thousands of tasks, each doing a little work per step: no single callback is long."""
import asyncio

from _loops import run

TASKS = 8000


async def small():
    for _ in range(2):
        total = 0
        for i in range(1500):
            total += i
        await asyncio.sleep(0)


async def main():
    await asyncio.sleep(0.02)
    await asyncio.gather(*(small() for _ in range(TASKS)))


run(main())
