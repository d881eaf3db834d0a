"""The layout black and ``ruff format`` give a call, for a rewrite whose line grew.

``f(a, b)`` rewritten to ``await asyncio.to_thread(f, a, b)`` is longer; past the project's
line length, the formatter would split it. A rewrite is laid out as the formatter lays out a
call whose closing parenthesis ends the line (the right-hand split):

1. everything on one line, when it fits;
2. the arguments on one line of their own, indented one level, when that fits::

       data = await asyncio.to_thread(
           shutil.copy, source, target
       )

3. otherwise one argument a line, with a trailing comma.

Only a plain shape is laid out: one-line arguments without comments, the call closing its
line (before at most ``,`` or ``:``), a line indented with spaces whose brackets before the
call are balanced. Anything else keeps the minimal rewrite.
"""
from __future__ import annotations

from typing import Optional, Sequence

INDENT = "    "
_OPEN, _CLOSE = "([{", ")]}"


def lay_out(prefix: str, opening: str, items: Sequence[str], suffix: str, line_length: int,
            newline: str) -> Optional[str]:
    """The call's text from ``opening`` (``await asyncio.to_thread(``) through its closing
    parenthesis, laid out as the formatter would; None when the shape is not a plain one.

    ``prefix``: the line's text before the call; ``suffix``: the text after the call to the end
    of the line."""
    if not _plain(prefix, items, suffix):
        return None
    indent = prefix[:len(prefix) - len(prefix.lstrip(" "))]
    joined = ", ".join(items)
    if len(prefix) + len(opening) + len(joined) + 1 + len(suffix) <= line_length:
        return f"{opening}{joined})"
    if len(prefix) + len(opening) > line_length:
        return None  # the formatter would split elsewhere
    body = indent + INDENT + joined
    if len(body) <= line_length:
        return f"{opening}{newline}{body}{newline}{indent})"
    if len(items) == 1 or any(len(indent + INDENT + item) + 1 > line_length for item in items):
        return None  # the formatter would split inside an argument
    lines = "".join(f"{indent}{INDENT}{item},{newline}" for item in items)
    return f"{opening}{newline}{lines}{indent})"


def _plain(prefix: str, items: Sequence[str], suffix: str) -> bool:
    if suffix.strip() not in ("", ",", ":") or "\t" in prefix:
        return False
    if any("\n" in item or "\r" in item or "#" in item for item in items):
        return False
    if any(quote in prefix for quote in "'\"#\\"):
        return False
    depth = 0
    for char in prefix:
        depth += (char in _OPEN) - (char in _CLOSE)
        if depth < 0:
            return False
    return depth == 0 or prefix.strip() == ""
