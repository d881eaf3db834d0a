"""Glob matching of one path component (``*``, ``?``, ``[...]``, ``\\`` escapes) in bounded time.

A regular expression for ``*a*a*a*b`` backtracks exponentially on a long name without a ``b``;
a ``.gitignore`` is project input, so its patterns are matched here instead: each ``*`` only
ever resumes from the last one seen (a later ``*`` absorbs whatever an earlier one could), so
a match costs at most ``len(pattern) * len(name)`` steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from operator import methodcaller
from typing import Callable, FrozenSet, List, Optional, Set, Tuple, Union


class BadGlob(ValueError):
    """A glob git discards: an unclosed ``[``, or a ``\\`` with nothing after it."""


@dataclass(frozen=True)
class CharSet:
    """``[...]``: one character among ``chars`` or ``ranges`` (or, negated, none of them)."""

    negated: bool
    chars: FrozenSet[str]
    ranges: Tuple[Tuple[str, str], ...]

    def matches(self, char: str) -> bool:
        inside = char in self.chars or any(low <= char <= high for low, high in self.ranges)
        return inside != self.negated


class _Star:
    """``*``: any run of characters (a component has no ``/``)."""


STAR = _Star()
ANY = None  # ``?``: any one character
Token = Union[str, CharSet, _Star, None]


class Glob:
    """A compiled glob. Most globs (``*.pyc``, ``build``, ``test_*``) have at most one ``*``:
    those are a prefix and a suffix, compared directly; the others go through ``_match``."""

    def __init__(self, tokens: Tuple[Token, ...]) -> None:
        self.tokens = tokens
        self.literal: Optional[str] = None  # the name itself, for a glob without wildcards
        stars = [i for i, token in enumerate(tokens) if token is STAR]
        if len(stars) > 1:
            self.matches: Callable[[str], bool] = partial(_match, tokens)
            return
        cut = stars[0] if stars else len(tokens)
        head, tail = tokens[:cut], tokens[cut + 1:]
        if not all(isinstance(t, str) for t in tokens if t is not STAR):
            self.matches = partial(_ends, head, tail, bool(stars))
        elif not stars:
            self.literal = "".join(tokens)  # type: ignore[arg-type]
            self.matches = self.literal.__eq__
        else:
            prefix, suffix = "".join(head), "".join(tail)  # type: ignore[arg-type]
            if not prefix or not suffix:  # ``*.pyc``, ``test_*``: one string method, no length check needed
                self.matches = methodcaller("endswith", suffix) if suffix else methodcaller("startswith", prefix)
            else:
                self.matches = partial(_text_ends, prefix, suffix)

    def __repr__(self) -> str:
        return f"Glob({self.tokens!r})"


def _text_ends(head: str, tail: str, name: str) -> bool:
    return len(name) >= len(head) + len(tail) and name.startswith(head) and name.endswith(tail)


def _ends(head: Tuple[Token, ...], tail: Tuple[Token, ...], star: bool, name: str) -> bool:
    """``head`` then (``star``) anything then ``tail``; without a star, ``tail`` is empty."""
    if len(name) < len(head) + len(tail) or (not star and len(name) != len(head)):
        return False
    return all(map(_one, head, name)) and all(map(_one, tail, name[len(name) - len(tail):]))


def compile_glob(pattern: str) -> Glob:
    """The tokens of a glob for one path component (``pattern`` has no ``/``)."""
    tokens: List[Token] = []
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        i += 1
        if char == "\\":
            if i == end:
                raise BadGlob("a trailing backslash escapes nothing")
            tokens.append(pattern[i])
            i += 1
        elif char == "*":
            if not tokens or tokens[-1] is not STAR:  # ``**`` inside a component is one ``*``
                tokens.append(STAR)
        elif char == "?":
            tokens.append(ANY)
        elif char == "[":
            charset, i = _charset(pattern, i)
            tokens.append(charset)
        else:
            tokens.append(char)
    return Glob(tuple(tokens))


def _charset(pattern: str, start: int) -> Tuple[CharSet, int]:
    """The bracket expression whose ``[`` is just before ``start``, and the index past its ``]``.

    ``!`` or ``^`` first negates; a ``]`` first (after them) is a member; ``a-z`` is a range, a
    ``-`` first or last is a member; a backslash inside is a member too.
    """
    j = start
    negated = j < len(pattern) and pattern[j] in "!^"
    if negated:
        j += 1
    body_start = j
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    if j == len(pattern):
        raise BadGlob("an unclosed [")
    body = pattern[body_start:j]
    chars: Set[str] = set()
    ranges: List[Tuple[str, str]] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            ranges.append((body[k], body[k + 2]))  # a reversed range holds nothing
            k += 3
        else:
            chars.add(body[k])
            k += 1
    return CharSet(negated, frozenset(chars), tuple(ranges)), j + 1


def _one(token: Token, char: str) -> bool:
    if token is ANY:
        return True
    if isinstance(token, CharSet):
        return token.matches(char)
    return token == char


def _match(tokens: Tuple[Token, ...], name: str) -> bool:
    """Two pointers; on a mismatch, the last ``*`` takes one more character and matching resumes."""
    t = n = 0
    star: Optional[int] = None  # index of the last ``*`` passed
    star_n = 0  # where the text stood when it was passed (plus what it has taken since)
    while n < len(name):
        if t < len(tokens) and tokens[t] is not STAR and _one(tokens[t], name[n]):
            t += 1
            n += 1
        elif t < len(tokens) and tokens[t] is STAR:
            star, star_n = t, n
            t += 1
        elif star is not None:
            star_n += 1
            t, n = star + 1, star_n
        else:
            return False
    while t < len(tokens) and tokens[t] is STAR:
        t += 1
    return t == len(tokens)
