"""Modules a program running an asyncio event loop has always imported.

``import x`` inside an async function runs the import machinery (finders walking
``sys.path``, reading and compiling files) on the loop the first time, unless ``x`` is
already in ``sys.modules``. These are: what ``import asyncio`` loads (CPython 3.11, ``-S``:
without ``site``), plus the interpreter's own start-up modules. An import of one of them, or
of a module the same file imports at module level, only looks the name up.
"""
from __future__ import annotations

LOADED_WITH_ASYNCIO = frozenset({
    "abc", "array", "ast", "asyncio", "atexit", "base64", "binascii", "builtins", "codecs",
    "collections", "collections.abc", "concurrent", "concurrent.futures", "contextlib", "contextvars",
    "copyreg", "dis", "encodings", "enum", "errno", "fcntl", "functools", "genericpath", "heapq",
    "importlib", "importlib.machinery", "inspect", "io", "itertools", "keyword", "linecache",
    "locale", "logging", "marshal", "math", "opcode", "operator", "os", "os.path", "posix",
    "posixpath", "re", "reprlib", "select", "selectors", "signal", "socket", "ssl", "stat", "string",
    "struct", "subprocess", "sys", "textwrap", "threading", "time", "token", "tokenize", "traceback",
    "types", "typing", "warnings", "weakref", "zipimport", "__future__",
})


def already_loaded(module: str) -> bool:
    """``module`` (a dotted name) is loaded in every program that runs an asyncio loop."""
    return module in LOADED_WITH_ASYNCIO or module.startswith(("asyncio.", "encodings."))
