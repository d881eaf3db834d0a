"""Blocking on purpose: a test that blocks the event loop to test what happens when it does.

``test_keepalive_timeout_sync_sleep`` calls ``time.sleep`` because a blocked loop is the
scenario it guards; rewritten to ``await asyncio.sleep``, it would be a copy of its async
sibling and the regression would go untested. In a test file, a call is left as written
(the finding stays, the fix is refused) when the test says the blocking is intended:

- its name has a word such as ``blocking`` or ``block``, or ``sync`` followed by ``sleep``;
- its docstring, or a comment on the call's statement or in the comment lines right above
  it, speaks of blocking, of ``time.sleep``, or of doing it on purpose.

Other blocking calls in tests are fixed as usual (with ``--unsafe-fixes``).
"""
from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst

_NAME_WORDS = frozenset({"block", "blocks", "blocking", "blocked"})
_SAYS = re.compile(r"\bblock(s|ed|ing)?\b|\btime\.sleep\b|\bsync(hronous)? sleep|on purpose|deliberate|intention",
                   re.IGNORECASE)


def intended(function: cst.FunctionDef, statement: Optional[cst.SimpleStatementLine]) -> Optional[str]:
    """Why ``function`` (a test) blocks on purpose at ``statement``, or None."""
    name = function.name.value
    words = [w for w in re.split(r"_+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    lowered = [w.lower() for w in words]
    if _NAME_WORDS.intersection(lowered) or any(a == "sync" and b == "sleep" for a, b in zip(lowered, lowered[1:])):
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
