"""BLK9xx: files offload could not analyse. Reported like findings, never fatal to the run."""
from __future__ import annotations

import ast
import re
from typing import List, Tuple, Union

import libcst as cst

from detector.model import Finding, Location

SYNTAX_ERROR = ("BLK900", "syntax-error")
DECODE_ERROR = ("BLK901", "decode-error")
TOO_DEEP = ("BLK902", "too-deeply-nested")
INTERNAL_ERROR = ("BLK903", "internal-error")


def diagnostic(kind: Tuple[str, str], path: str, message: str, row: int = 1, column: int = 1) -> Finding:
    code, name = kind
    where = Location(max(row, 1), max(column, 1))
    return Finding(code, name, message, path, where, where)


def too_deep(path: str) -> Finding:
    return diagnostic(TOO_DEEP, path, "file nests too deeply to analyse (recursion limit); skipped")


def _syntax_error(source: bytes, path: str, exc: cst.ParserSyntaxError) -> Finding:
    """CPython's own compiler names the line and reason more precisely than libcst, when it can."""
    try:
        compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        if error.lineno:
            return diagnostic(SYNTAX_ERROR, path, f"syntax error: {error.msg}", error.lineno, error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        pass
    else:
        return diagnostic(SYNTAX_ERROR, path, "syntax not supported by the parser (libcst), although Python accepts it",
                          exc.raw_line, exc.raw_column + 1)
    reason = re.sub(r"^parser error: error at \d+:\d+: ", "", (exc.message or "invalid syntax").splitlines()[0])
    return diagnostic(SYNTAX_ERROR, path, f"syntax error: {reason}", exc.raw_line, exc.raw_column + 1)


def parse(source: bytes, path: str) -> Union[Tuple[cst.Module, str], List[Finding]]:
    """The parsed module and its text, or the diagnostics that explain why there is none."""
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return [_syntax_error(source, path, exc)]
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        return [diagnostic(DECODE_ERROR, path, f"cannot decode file: {reason}")]
    except RecursionError:
        return [too_deep(path)]
    # Decode the bytes ourselves: regenerating ``tree.code`` would walk the whole tree again.
    text = source.decode(tree.encoding, errors="replace")
    return tree, text[1:] if text.startswith("\ufeff") else text
