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


def late_writer():
    time.sleep(0.4)
    with open(fifo, "wb") as pipe:
        pipe.write(b"x" * 1000)


async def main():
    threading.Thread(target=late_writer, daemon=True).start()
    await asyncio.sleep(0.02)
    data = Path(fifo).read_bytes()  # STALL
    assert len(data) == 1000


run(main())
os.unlink(fifo)
