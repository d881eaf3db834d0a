"""A coroutine makes a blocking HTTP request to a local server that answers late."""
import asyncio
import http.server
import threading
import time
import urllib.request

from _loops import run


class SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.4)
        body = b"late"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), SlowHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/"


async def main():
    await asyncio.sleep(0.02)
    resp = urllib.request.urlopen(url, timeout=10)  # STALL
    assert resp.read() == b"late"
    await asyncio.sleep(0.02)


run(main())
server.shutdown()
