"""The loop is idle, but another thread holds the GIL in one long C call."""
import asyncio
import threading
import time

from _loops import run


def calibrate(seconds):
    # In CPU time: on a loaded machine a wall-time calibration is stretched by the OS,
    # and the C call it sizes then holds the GIL for less than the stall it must make.
    n = 10**6
    start = time.thread_time()
    sum(range(n))
    return int(n * seconds / (time.thread_time() - start))


N = calibrate(0.5)


def hog():
    time.sleep(0.1)  # let the loop go idle first
    sum(range(N))  # HOG: never releases the GIL


async def main():
    thread = threading.Thread(target=hog)
    thread.start()
    await asyncio.sleep(1.0)
    thread.join()


run(main())
