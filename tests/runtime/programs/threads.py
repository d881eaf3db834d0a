"""Several loops in several threads, plus loops created and closed over and over."""
import asyncio
import threading
import time

from _loops import run


async def blocker(seconds):
    await asyncio.sleep(0.02)
    time.sleep(seconds)  # STALL-THREAD
    await asyncio.sleep(0.02)


async def quick():
    await asyncio.sleep(0)


def in_thread():
    run(blocker(0.3))


threads = [threading.Thread(target=in_thread, name=f"loop-{i}") for i in range(3)]
for thread in threads:
    thread.start()
for _ in range(30):
    run(quick())
for _ in range(10):
    loop = asyncio.new_event_loop()
    loop.run_until_complete(quick())
    loop.close()
for thread in threads:
    thread.join()
