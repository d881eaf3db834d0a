"""Thousands of tasks, each doing a little work per step: no single callback is long."""
import asyncio

from _loops import run

TASKS = 8000


async def small(start):
    await start.wait()
    for _ in range(2):
        total = 0
        for i in range(1500):
            total += i
        await asyncio.sleep(0)


async def main():
    start = asyncio.Event()
    tasks = []
    for _ in range(TASKS // 500):  # created in batches, so main itself never stalls
        tasks += [asyncio.ensure_future(small(start)) for _ in range(500)]
        await asyncio.sleep(0)
    start.set()  # all of them become ready at once
    await asyncio.gather(*tasks)


run(main())
