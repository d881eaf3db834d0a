"""What CPython says about a file before libcst sees it.

libcst's native parser recurses once per nesting level, on the C stack, and its time grows
faster than linearly with depth: thousands of nested brackets, a sum of 8,000 terms or a
10,000-branch ``elif`` chain crash the process or run for minutes. CPython's own parser
rejects those shapes in milliseconds, so every file goes through ``compile(...,
PyCF_ONLY_AST)`` first. One walk of its tree (``astindex``) gives its depth, counted the
way libcst nests (``a and b and c`` is flat for CPython, nested for libcst), which must stay
within ``MAX_DEPTH`` (about what CPython itself accepts by default), and what ``positions``
and ``literals`` read from the tree.

A file CPython cannot parse may still be newer syntax that libcst supports (3.14's
``except A, B:`` on 3.11); such a file goes to libcst only when a bound on its nesting taken
from its tokens stays within the same limit.
"""
from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from typing import Iterator, Optional, cast

from detector.analysis import astindex, diagnostics
from detector.model import Finding

# CPython 3.11 compiles expressions nested up to about 3 x its default recursion limit (1,000).
MAX_DEPTH = 3000

# CPython's own words when a file is too deep or too big for its parser.
_NESTING_MESSAGES = ("too many nested parentheses", "too many levels of indentation", "too complex")


@dataclass
class Screened:
    """CPython's tree, or why there is none."""

    tree: Optional[ast.Module] = None  # when CPython parses the file
    index: Optional[astindex.TreeIndex] = None  # what the analysis reads from the tree, with it
    problem: Optional[Finding] = None  # the file must not reach libcst
    syntax_error: Optional[SyntaxError] = None  # CPython rejects it: libcst may know newer syntax


def screen(source: bytes, path: str) -> Screened:
    try:
        tree = cast(ast.Module, compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True))
    except (RecursionError, MemoryError):
        return Screened(problem=diagnostics.too_deep(path))
    except SyntaxError as exc:
        if any(message in str(exc.msg) for message in _NESTING_MESSAGES):
            return Screened(problem=diagnostics.too_deep(path))
        return _by_tokens(source, path, exc)
    except ValueError as exc:  # null bytes: libcst says where
        return _by_tokens(source, path, SyntaxError(str(exc)))
    index = astindex.index(tree)
    if index.depth > MAX_DEPTH:
        return Screened(problem=diagnostics.too_deep(path, index.depth))
    return Screened(tree=tree, index=index)


# -- files CPython cannot parse -------------------------------------------------------------
# Tokens that can open one more level of libcst's tree on a logical line: operators, dots,
# brackets, keyword operators, strings (implicit concatenation nests).
_FLAT_OPS = frozenset({",", ":", ";", "=", ")", "]", "}", "->", ":="})
_NESTING_NAMES = frozenset({"and", "or", "not", "if", "else", "lambda", "await", "in", "is", "elif"})


def _by_tokens(source: bytes, path: str, error: Optional[SyntaxError]) -> Screened:
    bound = token_bound(source)
    if bound > MAX_DEPTH:
        return Screened(problem=diagnostics.too_deep(path), syntax_error=error)
    return Screened(syntax_error=error)


def token_bound(source: bytes) -> int:
    """An upper bound on libcst's nesting depth, from tokens only: per logical line, every
    token that may nest once more, plus block indentation and the longest ``elif`` run."""
    line = indent = deepest_indent = elifs = worst = 0
    end = 0
    try:
        for token in _tokens(source):
            kind, text = token.type, token.string
            end = token.end[0]
            if kind in (tokenize.NEWLINE, tokenize.ENDMARKER):
                worst = max(worst, line)
                line = 0
            elif kind == tokenize.INDENT:
                indent += 1
                deepest_indent = max(deepest_indent, indent)
            elif kind == tokenize.DEDENT:
                indent -= 1
            elif kind == tokenize.OP and text not in _FLAT_OPS:
                line += 1
            elif kind == tokenize.NAME and text in _NESTING_NAMES:
                line += 1
                if text == "elif":
                    elifs += 1
            elif kind == tokenize.STRING:
                line += 1
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError, ValueError, RecursionError):
        # The tokenizer gave up (often at the end of the file): whatever follows counts in full.
        rest = b"\n".join(source.splitlines()[max(end - 1, 0):])
        line += sum(rest.count(c) for c in b"([{.+-*/%&|^~<>@'\"") + rest.count(b" and ") + rest.count(b" or ")
    return max(worst, line) + deepest_indent + elifs


def _tokens(source: bytes) -> Iterator[tokenize.TokenInfo]:
    return tokenize.tokenize(io.BytesIO(source).readline)
