"""A busy program that never blocks its loop: timers, offloaded sleeps, TCP echo."""
import asyncio
import time

from _loops import run


async def echo(reader, writer):
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def client(port, rounds):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(rounds):
        writer.write(b"hello")
        await reader.readexactly(5)
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.gather(
        asyncio.to_thread(time.sleep, 0.3),  # offloaded: not a stall
        *(client(port, 200) for _ in range(5)),
        *(asyncio.sleep(0.01 * i) for i in range(30)),
    )
    server.close()
    await server.wait_closed()


run(main())
