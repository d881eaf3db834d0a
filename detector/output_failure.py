"""Ending the command line when its own output cannot be written.

A reader that went away (``offload check --diff | head -1``) ends offload quietly, as it ends
``seq``, ``grep`` or ``git log``: no traceback, exit status 128 + SIGPIPE as a shell reports for
them. Any other failure to write (a full disk, ``> /dev/full``) is one line on stderr and exit 2,
never "findings remain" and never an "internal error".
"""
from __future__ import annotations

import errno
import os
import signal
import sys
from contextlib import contextmanager
from typing import Any, Iterator, NoReturn, TextIO, Union

import click
import click.utils

EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
EXIT_ERROR = 2


# A write larger than a pipe holds can end half done when the reader goes away: Python then
# reports no error, and the run would end as if everything had been read. Written in pieces,
# the next piece fails (EPIPE) and ends the run as a closed pipe ends it.
_PIECE = 16384


def echo_all(text: Union[str, bytes], **options: Any) -> None:
    """``click.echo(text, nl=False, ...)`` in pieces of about ``_PIECE`` characters, at line ends."""
    start = 0
    while start < len(text):
        end = (text.find("\n", start + _PIECE) if isinstance(text, str) else text.find(b"\n", start + _PIECE)) + 1
        click.echo(text[start:end or len(text)], nl=False, **options)
        start = end or len(text)


def writing_output(exc: BaseException) -> bool:
    """Whether ``exc`` is an OSError raised while offload printed (every print goes through click.echo)."""
    if not isinstance(exc, OSError):
        return False
    echo = click.utils.echo.__code__
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code is echo:
            return True
        frame = frame.tb_next
    return False


@contextmanager
def guarded() -> Iterator[None]:
    """Run a command so that a failure to write its output ends it as described above."""
    try:
        yield
    except OSError as exc:
        if not writing_output(exc):
            raise
        end(exc)


def end(exc: OSError) -> NoReturn:
    if exc.errno != errno.EPIPE:
        try:
            click.echo(f"error: cannot write output: {exc.strerror or exc}", err=True)
        except OSError:
            pass  # stderr is unwritable too: the exit status says it
    for stream in (sys.stdout, sys.stderr):
        _discard_pending(stream)
    sys.exit(EXIT_BROKEN_PIPE if exc.errno == errno.EPIPE else EXIT_ERROR)


def _discard_pending(stream: TextIO) -> None:
    """Point an unwritable standard stream at /dev/null, so that the interpreter's last flush of
    what is still buffered does not fail again (and print "Exception ignored ...")."""
    try:
        stream.flush()
        return
    except OSError:
        pass
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError):  # no file descriptor (an in-memory stream): nothing is flushed at exit
        pass
