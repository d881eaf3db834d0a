"""Stalls, then exits with status 3."""
import asyncio
import sys
import time


async def main():
    time.sleep(0.3)  # STALL


asyncio.run(main())
sys.exit(3)
