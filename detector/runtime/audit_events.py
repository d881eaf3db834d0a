"""The calls strict mode reports, by the audit event that names them.

``AUDITED`` maps the audit events (``sys.addaudithook``) raised by blocking
calls to a family; an event a given Python does not raise simply never arrives.
Audit events fire inside the C functions themselves, so ``from os import
listdir`` or a call from C cannot avoid them.

``WRAPPED`` lists catalogue calls that raise no audit event: strict mode
replaces them (and only while strict mode is installed) with a wrapper that
reports under the same name. Names are offload's, in the audit style.
"""
from __future__ import annotations

from typing import Dict

AUDITED: Dict[str, str] = {
    # files
    "open": "files",  # open(), io.open, os.open, Path.open/read_text/write_bytes, os.fdopen of a path
    "os.listdir": "os",
    "os.scandir": "os",
    "os.walk": "os",
    "os.fwalk": "os",
    "os.mkdir": "os",
    "os.rmdir": "os",
    "os.remove": "os",  # and os.unlink
    "os.rename": "os",  # and os.replace
    "os.link": "os",
    "os.symlink": "os",
    "os.truncate": "os",
    "os.chmod": "os",
    "os.chown": "os",
    "os.utime": "os",
    "glob.glob": "glob",  # 3.10+
    "glob.glob/2": "glob",  # 3.11+
    "pathlib.Path.glob": "pathlib",  # 3.11+
    "pathlib.Path.rglob": "pathlib",  # 3.11+
    "tempfile.mkstemp": "files",
    "tempfile.mkdtemp": "files",
    "shutil.copyfile": "shutil",
    "shutil.copymode": "shutil",
    "shutil.copystat": "shutil",
    "shutil.copytree": "shutil",
    "shutil.chown": "shutil",
    "shutil.make_archive": "shutil",
    "shutil.move": "shutil",
    "shutil.rmtree": "shutil",
    "shutil.unpack_archive": "shutil",
    # network
    "socket.connect": "socket",  # blocking sockets only: asyncio's non-blocking connects are skipped
    "socket.getaddrinfo": "dns",
    "socket.gethostbyname": "dns",
    "socket.gethostbyname_ex": "dns",
    "socket.gethostbyaddr": "dns",
    "socket.getnameinfo": "dns",
    "urllib.Request": "http",
    "http.client.connect": "http",  # 3.11+
    "ftplib.connect": "network",
    "smtplib.connect": "network",
    "poplib.connect": "network",
    "imaplib.open": "network",
    "nntplib.connect": "network",
    "telnetlib.Telnet.open": "network",
    # processes
    "subprocess.Popen": "subprocess",
    "os.system": "subprocess",
    "os.exec": "subprocess",
    "os.posix_spawn": "subprocess",
    "os.spawn": "subprocess",
    "pty.spawn": "subprocess",
    # time
    "time.sleep": "time",  # raised by recent Pythons only; wrapped where it is not (see WRAPPED)
    # databases
    "sqlite3.connect": "db",  # 3.10+
}

# name -> family of the calls offload wraps in strict mode (see strict_wraps.py).
WRAPPED: Dict[str, str] = {
    "os.stat": "os",  # also os.path.exists/isfile/isdir/getsize/getmtime..., Path.stat/exists/is_file...
    "os.lstat": "os",  # also os.path.islink/lexists, Path.lstat/is_symlink
    "select.select": "socket",  # only with a timeout other than 0
    "time.sleep": "time",  # only on Pythons that raise no time.sleep audit event
    "threading.Event.wait": "sync",  # only when the event is not set
    "threading.Thread.join": "sync",  # only while the thread is alive
    "queue.Queue.get": "sync",  # only a blocking get on an empty queue
    "concurrent.futures.Future.result": "sync",  # only when the future is not done
}

FAMILIES: Dict[str, str] = dict(AUDITED, **WRAPPED)
