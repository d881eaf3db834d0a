"""A coroutine reads a FIFO whose writer shows up late: open() blocks on the loop."""
import asyncio
import os
import tempfile
import threading
import time
from pathlib import Path

from _loops import run

fifo = os.path.join(tempfile.mkdtemp(), "pipe")
os.mkfifo(fifo)


reading = threading.Event()


def late_writer():
    # Late counted from the read: a loaded machine may delay the coroutine past any fixed time,
    # and a writer already waiting would let open() return at once.
    reading.wait()
    time.sleep(0.4)
    with open(fifo, "wb") as pipe:
        pipe.write(b"x" * 1000)


async def main():
    threading.Thread(target=late_writer, daemon=True).start()
    await asyncio.sleep(0.02)
    reading.set()
    data = Path(fifo).read_bytes()  # STALL
    assert len(data) == 1000


run(main())
os.unlink(fifo)
