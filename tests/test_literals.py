"""Large constant displays are blanked before libcst: same findings and positions, less memory."""
from __future__ import annotations

import ast

from detector.analysis import astindex, literals
from detector.catalog import builtin
from detector.workers import analyse

NUMBERS = ", ".join(str(i) for i in range(100))
SOURCE = f'''import os, time
TABLE = [{NUMBERS}]; time.sleep(1)
NAMES = {{"é": ("ü", -1), {", ".join(f'"k{i}": {i}' for i in range(80))}}}; os.path.exists("ñ")
PAIRS = ((1, 2), {NUMBERS},
         # a comment inside
         """multi
line""", b"x"); time.sleep(2)
MIXED = [{NUMBERS}, time]
SHORT = [1, 2, 3]


async def f():
    ROWS = [{NUMBERS}]; time.sleep(3); os.path.exists("é")
    return [TABLE, NAMES, PAIRS]
'''


def test_only_large_displays_of_constants_are_blanked():
    data = SOURCE.encode("utf-8")
    blanked = literals.blank_data(data, astindex.index(ast.parse(data)).displays).decode("utf-8")
    assert blanked.count("\n") == SOURCE.count("\n")
    assert "TABLE = [" in blanked and "99" not in blanked.split("\n")[1]
    assert '"k79"' not in blanked.split("\n")[2] and '"é"' not in blanked.split("\n")[2]
    assert 'os.path.exists("ñ")' in blanked.split("\n")[2]
    assert "MIXED = [0, 1" in blanked and "SHORT = [1, 2, 3]" in blanked
    assert ast.dump(ast.parse(blanked).body[-1]) != ""  # still parses


def test_blanking_changes_no_finding_and_no_position():
    data = SOURCE.encode("utf-8")
    fast = analyse(data, "m.py", builtin(), "m", False)
    original = literals.blank_data
    try:
        literals.blank_data = lambda source, spans: source  # type: ignore[assignment]
        slow = analyse(data, "m.py", builtin(), "m", False)
    finally:
        literals.blank_data = original  # type: ignore[assignment]
    assert fast == slow
    calls = [(c.text, c.row, c.col) for f in fast.functions for c in f.calls]
    row = SOURCE.split("\n").index(next(line for line in SOURCE.split("\n") if "ROWS" in line)) + 1
    line = SOURCE.split("\n")[row - 1]
    assert calls == [("time.sleep", row, line.index("time.sleep") + 1),
                     ("os.path.exists", row, line.index("os.path") + 1)]


def test_files_with_an_encoding_cookie_or_bom_are_left_alone():
    data = f"# -*- coding: latin-1 -*-\nX = [{NUMBERS}]\n".encode("latin-1")
    assert literals.blank_data(data, astindex.index(ast.parse(data)).displays) is data
    data = b"\xef\xbb\xbf" + f"X = [{NUMBERS}]\n".encode()
    assert literals.blank_data(data, astindex.index(ast.parse(data)).displays) is data
