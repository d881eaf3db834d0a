"""BLK9xx: files offload could not analyse. Reported like findings, never fatal to the run."""
from __future__ import annotations

from typing import List, Tuple, Union

import libcst as cst

from detector.model import Finding, Location

SYNTAX_ERROR = ("BLK900", "syntax-error")
DECODE_ERROR = ("BLK901", "decode-error")
TOO_DEEP = ("BLK902", "too-deeply-nested")
INTERNAL_ERROR = ("BLK903", "internal-error")
# Diagnostics describe the tool's own view of a file; they have docs in ``offload rule`` too.
DIAGNOSTIC_DOCS = {
    "BLK900": "The file does not parse, so nothing in it was checked. The message gives the line and reason.",
    "BLK901": "The file's bytes could not be decoded (bad encoding declaration or invalid UTF-8).",
    "BLK902": "The file nests too deeply for the parser's recursion limit; it was skipped.",
    "BLK903": "offload failed on this file; please report it with the file attached.",
}


def diagnostic(kind: Tuple[str, str], path: str, message: str, row: int = 1, column: int = 1) -> Finding:
    code, name = kind
    where = Location(max(row, 1), max(column, 1))
    return Finding(code, name, message, path, where, where)


def too_deep(path: str) -> Finding:
    return diagnostic(TOO_DEEP, path, "file nests too deeply to analyse (recursion limit); skipped")


def parse(source: bytes, path: str) -> Union[Tuple[cst.Module, str], List[Finding]]:
    """The parsed module and its text, or the diagnostics that explain why there is none."""
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        reason = exc.message.splitlines()[0] if exc.message else "invalid syntax"
        return [diagnostic(SYNTAX_ERROR, path, f"syntax error: {reason}", exc.raw_line, exc.raw_column + 1)]
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        return [diagnostic(DECODE_ERROR, path, f"cannot decode file: {reason}")]
    except RecursionError:
        return [too_deep(path)]
    return tree, tree.code
