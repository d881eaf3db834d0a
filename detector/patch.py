"""``--diff``: a unified diff of a file's bytes that ``git apply`` and GNU ``patch -p1`` apply.

Lines are split at ``\\n`` only, as both tools do (a CR-only file is one line to them; a form
feed or U+2028 is part of a line), the bytes are compared as they are (any encoding), a last
line without a newline gets the ``\\ No newline at end of file`` marker, and a file name with a
space ends with a tab in the header, as GNU diff writes it. A name with a control character, a
quote, a backslash or a byte outside ASCII is quoted as git quotes it (``"a/new\\nline.py"``),
which both tools read back: a newline cannot split the header, nor an escape drive a terminal.
"""
from __future__ import annotations

import difflib
import os
from typing import List

_CONTEXT = 3
_NO_NEWLINE = b"\\ No newline at end of file\n"


def _lines(data: bytes) -> List[bytes]:
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


# git's C-style escapes (quote.c); any other byte that needs quoting is written in octal.
_C_ESCAPES = {0x07: b"\\a", 0x08: b"\\b", 0x09: b"\\t", 0x0A: b"\\n", 0x0B: b"\\v", 0x0C: b"\\f",
              0x0D: b"\\r", 0x22: b'\\"', 0x5C: b"\\\\"}


def _needs_quotes(byte: int) -> bool:
    return byte < 0x20 or byte >= 0x7F or byte in (0x22, 0x5C)


def _header(marker: bytes, side: bytes, path: str) -> bytes:
    """``--- a/PATH``: the name's bytes (undecodable ones included) as they are when plain, else quoted."""
    name = side + path.replace(os.sep, "/").encode("utf-8", "surrogateescape")
    tab = b"\t" if b" " in name else b""  # after a name with a space, quoted or not, as git and GNU diff write it
    if any(_needs_quotes(byte) for byte in name):
        quoted = b"".join(_C_ESCAPES.get(byte, b"\\%03o" % byte) if _needs_quotes(byte) else bytes((byte,))
                          for byte in name)
        return marker + b'"' + quoted + b'"' + tab + b"\n"
    return marker + name + tab + b"\n"


def _range(start: int, stop: int) -> str:
    """A hunk's line range, as difflib and GNU diff write it."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return str(beginning)
    return f"{beginning - 1 if not length else beginning},{length}"


def _emit(out: List[bytes], sign: bytes, line: bytes) -> None:
    out.append(sign + line)
    if not line.endswith(b"\n"):
        out.append(b"\n" + _NO_NEWLINE)


def unified(path: str, before: bytes, after: bytes) -> bytes:
    """The diff turning ``before`` into ``after``, with ``a/PATH`` and ``b/PATH`` headers."""
    old, new = _lines(before), _lines(after)
    out: List[bytes] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(_CONTEXT):
        first, last = group[0], group[-1]
        i1, i2, j1, j2 = first[1], last[2], first[3], last[4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n".encode())
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for line in old[a1:a2]:
                    _emit(out, b" ", line)
                continue
            for line in old[a1:a2]:
                _emit(out, b"-", line)
            for line in new[b1:b2]:
                _emit(out, b"+", line)
    if not out:
        return b""
    return _header(b"--- ", b"a/", path) + _header(b"+++ ", b"b/", path) + b"".join(out)
