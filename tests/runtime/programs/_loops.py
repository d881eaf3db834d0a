"""Run a coroutine on the loop named by argv[1]: asyncio (default) or uvloop."""
import asyncio
import sys


def loop_kind() -> str:
    return sys.argv[1] if len(sys.argv) > 1 else "asyncio"


def run(coro):
    if loop_kind() == "uvloop":
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)
