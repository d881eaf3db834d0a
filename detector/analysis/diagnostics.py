"""BLK9xx: files offload could not analyse. Reported like findings, never fatal to the run."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple, Union

import libcst as cst

from detector.model import Finding, Location

SYNTAX_ERROR = ("BLK900", "syntax-error")
DECODE_ERROR = ("BLK901", "decode-error")
TOO_DEEP = ("BLK902", "too-deeply-nested")
INTERNAL_ERROR = ("BLK903", "internal-error")
TOO_LARGE = ("BLK904", "file-too-large")


def diagnostic(kind: Tuple[str, str], path: str, message: str, row: int = 1, column: int = 1) -> Finding:
    code, name = kind
    where = Location(max(row, 1), max(column, 1))
    return Finding(code, name, message, path, where, where)


def too_deep(path: str, depth: Optional[int] = None) -> Finding:
    how = f" ({depth} levels)" if depth is not None else ""
    return diagnostic(TOO_DEEP, path, f"file nests too deeply to analyse{how}; skipped")


def too_large(path: str, size: int, limit: int) -> Finding:
    return diagnostic(TOO_LARGE, path, f"file too large to analyse ({size} bytes, limit {limit}; "
                      "`max-file-size` in [tool.offload] sets it); skipped")


def crashed(path: str, how: str) -> Finding:
    return diagnostic(INTERNAL_ERROR, path, f"analysis crashed ({how}); file skipped")


def _syntax_error(path: str, exc: cst.ParserSyntaxError, error: Optional[SyntaxError]) -> Finding:
    """CPython's own compiler names the line and reason more precisely than libcst, when it can."""
    if error is None:
        return diagnostic(SYNTAX_ERROR, path, "syntax not supported by the parser (libcst), although Python accepts it",
                          exc.raw_line, exc.raw_column + 1)
    if error.lineno:
        return diagnostic(SYNTAX_ERROR, path, f"syntax error: {error.msg}", error.lineno, error.offset or 1)
    reason = re.sub(r"^parser error: error at \d+:\d+: ", "", (exc.message or "invalid syntax").splitlines()[0])
    return diagnostic(SYNTAX_ERROR, path, f"syntax error: {reason}", exc.raw_line, exc.raw_column + 1)


def parse(source: bytes, path: str, error: Optional[SyntaxError]) -> Union[Tuple[cst.Module, str], List[Finding]]:
    """The parsed module and its text, or the diagnostics that explain why there is none.

    ``error``: CPython's syntax error for this source, None when CPython parses it."""
    try:
        if error is None:
            with _unvalidated():
                tree = cst.parse_module(source)
        else:
            tree = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return [_syntax_error(path, exc, error)]
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        return [diagnostic(DECODE_ERROR, path, f"cannot decode file: {reason}")]
    except RecursionError:
        return [too_deep(path)]
    # Decode the bytes ourselves: regenerating ``tree.code`` would walk the whole tree again.
    text = source.decode(tree.encoding, errors="replace")
    return tree, text[1:] if text.startswith("\ufeff") else text


@contextmanager
def _unvalidated() -> Iterator[None]:
    """libcst checks every node it builds (``CSTNode.__post_init__`` runs ``_validate``), a sixth
    of a parse. A tree its own parser builds from source CPython accepts is valid by
    construction, so that parse skips the checks; nodes built anywhere else are still checked
    (the checks come back after the parse, whatever another thread did meanwhile)."""
    cst.CSTNode.__post_init__ = _skip  # type: ignore[method-assign]
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = _CHECKED  # type: ignore[method-assign]


def _skip(self: cst.CSTNode) -> None:
    return None


_CHECKED = cst.CSTNode.__dict__["__post_init__"]
