"""Lines a rewrite made too long, split as black and ``ruff format`` split them.

``layout`` lays out a rewritten call that ends its line. A call inside another bracket
(``Path(await asyncio.to_thread(copy, a, b))``, ``[await asyncio.to_thread(load, name)]``,
``(await asyncio.to_thread(read, p)).decode("utf-8")`` as an argument) grows its line too, and
the formatter would then split the line at its last bracket (the right-hand split)::

    location = Path(
        await asyncio.to_thread(copy, backup_file, coresys.config.path_backup)
    )

Only plain lines are split: one whole statement, or one element of a bracket already split
over lines, ASCII without comments, whose last bracket closes the line (before at most ``,``
or ``:``) with a head that fits, nothing at the top level that the formatter would split on
first (operators, ``and``/``or``, a conditional, several chained calls), and an assignment
target without brackets. Anything else keeps its line. The file's syntax tree must come out
the same (``ast``), or no line of it is split. Text between the split points stays as written.
"""
from __future__ import annotations

import ast
import keyword
import re
from typing import Dict, List, Optional, Set, Tuple

from detector.layout import INDENT

_TOKEN = re.compile(r"""
    (?P<space>[ ]+)
  | (?P<string>(?:[rRbBuU]{0,2})(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*"))
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<number>\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?[jJ]?|\.\d+)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%@&|^~<>!=]=?|[.,:;])
""", re.VERBOSE)
_PAIRS = {")": "(", "]": "[", "}": "{"}
# The statements whose expression the formatter wraps in optional parentheses, and the names
# that may stand at the top level of a line split at its last bracket (``await``, a unary ``not``).
_STATEMENTS = frozenset({"return", "assert", "if", "elif", "while", "del"})
_PLAIN_NAMES = frozenset({"await", "not"})
_KEYWORDS = frozenset(keyword.kwlist) - _PLAIN_NAMES  # the other keywords


class _Token:
    __slots__ = ("kind", "text", "start", "end", "mate")

    def __init__(self, kind: str, text: str, start: int, end: int):
        self.kind, self.text, self.start, self.end = kind, text, start, end
        self.mate = -1  # a bracket: the index of its partner among the line's tokens


Span = Tuple[int, int]  # token indices [lo, hi)


def _tokens(text: str) -> Optional[List[_Token]]:
    """``text`` as tokens with brackets paired; None when it is not one balanced fragment."""
    found: List[_Token] = []
    stack: List[int] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return None  # a comment, a backslash, an f-string: not a plain line
        kind = match.lastgroup or ""
        token = _Token(kind, match.group(), position, match.end())
        position = match.end()
        if kind == "space":
            continue
        if kind == "open":
            stack.append(len(found))
        elif kind == "close":
            if not stack or found[stack[-1]].text != _PAIRS[token.text]:
                return None
            token.mate = stack.pop()
            found[token.mate].mate = len(found)
        found.append(token)
    return found if found and not stack else None


class _Splitter:
    def __init__(self, text: str, tokens: List[_Token], line_length: int):
        self.text, self.tokens, self.line_length = text, tokens, line_length

    def _source(self, span: Span) -> str:
        lo, hi = span
        return self.text[self.tokens[lo].start:self.tokens[hi - 1].end] if hi > lo else ""

    def _top(self, span: Span) -> List[int]:
        """Indices of the tokens of ``span`` outside every bracket pair (brackets included)."""
        out: List[int] = []
        index, hi = span
        while index < hi:
            out.append(index)
            if self.tokens[index].kind == "open":
                index = self.tokens[index].mate
                out.append(index)
            index += 1
        return out

    def _plain(self, span: Span) -> bool:
        """Nothing at the top level the formatter splits on before the last bracket: names,
        dots, ``await``/``not``, strings, numbers, bracket pairs; at most one call chained after
        a closing bracket."""
        top = self._top(span)
        for index in top:
            token = self.tokens[index]
            if token.kind in ("open", "close", "string", "number") or token.text == ".":
                continue
            if token.kind == "name" and (token.text not in _KEYWORDS or token.text in ("None", "True", "False")):
                continue
            if token.kind == "name" and token.text in _PLAIN_NAMES:
                continue
            return False
        chained = sum(1 for left, right in zip(top, top[1:])
                      if self.tokens[left].kind == "close" and self.tokens[right].text == ".")
        return chained <= 1

    def statement(self, indent: str) -> Optional[List[str]]:
        """A whole statement line: ``target = expr``, ``return expr``, ``expr``, ``if expr:``."""
        lo, hi = 0, len(self.tokens)
        suffix = ""
        if self.tokens[hi - 1].text == ":":
            suffix, hi = ":", hi - 1
        first = self.tokens[0]
        equals = [i for i in self._top((lo, hi)) if self.tokens[i].text == "="]
        if first.kind == "name" and first.text in _STATEMENTS:
            lo = 1
        elif equals:
            target = self.tokens[:equals[0]]
            if len(equals) != 1 or not target or any(t.kind != "name" and t.text != "." for t in target):
                return None  # a target with brackets, or a chained assignment: other rules apply
            lo = equals[0] + 1
        if (suffix and lo == 0) or lo >= hi:
            return None
        prefix = self.text[:self.tokens[lo].start]
        if lo and self.tokens[hi - 1].kind != "close" and self._operators((lo, hi)):
            # ``assert a == b``: the formatter makes the optional parentheses around it visible.
            inner = indent + INDENT + self._source((lo, hi))
            whole = indent + prefix + self._source((lo, hi)) + suffix
            if len(whole) <= self.line_length or len(inner) > self.line_length:
                return None
            return [indent + prefix + "(", inner, indent + ")" + suffix]
        if not self._plain((lo, hi)):
            return None
        return self._split(indent, prefix, (lo, hi), suffix)

    def _operators(self, span: Span) -> bool:
        """Operators, comparisons or ``and``/``or`` at the top level, and nothing else the
        formatter treats on its own (commas, a conditional, a lambda, ``:=``)."""
        found = False
        for index in self._top(span):
            token = self.tokens[index]
            if token.text in (",", ":", ":=", ";", "=") or token.text in ("if", "else", "lambda", "for", "yield"):
                return False
            if token.kind == "op" and token.text != "." or token.text in ("and", "or", "in", "is"):
                found = True
        return found

    def element(self, indent: str, span: Span, suffix: str) -> Optional[List[str]]:
        """One element of a bracket split over lines: ``expr`` or ``name=expr``, then ``suffix``."""
        lo, hi = span
        if hi - lo > 2 and self.tokens[lo].kind == "name" and self.tokens[lo + 1].text == "=":
            lo += 2
        elif hi - lo > 2 and self.tokens[lo].kind in ("string", "name", "number") and self.tokens[lo + 1].text == ":":
            lo += 2  # a dict entry with a plain key
        if lo >= hi or not self._plain((lo, hi)):
            return None
        prefix = self.text[self.tokens[span[0]].start:self.tokens[lo].start]
        return self._split(indent, prefix, (lo, hi), suffix)

    def _split(self, indent: str, prefix: str, span: Span, suffix: str) -> Optional[List[str]]:
        """``prefix`` and the tokens of ``span`` at ``indent``, split at the last bracket while too long."""
        whole = indent + prefix + self._source(span) + suffix
        if len(whole) <= self.line_length:
            return [whole]
        lo, hi = span
        last = self.tokens[hi - 1]
        if last.kind != "close" or last.mate < lo:
            return None
        opening = last.mate
        head = indent + prefix + self._source((lo, opening + 1))
        if len(head) > self.line_length:
            return self._split_before_trailer(indent, prefix, span, suffix)
        if opening + 1 == hi - 1:
            return None  # an empty bracket: the formatter would try other brackets first
        before = self.tokens[opening - 1] if opening > lo else None
        called = before is not None and (before.kind in ("close", "string") or (
            before.kind == "name" and before.text not in _KEYWORDS and before.text not in _PLAIN_NAMES))
        if last.text != ")" and called:
            return None  # a subscript: the formatter has rules of its own for them
        if last.text != ")" or not called:
            if last.text == ")" and opening + 1 < hi - 1 and self._top((opening + 1, hi - 1)) and \
                    any(self.tokens[i].text == "," for i in self._top((opening + 1, hi - 1))):
                return None  # a tuple display: exploded by other rules
        elements = self._elements((opening + 1, hi - 1))
        if elements is None:
            return None
        inner = indent + INDENT
        lines: Optional[List[str]]
        if len(elements) == 1:
            lines = self.element(inner, elements[0], "")
        elif called and len(inner + self._source((opening + 1, hi - 1))) <= self.line_length:
            lines = [inner + self._source((opening + 1, hi - 1))]
        else:
            lines = []
            for element in elements:
                laid = self.element(inner, element, ",")
                if laid is None:
                    return None
                lines += laid
        if lines is None:
            return None
        return [head] + lines + [indent + last.text + suffix]

    def _split_before_trailer(self, indent: str, prefix: str, span: Span, suffix: str) -> Optional[List[str]]:
        """``(await x(...)).decode("utf-8")`` whose head is too long: the formatter leaves the
        last call out and splits at the bracket before it, ``(`` / ``await x(...)`` / ``).decode("utf-8")``."""
        lo, hi = span
        opening = self.tokens[hi - 1].mate
        if opening - 3 < lo or self.tokens[opening - 1].kind != "name" or self.tokens[opening - 2].text != "." \
                or self.tokens[opening - 3].kind != "close":
            return None
        close = opening - 3
        start = self.tokens[close].mate
        head = indent + prefix + self._source((lo, start + 1))
        tail = indent + self._source((close, hi)) + suffix
        if start < lo or len(head) > self.line_length or len(tail) > self.line_length or start + 1 == close:
            return None
        if start > lo and self.tokens[start - 1].kind in ("name", "close", "string") \
                and self.tokens[start - 1].text not in _KEYWORDS | _PLAIN_NAMES:
            return None  # the bracket is a call's: only a parenthesised expression is taken
        elements = self._elements((start + 1, close))
        if elements is None or len(elements) != 1:
            return None
        lines = self.element(indent + INDENT, elements[0], "")
        return None if lines is None else [head] + lines + [tail]

    def _elements(self, span: Span) -> Optional[List[Span]]:
        """The spans between top-level commas; None with a trailing comma (the formatter keeps
        such a bracket exploded: not a line a rewrite makes) or an empty element."""
        elements: List[Span] = []
        start = span[0]
        for index in self._top(span):
            if self.tokens[index].text == ",":
                elements.append((start, index))
                start = index + 1
        elements.append((start, span[1]))
        return None if any(lo >= hi for lo, hi in elements) else elements


def split_line(line: str, line_length: int, inside: bool) -> Optional[List[str]]:
    """``line`` (no newline) split as the formatter would; None to keep it. ``inside``: the
    line is an element of a bracket split over lines, not a statement of its own."""
    if len(line) <= line_length or not line.isascii() or "\t" in line or "#" in line:
        return None
    indent = line[:len(line) - len(line.lstrip(" "))]
    text = line[len(indent):]
    tokens = _tokens(text)
    if tokens is None:
        return None
    splitter = _Splitter(text, tokens, line_length)
    if inside:
        hi = len(tokens)
        suffix = ""
        if tokens[-1].text == ",":
            suffix, hi = ",", hi - 1
        lines = splitter.element(indent, (0, hi), suffix) if hi else None
    else:
        lines = splitter.statement(indent)
    return lines if lines is not None and len(lines) > 1 else None


def relayout(source: str, fixed: str, line_length: int, newline: str) -> str:
    """``fixed`` with the lines the rewrites made too long split as the formatter would.
    Lines found as they are in ``source`` stay; so does everything when the syntax tree
    would change."""
    before: Set[str] = set(source.splitlines())
    lines = fixed.splitlines(keepends=True)
    changed: Dict[int, str] = {}
    for index, line in enumerate(lines):
        text = line.rstrip("\r\n")
        if len(text) <= line_length or text in before:
            continue
        inside = index > 0 and lines[index - 1].rstrip().endswith(("(", "[", "{", ","))
        split = split_line(text, line_length, inside)
        if split is not None:
            changed[index] = newline.join(split) + line[len(text):]
    if not changed:
        return fixed
    result = "".join(changed.get(index, line) for index, line in enumerate(lines))
    try:
        same = ast.dump(ast.parse(fixed)) == ast.dump(ast.parse(result))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        same = False
    return result if same else fixed
