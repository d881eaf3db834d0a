"""Thousands of tasks, each doing a little work per step: no single callback is long."""
import asyncio
import gc

from _loops import run

TASKS = 8000


async def small(start, done, left):
    await start.wait()
    for step in range(2):
        total = 0
        for i in range(1500):
            total += i
        if step == 0:  # each loop iteration runs the same work for every task: no light tail
            await asyncio.sleep(0)
    left[0] -= 1
    if not left[0]:
        done.set()


async def main():
    start, done = asyncio.Event(), asyncio.Event()
    left = [TASKS]
    tasks = []
    # Small batches: main itself never stalls, even on a machine so loaded that the loop
    # thread gets a tenth of a CPU.
    for _ in range(TASKS // 10):
        tasks += [asyncio.ensure_future(small(start, done, left)) for _ in range(10)]
        await asyncio.sleep(0)
    start.set()  # all of them become ready at once
    # Not gather(): its 8000 done-callbacks (loop machinery, no user code) would make
    # a stall of their own on a loaded machine.
    await done.wait()


# A collection of the 8000 tasks would run inside one task step: one callback holding the
# loop for tens of milliseconds, a CPU-bound stall of its own once a busy machine stretches it.
gc.disable()
run(main())
