"""Tests on the Python version that every Python 3 decides alike: the dead side is no code."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Optional

import libcst as cst
import pytest

from detector.analysis import pyversion
from detector.config import Config
from detector.runner import check_paths


@pytest.mark.parametrize("test, expected", [
    ("sys.version_info >= (3, 0)", True),
    ("sys.version_info > (3,)", True),
    ("sys.version_info < (3,)", False),
    ("sys.version_info < (3, 0)", False),
    ("(2, 5) < sys.version_info < (3, 0)", False),
    ("sys.version_info[0] == 2", False),
    ("sys.version_info[0] >= 3", True),
    ("sys.version_info.major == 3", True),
    ("not sys.version_info >= (3, 0)", False),
    ("six.PY2", False),
    ("six.PY3", True),
    ("sys.version_info == (3, 11, 0)", False),  # a 5-tuple never equals a 3-tuple
    ("sys.version_info >= (3, 11)", None),  # depends on the minor version
    ("sys.version_info[1] >= 8", None),
    ("sys.version_info >= (3, 0) and x", None),
    ("version_info >= (3, 0)", None),  # not known to be sys's
    ("PY2", None),
    ("sys.version_info > 3", None),  # a TypeError on every Python 3, not a decision
])
def test_a_test_every_python_3_decides_alike(test: str, expected: Optional[bool]) -> None:
    assert pyversion.outcome(cst.parse_expression(test)) is expected


def test_the_live_side_of_a_version_test_is_the_program(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'v'\n")
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        import sys
        import time

        if sys.version_info[0] == 2:
            from StringIO import StringIO as Buffer
        else:
            from io import StringIO as Buffer


        def read(filename):
            if (2, 5) < sys.version_info < (3, 0):
                with open(filename, "rU") as f:
                    return f.read()
            else:
                with open(filename, encoding="utf-8") as f:
                    return f.read()


        def tick():
            if sys.version_info[0] == 2:
                time.sleep(1)
            return 1


        async def main():
            read("x")
            tick()
            time.sleep(0.1) if sys.version_info >= (3, 0) else None
            Buffer("text").read()
        """))
    found = check_paths([tmp_path], Config(root=tmp_path), jobs=1).findings
    assert [(f.code, f.location.row) for f in found] == [("BLK200", 26), ("BLK100", 28)]
    assert "m.py:15 through read;" in found[0].message
