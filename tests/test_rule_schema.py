"""The catalogue refuses rule entries whose message, examples or docs do not fit together."""
from __future__ import annotations

from pathlib import Path

import pytest

from detector.catalog import CatalogError, extend, load_builtin

ENTRY = '''
[[rule]]
code = "BLK398"
name = "schema-probe"
summary = "a rule that exists to be loaded"
calls = []
message = "{message}"
docs = """
## Example
{docs_line}
"""

[rule.examples]
invalid = ["async def f():\\n    pass\\n"]
{extra}
'''


def load(tmp_path: Path, message: str = "`{call}()` in `{function}`", docs_line: str = "{invalid[0]}",
         extra: str = "") -> None:
    (tmp_path / "probe.toml").write_text(
        ENTRY.replace("{message}", message).replace("{docs_line}", docs_line).replace("{extra}", extra),
        encoding="utf-8")
    load_builtin(tmp_path)


def test_a_well_formed_entry_loads(tmp_path: Path) -> None:
    load(tmp_path)


@pytest.mark.parametrize("message", ["{call.__class__}", "{0}", "{}", "{call!r}", "{call:>10}", "{call"])
def test_message_fields_are_plain_names(tmp_path: Path, message: str) -> None:
    with pytest.raises(CatalogError, match="message template"):
        load(tmp_path, message=message)


def test_docs_cannot_show_an_example_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"\{valid\[0\]\}"):
        load(tmp_path, docs_line="{valid[0]}")


@pytest.mark.parametrize("extra, error", [
    ('fixed = ["a\\n", "b\\n"]', "'fixed' is one example"),
    ('counter = ["x"]', "unknown key"),
    ("valid = [1]", "list of non-empty strings"),
    ("pyproject = 1", "pyproject"),
])
def test_examples_follow_the_schema(tmp_path: Path, extra: str, error: str) -> None:
    with pytest.raises(CatalogError, match=error):
        load(tmp_path, extra=extra)


@pytest.mark.parametrize("key, value", [("message", "x"), ("opt-in", True), ("examples", {})])
def test_project_entries_cannot_set_catalogue_only_keys(key: str, value: object) -> None:
    with pytest.raises(CatalogError, match="unknown key"):
        extend(load_builtin(), [{"calls": ["mylib.fetch"], key: value}], "blocking-calls")


@pytest.mark.parametrize("condition", ['{ position = 0, path = "yes" }', '{ position = 0 }'])
def test_an_argument_condition_needs_a_boolean_path_or_another_test(tmp_path: Path, condition: str) -> None:
    with pytest.raises(CatalogError, match="path"):
        load(tmp_path, extra=f'\n[arguments]\n"pkg.read" = {condition}\n')


def test_a_path_condition_loads(tmp_path: Path) -> None:
    load(tmp_path, extra='\n[arguments]\n"pkg.read" = { position = 0, keyword = "fp", path = true }\n')


def test_an_in_memory_condition_names_the_type_the_call_gives(tmp_path: Path) -> None:
    load(tmp_path, extra='\n[arguments]\n"pkg.Archive" = { position = 0, keyword = "file", '
                         'in-memory = "pkg.Archive.<memory>" }\n')
    condition = load_builtin(tmp_path).argument_condition("pkg.Archive")
    assert condition is not None and condition.memory_type == "pkg.Archive.<memory>"
    assert condition.in_memory
    load(tmp_path, extra='\n[arguments]\n"pkg.Archive.add" = { position = 1, keyword = "fileobj", in-memory = true }\n')
    with pytest.raises(CatalogError, match="in-memory"):
        load(tmp_path, extra='\n[arguments]\n"pkg.Archive" = { position = 0, in-memory = 1 }\n')


LAZY = '''
[[rule]]
code = "BLK397"
name = "lazy-probe"
summary = "a rule whose results are lazy, one of them on old Pythons only"
calls = ["pkg.listing", "pkg.walk"]
lazy = {lazy}
lazy-before = {before}
'''


def load_lazy(tmp_path: Path, lazy: str, before: str):
    (tmp_path / "probe.toml").write_text(LAZY.format(lazy=lazy, before=before), encoding="utf-8")
    return load_builtin(tmp_path).rules["BLK397"]


@pytest.mark.parametrize("lazy, before, error", [
    ('["pkg.listing"]', '{ "pkg.walk" = "py313" }', "lazy-before names not in lazy"),
    ('["pkg.listing"]', '{ "pkg.listing" = "3.13" }', "target version"),
    ('["pkg.listing"]', '["pkg.listing"]', "target version"),
])
def test_lazy_before_names_a_lazy_call_and_a_target_version(tmp_path: Path, lazy: str, before: str, error: str):
    with pytest.raises(CatalogError, match=error):
        load_lazy(tmp_path, lazy, before)


def test_a_result_lazy_before_a_version_is_not_lazy_from_it(tmp_path: Path) -> None:
    rule = load_lazy(tmp_path, '["pkg.listing", "pkg.walk"]', '{ "pkg.listing" = "py313" }')
    assert [rule.is_lazy("pkg.listing", v) for v in ("py39", "py312", "py313", "py314")] == [True, True, False, False]
    assert rule.is_lazy("pkg.walk", "py314") and not rule.is_lazy("pkg.other", "py39")


TWINS = '''
[[rule]]
code = "BLK396"
name = "twins-probe"
summary = "a rule over two client libraries, one with an async twin"
calls = ["pkg.Client.*", "pkg.connect", "other.flush"]
{alternative}

[rule.alternatives]
{table}
'''


def load_twins(tmp_path: Path, table: str, alternative: str = ""):
    (tmp_path / "probe.toml").write_text(TWINS.format(table=table, alternative=alternative), encoding="utf-8")
    return load_builtin(tmp_path).rules["BLK396"]


def test_the_longest_dotted_prefix_of_a_call_picks_its_alternative(tmp_path: Path) -> None:
    rule = load_twins(tmp_path, '"pkg" = "aiopkg"\n"pkg.Client.upload" = "aiopkg.upload"\n"other" = ""')
    assert rule.alternative_for("pkg.connect") == "aiopkg"
    assert rule.alternative_for("pkg.Client.upload") == "aiopkg.upload"
    assert rule.alternative_for("pkg.Client.upload_many") == "aiopkg"  # a dotted prefix, not a string prefix
    assert rule.alternative_for("other.flush") == ""


def test_calls_no_entry_names_fall_back_to_the_rules_alternative(tmp_path: Path) -> None:
    rule = load_twins(tmp_path, '"pkg" = "aiopkg"', alternative='alternative = "a worker thread"')
    assert (rule.alternative_for("pkg.connect"), rule.alternative_for("other.flush")) == ("aiopkg", "a worker thread")


@pytest.mark.parametrize("table, error", [
    ('"pkg" = "aiopkg"\n"other" = ""\n"pkgs" = "aiopkgs"', "'pkgs' is the name of none of the rule's calls"),
    ('"pkg" = "aiopkg"\n"other" = ""\n"pkg.Clien" = "x"', "'pkg.Clien' is the name of none"),
    ('"pkg" = "aiopkg"\n"other" = ""\n"pkg." = "x"', "not a dotted name"),
    ('"pkg" = "aiopkg"', r"no entry for other\.flush"),
    ('"pkg" = "aiopkg"\nother = 1', "table of strings"),
    ('"pkg" = "aiopkg"\nother.flush = ""', "table of strings"),  # an unquoted dotted key is a nested table
])
def test_alternatives_name_the_rules_calls_and_cover_them(tmp_path: Path, table: str, error: str) -> None:
    with pytest.raises(CatalogError, match=error):
        load_twins(tmp_path, table)


def test_a_method_under_a_wildcard_can_have_its_own_alternative(tmp_path: Path) -> None:
    rule = load_twins(tmp_path, '"pkg" = "aiopkg"\n"other" = ""\n"pkg.Client.stream" = "aiopkg.stream"')
    assert rule.alternative_for("pkg.Client.stream") == "aiopkg.stream"


def test_project_entries_cannot_set_alternatives() -> None:
    with pytest.raises(CatalogError, match="unknown key"):
        extend(load_builtin(), [{"code": "BLK191", "name": "mine", "summary": "mine", "calls": ["mylib.fetch"],
                                 "alternatives": {"mylib": "aiomylib"}}], "blocking-calls")


def test_calls_a_project_adds_to_a_rule_with_alternatives_get_none_of_them() -> None:
    rule = extend(load_builtin(), [{"code": "BLK165", "calls": ["mysdk.Client.*"]}], "blocking-calls").rules["BLK165"]
    assert rule.alternative_for("mysdk.Client.send") == ""
    assert rule.alternative_for("paramiko.SSHClient.connect") == "asyncssh"
