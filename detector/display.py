"""Showing paths and text from the checked project to people and to other tools.

Everything here comes from hostile input: a file name may hold bytes that are not UTF-8 (held
as lone surrogates, Python's ``surrogateescape``) or terminal control sequences; a string
literal quoted in a message or a source line under ``--show-source`` may hold ESC, BEL or
bidirectional overrides. Text for a terminal goes through :func:`printable`; URIs are
percent-encoded from the path's real bytes (:func:`uri_path`). Standard library only: the
runtime watchdog uses it too.
"""
from __future__ import annotations

import os
import re
from typing import List, Optional, Tuple, Union
from urllib.parse import quote

PathLike = Union[str, "os.PathLike[str]"]

# C0 controls (tab kept on request), DEL, C1 controls, bidirectional embeddings, overrides and
# isolates (they reorder what a terminal shows: "Trojan Source"), line/paragraph separators,
# and lone surrogates (bytes of a file name that are not UTF-8).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: "re.Match[str]") -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # the undecodable byte itself
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str, keep_tabs: bool = False, keep: str = "") -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``), except
    tabs with ``keep_tabs`` (source lines) and the characters in ``keep``."""
    keep = keep + "\t" if keep_tabs else keep
    if not keep:
        return _UNSAFE.sub(_escape, text)
    return _UNSAFE.sub(lambda match: match.group() if match.group() in keep else _escape(match), text)


def display_path(path: PathLike, cwd: Optional[str] = None) -> str:
    """A path as offload shows it: relative to the working directory when it is under it
    (like ruff and flake8), else as given, normalised. Not yet escaped: see :func:`printable`."""
    text = os.path.normpath(os.fspath(path))
    if not os.path.isabs(text):
        return text
    try:
        relative = os.path.relpath(text, cwd or os.getcwd())
    except ValueError:  # another drive on Windows
        return text
    return text if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


def uri_path(path: str) -> str:
    """A relative POSIX path as a URI reference: percent-encoded from its bytes on disk."""
    return quote(os.fsencode(path), safe="/")



# Tokens after which, and before which, a line break or a run of spaces is dropped, not kept
# as one space: ``Path(\n    p\n)`` reads ``Path(p)``.
_OPENING = frozenset("([{")
_CLOSING = frozenset(")]},")


def one_line(code: str, limit: int = 0) -> str:
    """Source text shown on one line: comments dropped, each run of whitespace (line breaks
    included) one space, none just inside brackets or before a comma; string literals are kept
    as written. With ``limit``, longer text is cut and ends with ``…`` (never Python's ``...``)."""
    if "\n" in code or "\r" in code or "#" in code:
        code = _joined(code)
    if limit and len(code) > limit:
        code = code[: limit - 1].rstrip() + "…"
    return code


def _joined(code: str) -> str:
    import io
    import tokenize

    pieces: List[str] = []
    last_end: Optional[Tuple[int, int]] = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                              tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            text = token.string.replace("\r\n", "\n")
            if pieces and last_end is not None and token.start != last_end and pieces[-1][-1] not in _OPENING \
                    and text[0] not in _CLOSING:
                pieces.append(" ")
            pieces.append(text)
            last_end = token.end
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return " ".join(code.split())
    return "".join(pieces)
