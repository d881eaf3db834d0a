"""Two slow callbacks made ready in the same loop iteration: a sleep, then a CPU loop."""
import asyncio
import time

from _loops import run


def spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:  # SPIN
        pass


async def sleeps():
    time.sleep(0.3)  # SLEEP


async def computes():
    spin(0.3)  # COMPUTE


async def main():
    await asyncio.gather(sleeps(), computes())  # two requests served at once


run(main())
