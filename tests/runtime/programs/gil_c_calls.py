"""Long C calls that hold the GIL on the loop thread: json.loads of a big document, a
backtracking regex. The results are kept, so freeing them makes no stall of its own, and
the cyclic garbage collector is off: going through millions of kept objects would make
stalls of its own, anywhere in the loop."""
import asyncio
import gc
import json
import re
import sys
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


def pattern_input() -> str:
    """A subject that takes the backtracking pattern at least 0.25 s of CPU time."""
    size = 18
    while True:
        subject = "a" * size + "b"
        start = time.thread_time()
        re.match(r"(a+)+$", subject)
        if time.thread_time() - start >= 0.25:
            return subject
        size += 1


gc.disable()
PAYLOAD = payload()
SUBJECT = pattern_input()
KEPT = []


async def c_calls():
    print(f"task {asyncio.current_task().get_name()}", file=sys.stderr)
    for _ in range(3):
        await asyncio.sleep(0.2)  # idle: probes answered on time
        KEPT.append(json.loads(PAYLOAD))  # GIL-JSON
    await asyncio.sleep(0.2)
    KEPT.append(re.match(r"(a+)+$", SUBJECT))  # GIL-REGEX


run(c_calls())
