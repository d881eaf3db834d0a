"""Blocking on purpose: a test that blocks the event loop to test what happens when it does.

``test_keepalive_timeout_sync_sleep`` calls ``time.sleep`` because a blocked loop is the
scenario it guards; rewritten to ``await asyncio.sleep``, it would be a copy of its async
sibling and the regression would go untested. In a test file, a call is left as written
(the finding stays, the fix is refused) when the test says the blocking is intended:

- its name says so: ``blocking``, ``sync_sleep``, ``time_sleep``, or ``block`` (``blocks``,
  ``blocked``) next to ``loop``;
- its docstring, or a comment on the call's statement or in the comment lines right above
  it, speaks of ``time.sleep``, of a blocking call or blocking I/O, of blocking the (event)
  loop, or of blocking on purpose (deliberately, intentionally).

Blocking in another sense ("local data blocking the bind mount") is not such a statement.
Other blocking calls in tests are fixed as usual (with ``--unsafe-fixes``).

A documentation example whose file name says it blocks (``docs/.../blocking02.py`` beside
``nonblocking01.py``) shows a blocked loop to its readers: it is left as written too.
"""
from __future__ import annotations

import re
from typing import Iterator, Optional, Sequence

import libcst as cst

_BLOCK = r"block(?:s|ed|ing)?"
_SAYS = re.compile(
    r"\btime\.sleep\b|\bsync(?:hronous)?[ _]sleep"
    rf"|\b{_BLOCK}\b[^.]{{0,40}}\b(?:loop|on purpose|purpose\w*|deliberate|intentional)"
    rf"|\b(?:on purpose|purpose\w*|deliberate\w*|intentional\w*)\b[^.]{{0,40}}\b{_BLOCK}\b"
    r"|\bblocking (?:call|i/?o|sleep|read|write)",
    re.IGNORECASE)
_NAME = re.compile(r"(?:^|_)(?:blocking|sync_sleep|time_sleep)(?:_|$)"
                   rf"|(?:^|_){_BLOCK}_(?:\w+_)?loop(?:_|$)|(?:^|_)loop_(?:\w+_)?{_BLOCK}(?:_|$)", re.IGNORECASE)


_DOCUMENTATION = frozenset({"doc", "docs", "documentation", "example", "examples", "snippets", "tutorial", "tutorials"})
_FILE_NAME = re.compile(r"(?:^|[_-])(?:blocking|sync_sleep|time_sleep)(?:[_-]|\d|$)", re.IGNORECASE)


def shown(name: str, directories: Sequence[str]) -> Optional[str]:
    """Why a file is a documentation example of blocking (``docs/.../blocking02.py``), or None."""
    if _FILE_NAME.search(name.rpartition(".")[0] or name) and any(part.lower() in _DOCUMENTATION for part in directories):
        return f"`{name}` is a documentation example that says it blocks (its name): the rewrite would change what it shows"
    return None


def intended(function: cst.FunctionDef, statement: Optional[cst.SimpleStatementLine]) -> Optional[str]:
    """Why ``function`` (a test) blocks on purpose at ``statement``, or None."""
    name = function.name.value
    if _NAME.search(name):
        return f"`{name}` says it blocks on purpose (its name): the rewrite would stop testing a blocked loop"
    docstring = function.get_docstring(clean=False) or ""
    if _SAYS.search(docstring):
        return f"`{name}` says it blocks on purpose (its docstring): the rewrite would stop testing a blocked loop"
    if statement is not None and any(_SAYS.search(comment) for comment in _comments(statement)):
        return "a comment at the call says it blocks on purpose: the rewrite would stop testing a blocked loop"
    return None


def _comments(statement: cst.SimpleStatementLine) -> Iterator[str]:
    """The comment on the statement's line, and the comment lines right above it."""
    if statement.trailing_whitespace.comment is not None:
        yield statement.trailing_whitespace.comment.value
    for line in reversed(statement.leading_lines):
        if line.comment is None:
            return  # a blank line ends the block of comments that speaks of this statement
        yield line.comment.value
