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
    module = cst.parse_module(SOURCE)
    outline, hidden = skeleton(module, SOURCE, [17])
    code = outline.code
    assert code.count("\n") == SOURCE.decode().count("\n")  # every row stays where it was
    lines = code.splitlines()
    assert lines[16] == "        return open(self.root).read()"
    assert "shutil.rmtree" not in code and "os.sep" not in code and "os.getcwd" not in code
    assert "def helper" not in code and "root = " not in code  # members without one: left out whole
    assert lines[19] == "def other():" and lines[20].strip() == "pass"  # a module-level def stays bound
    assert "shutil.rmtree" in hidden and "os.sep" in hidden  # their names still count as used


def test_a_class_holding_the_finding_in_a_nested_class_keeps_that_method():
    module = cst.parse_module(SOURCE)
    outline, _ = skeleton(module, SOURCE, [14])
    code = outline.code
    assert "return os.sep" in code and "shutil.rmtree" not in code and "open(self.root)" not in code
