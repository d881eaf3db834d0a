"""Three long C calls that hold the GIL on the loop thread: json.loads of a big document."""
import asyncio
import json
import time

from _loops import run


def payload() -> str:
    """A document that takes json.loads at least 0.25 s of CPU time (as long in wall time, or longer)."""
    count = 100_000
    while True:
        text = json.dumps([{"id": i, "name": "x" * 20, "tags": ["a", "b"]} for i in range(count)])
        start = time.thread_time()
        json.loads(text)
        if time.thread_time() - start >= 0.25:
            return text
        count *= 2


PAYLOAD = payload()


async def c_calls():
    sizes = []
    for _ in range(3):
        await asyncio.sleep(0.2)  # idle: probes answered on time
        sizes.append(len(json.loads(PAYLOAD)))  # GIL-JSON
    return sizes


run(c_calls())
