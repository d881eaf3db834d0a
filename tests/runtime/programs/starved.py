"""The loop is idle, but another thread holds the GIL in one long C call."""
import asyncio
import ctypes
import sys
import threading
import time

from _loops import run

# Functions called through PyDLL keep the GIL: half a second of it, however loaded the machine.
_usleep = ctypes.PyDLL(None).usleep
idle = threading.Event()
done = threading.Event()


def hog():
    idle.wait()
    time.sleep(0.1)  # let the loop go idle first
    start = time.time()
    _usleep(500_000)  # HOG: never releases the GIL
    print(f"GIL held from {start} to {time.time()}", file=sys.stderr)
    done.set()


async def main():
    idle.set()
    while not done.is_set():
        await asyncio.sleep(0.05)


# Started and joined outside the loop: on a busy machine starting a thread can block for a while.
thread = threading.Thread(target=hog)
thread.start()
run(main())
thread.join()
