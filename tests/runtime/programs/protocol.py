"""A Protocol's data_received blocks: a plain callback, no task, no coroutine."""
import asyncio
import encodings.idna  # noqa: F401  create_server imports it (and unicodedata): a stall of its own on a loaded machine
import time

from _loops import run


class SlowEcho(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        time.sleep(0.4)  # STALL
        self.transport.write(data)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(SlowEcho, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping")
    assert await reader.readexactly(4) == b"ping"
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


run(main())
