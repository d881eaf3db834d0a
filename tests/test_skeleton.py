"""The outline the fixer computes metadata for: bodies without a finding left out, rows kept."""
import libcst as cst

from detector.skeleton import skeleton

SOURCE = b'''import os
import shutil


class Store:
    root = "x"

    def helper(self):
        shutil.rmtree(self.root)
        return 1

    class Inner:
        def deep(self):
            return os.sep

    async def load(self):
        return open(self.root).read()


def other():
    return os.getcwd()
'''


def test_members_without_a_finding_are_left_out_of_a_kept_class():
    outline, hidden = skeleton(SOURCE, [17])
    code = cst.parse_module(outline).code
    assert code.count("\n") == SOURCE.decode().count("\n")  # every row stays where it was
    lines = code.splitlines()
    assert lines[16] == "        return open(self.root).read()"
    assert "shutil.rmtree" not in code and "os.sep" not in code and "os.getcwd" not in code
    assert "def helper" not in code and "root = " not in code  # members without one: left out whole
    assert lines[19] == "def other():" and lines[20].strip() == "pass"  # a module-level def stays bound
    assert "shutil.rmtree" in hidden and "os.sep" in hidden  # their names still count as used


def test_a_class_holding_the_finding_in_a_nested_class_keeps_that_method():
    outline, _ = skeleton(SOURCE, [14])
    code = cst.parse_module(outline).code
    assert "return os.sep" in code and "shutil.rmtree" not in code and "open(self.root)" not in code


def test_a_body_on_its_signature_line_stays_and_crlf_line_ends_keep_their_rows():
    source = (b"import os\r\n\r\ndef inline(): return os.sep\r\n\r\ndef other():\r\n    return os.getcwd()\r\n\r\n"
              b"async def load():\r\n    return open('x')\r\n")
    outline, hidden = skeleton(source, [9])
    assert outline.count(b"\r\n") == source.count(b"\r\n")
    assert b"def inline(): return os.sep\r\n" in outline
    assert b"def other():\r\n    pass\r\n\r\n" in outline and "os.getcwd" in hidden
    assert outline.endswith(b"async def load():\r\n    return open('x')\r\n")
    assert cst.parse_module(outline).code.encode() == outline
