"""How --fix rewrites: names checked where they are used, refusals where `await` cannot go or
would change the program, BLK301 splices, comments and layout kept, imports placed like isort."""
from __future__ import annotations

import ast
import asyncio
import functools
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from detector.catalog import builtin
from detector.config import Config
from detector.fix import FileFix, fix_source
from detector.model import Applicability
from detector.runner import check_source
from offload_cli import invoke_offload

REMEDIES = {code: rule.remedy for code, rule in builtin().rules.items()}


def fixed(source: str, name: str = "m.py", unsafe: bool = True, config: Config = Config()) -> FileFix:
    data = textwrap.dedent(source).encode()
    return fix_source(data, check_source(data, name, config), REMEDIES, unsafe, config.target_version,
                      config.executor)


@functools.lru_cache(maxsize=None)
def _ruff_installed() -> bool:
    return subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode == 0


def skip_without_ruff() -> None:
    if not _ruff_installed():
        pytest.skip("ruff is not installed")


def run(text: str, call: str):
    """Execute the rewritten module and run one of its coroutines under a real event loop."""
    namespace: dict = {}
    exec(compile(text, "m.py", "exec"), namespace)
    return asyncio.run(eval(call, namespace))


# -- names bound to something else -------------------------------------------------------------
@pytest.mark.parametrize("source, binding", [
    pytest.param("""\
        import time


        def asyncio():
            return "not the module"


        async def f():
            time.sleep(0.01)
        """, "a function at line 4", id="module-level-function"),
    pytest.param("""\
        import time


        async def f(asyncio=None):
            time.sleep(0.01)
        """, "a parameter at line 4", id="parameter"),
    pytest.param("""\
        import time


        async def f():
            asyncio = object()
            time.sleep(0.01)
        """, "a variable at line 5", id="local-variable"),
])
def test_shadowed_asyncio_is_refused_with_the_binding(source: str, binding: str):
    result = fixed(source, unsafe=False)
    assert not result.changed
    ((finding, reason),) = result.skipped
    assert finding.code == "BLK100" and f"`asyncio` here is {binding}" in reason
    (annotated,) = result.findings
    assert annotated.fix.applicability is Applicability.SUGGESTION and annotated.fix.reason == reason


def test_shadowed_imported_names_fall_back_to_the_module():
    result = fixed("""\
        from asyncio import sleep, to_thread
        import time


        def slow(x):
            return x


        async def poll(sleep: float = 0.0):
            time.sleep(sleep)
            return slow(1)
        """, unsafe=True)
    text = result.fixed.decode()
    assert "await asyncio.sleep(sleep)" in text and "await sleep(" not in text
    assert "import asyncio\n" in text
    assert run(text, "poll(0.0)") == 1


def test_a_later_def_rebinding_the_imported_sleep_is_seen():
    result = fixed("""\
        import time
        from asyncio import sleep


        def sleep(seconds):
            time.sleep(seconds)


        async def handler():
            time.sleep(0.01)
            return 2
        """, unsafe=False)
    text = result.fixed.decode()
    assert "    await asyncio.sleep(0.01)\n" in text
    assert text.startswith("import asyncio\nimport time\nfrom asyncio import sleep\n")
    assert run(text, "handler()") == 2


def test_to_thread_parameter_is_not_called():
    result = fixed("""\
        from asyncio import to_thread
        import os


        async def fetch(path, to_thread=False):
            return os.path.exists(path)
        """)
    text = result.fixed.decode()
    assert "return await asyncio.to_thread(os.path.exists, path)" in text
    assert run(text, "fetch('.')") is True


# -- where `await` cannot go, or would change the program --------------------------------------
def test_no_await_in_annotations():
    result = fixed("""\
        from __future__ import annotations
        import time


        async def handler():
            def callback(x: int) -> time.sleep(1):
                return x
            total: open("unused") = 0
            return callback, total
        """)
    assert not result.changed
    assert {reason for _, reason in result.skipped} == {"in an annotation, where `await` is not allowed"}


def test_no_await_in_a_type_alias():
    result = fixed("""\
        import time

        async def handler():
            type Delay = time.sleep(2)
            return Delay
        """)
    assert not result.changed
    assert [reason for _, reason in result.skipped] == [
        "in a type alias or type parameter, where `await` is not allowed"]


def test_self_documenting_fstring_field_is_refused_plain_field_is_fixed():
    result = fixed("""\
        import time


        async def handler():
            print(f"{time.sleep(0.001)=}")
            print(f"{time.sleep(0.001)}")
        """, unsafe=False)
    text = result.fixed.decode()
    assert 'print(f"{time.sleep(0.001)=}")' in text and 'print(f"{await asyncio.sleep(0.001)}")' in text
    ((finding, reason),) = result.skipped
    assert finding.location.row == 5 and "self-documenting f-string" in reason


def test_a_call_laid_out_on_its_own_lines_is_fixed_before_the_call_inside_it(tmp_path: Path):
    """``open(p).read()`` past the line length: its rewrite (laid out on lines of its own) and
    the one of ``open(p)`` cannot compose. The outer one is made; the inner one, still as
    written, is made by the next run, and no run refuses the file."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "m"\nrequires-python = ">=3.9"\n')
    (tmp_path / "data.txt").write_text(str(tmp_path / "data.txt"))
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        import os


        async def size(p):
            return os.path.getsize(open(p).read()) if p else open(p).read()
        """))
    first = invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    output = first.stdout + first.stderr
    assert "Fixed 4 findings" in output and "re-check" not in output and "run --fix again" in output, output
    second = invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    text = (tmp_path / "m.py").read_text()
    assert "open(p).read()" not in text, text
    assert run(text, f"size({str(tmp_path / 'data.txt')!r})") == len(str(tmp_path / "data.txt"))


def test_the_first_iterable_of_a_generator_expression_is_fixed_its_element_is_not(tmp_path: Path):
    """The first iterable runs once, where the generator expression is written: an ``await``
    there is the enclosing coroutine's. The element runs in the generator."""
    (tmp_path / "a.txt").write_text("")
    result = fixed("""\
        import os


        async def names(p):
            return sorted(name.upper() for name in os.listdir(p))


        async def sizes(p):
            return sum(os.path.getsize(os.path.join(p, name)) for name in ["a.txt"])
        """)
    text = result.fixed.decode()
    assert "return sorted(name.upper() for name in await asyncio.to_thread(os.listdir, p))" in text, text
    assert "return sum(os.path.getsize(os.path.join(p, name)) for name in [\"a.txt\"])" in text
    assert not result.skipped
    assert run(text, f"names({str(tmp_path)!r})") == ["A.TXT"]


# -- BLK301: pass the function -----------------------------------------------------------------
def test_splice_targets_never_match_unrelated_arguments():
    lines = ["import asyncio, time", "", "", "async def report(x):"]
    for i in range(40):
        lines += [f"    await asyncio.to_thread(time.sleep({i % 2 + 1}))", "    print(len(x), str(x))"]
    for i in range(30):
        lines += [f"    await asyncio.to_thread(time.sleep({i % 2 + 1}))", f'    await asyncio.to_thread(open("p{i}").read)']
    result = fixed("\n".join(lines) + "\n")
    text = result.fixed.decode()
    assert text.count("print(len(x), str(x))") == 40
    assert text.count("await asyncio.to_thread(time.sleep, ") == 70
    assert text.count('await asyncio.to_thread((await asyncio.to_thread(open, "p') == 30
    compile(text, "m.py", "exec")


def test_run_in_executor_splice_binds_keywords_with_partial(tmp_path: Path):
    result = fixed("""\
        import asyncio
        import time


        def work(value, scale=1):
            time.sleep(0.001)
            return value * scale


        async def compute():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, work(3, scale=2))
        """)
    text = result.fixed.decode()
    assert "await loop.run_in_executor(None, functools.partial(work, 3, scale=2))" in text
    assert text.startswith("import asyncio\nimport functools\nimport time\n")
    assert run(text, "compute()") == 6


SPLIT_CALL = """\
import asyncio
import logging.handlers


async def start(path):
    handler = logging.handlers.RotatingFileHandler(
        filename=path,
        maxBytes=1024,  # rotate early
        backupCount=2,
    )
    handler.close()
    return type(handler).__name__
"""


@pytest.mark.parametrize("settings, opening", [
    ('[project]\nrequires-python = ">=3.8"', "await asyncio.get_running_loop().run_in_executor(\n        None,\n"),
    ('[tool.offload]\nexecutor = "pools:POOL"',
     "await asyncio.get_running_loop().run_in_executor(\n        POOL,\n"),
])
def test_a_call_split_one_argument_a_line_is_bound_by_partial_one_level_deeper(tmp_path: Path, settings: str,
                                                                              opening: str):
    (tmp_path / "pyproject.toml").write_text(f"{settings}\n")
    (tmp_path / "pools.py").write_text("from concurrent.futures import ThreadPoolExecutor\n\nPOOL = ThreadPoolExecutor()\n")
    (tmp_path / "app.py").write_text(SPLIT_CALL)
    invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", "app.py", cwd=tmp_path)
    text = (tmp_path / "app.py").read_text()
    assert ("    handler = " + opening + "        functools.partial(\n"
            "            logging.handlers.RotatingFileHandler,\n"
            "            filename=path,\n"
            "            maxBytes=1024,  # rotate early\n"
            "            backupCount=2,\n"
            "        ),\n"
            "    )\n"
            "    handler.close()\n") in text, text
    namespace: dict = {}
    sys.path.insert(0, str(tmp_path))
    try:
        exec(compile(text, "app.py", "exec"), namespace)
        assert asyncio.run(namespace["start"](str(tmp_path / "app.log"))) == "RotatingFileHandler"
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("pools", None)
    skip_without_ruff()
    formatted = subprocess.run([sys.executable, "-m", "ruff", "format", "--no-cache", "--diff", "app.py"],
                               cwd=tmp_path, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_a_string_running_over_lines_keeps_its_text_when_its_call_is_bound_by_partial(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.8"\n')
    (tmp_path / "app.py").write_text("""\
import time


def render(template, strip=False):
    time.sleep(0.001)
    return template.strip() if strip else template


async def page():
    text = render(
        \"\"\"first
second
    third\"\"\",
        strip=False,
    )
    return text
""")
    invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", "app.py", cwd=tmp_path)
    text = (tmp_path / "app.py").read_text()
    assert ("        functools.partial(\n"
            "            render,\n"
            '            \"\"\"first\nsecond\n    third\"\"\",\n'
            "            strip=False,\n"
            "        ),\n") in text, text
    assert run(text, "page()") == "first\nsecond\n    third"


def test_impossible_splice_is_refused_and_the_rest_fixed():
    result = fixed("""\
        import asyncio
        import time


        def work(url, timeout=None, retries=0):
            time.sleep(0.001)
            return url


        async def fetch(url):
            time.sleep(0.001)
            return await asyncio.to_thread(work(url, timeout=3), 2)
        """)
    text = result.fixed.decode()
    assert "await asyncio.sleep(0.001)" in text
    assert "return await asyncio.to_thread(work(url, timeout=3), 2)" in text
    ((finding, reason),) = result.skipped
    assert finding.code == "BLK301" and "more arguments after this call" in reason


def test_a_method_called_on_the_result_of_a_fixed_call_keeps_both_wrappings(tmp_path: Path):
    """``open(p).read()`` is two fixes opening at the same place; both wrappings are kept, and
    the other fixes of the file are made with them."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "m"\nrequires-python = ">=3.9"\n')
    (tmp_path / "data.txt").write_text("  text  ")
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        import time


        async def load(p):
            time.sleep(0.001)
            return open(p).read().strip()
        """))
    result = invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    text = (tmp_path / "m.py").read_text()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "return (await asyncio.to_thread((await asyncio.to_thread(open, p)).read)).strip()" in text, text
    assert "await asyncio.sleep(0.001)" in text
    assert run(text, f"load({str(tmp_path / 'data.txt')!r})") == "text"


# -- layout and comments -------------------------------------------------------------------------
def test_one_argument_per_line_gets_the_function_on_its_own_line_without_copied_comments():
    result = fixed("""\
        import urllib.request


        async def fetch(url):
            r = urllib.request.urlopen(
                url,  # the url
                # a comment line
                timeout=3,  # seconds
            )
            return r
        """)
    assert result.fixed.decode() == textwrap.dedent("""\
        import asyncio
        import urllib.request


        async def fetch(url):
            r = await asyncio.to_thread(
                urllib.request.urlopen,
                url,  # the url
                # a comment line
                timeout=3,  # seconds
            )
            return r
        """)


# -- imports -----------------------------------------------------------------------------------
FIRST_PARTY = ("app/a_firstparty.py", """\
import time

from app import __name__ as _pkg  # noqa: F401


async def f():
    time.sleep(0.001)    # the only use of `time`
""", """\
import asyncio

from app import __name__ as _pkg  # noqa: F401


async def f():
    await asyncio.sleep(0.001)    # the only use of `time`
""")
TRY_IMPORT = ("app/b_try_import.py", """\
try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None
import time


async def f():
    time.sleep(1)
    await asyncio.sleep(0.001)
""", """\
try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None


async def f():
    await asyncio.sleep(1)
    await asyncio.sleep(0.001)
""")
NO_IMPORTS = ("app/c_no_imports.py", """\
async def f(prompt):
    return input(prompt)
""", """\
import asyncio


async def f(prompt):
    return await asyncio.to_thread(input, prompt)
""")
DOCSTRING_FUTURE = ("app/d_future.py", '''\
"""Doc."""
from __future__ import annotations

import os
import time
from pathlib import Path

import requests


async def f(p: Path):
    time.sleep(1)
    return os.getcwd(), requests
''', '''\
"""Doc."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import requests


async def f(p: Path):
    await asyncio.sleep(1)
    return os.getcwd(), requests
''')


@pytest.mark.parametrize("case", [FIRST_PARTY, TRY_IMPORT, NO_IMPORTS, DOCSTRING_FUTURE],
                         ids=lambda case: case[0].split("/")[1])
def test_imports_are_placed_like_isort_and_unused_ones_removed(case, tmp_path: Path):
    name, source, expected = case
    data = source.encode()
    result = fix_source(data, check_source(data, name), REMEDIES, True)
    assert result.fixed.decode() == expected
    skip_without_ruff()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ruff.lint]\nselect = ["I", "F401"]\n[tool.ruff.lint.isort]\nknown-first-party = ["app"]\n')
    target = tmp_path / name
    target.parent.mkdir()
    target.write_text(expected)
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", name],
                          cwd=tmp_path, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_an_import_only_under_a_condition_gets_an_unconditional_one():
    result = fixed("""\
        from typing import TYPE_CHECKING
        import time

        if TYPE_CHECKING:
            import asyncio


        async def f():
            time.sleep(0.001)
            return 3
        """, unsafe=False)
    text = result.fixed.decode()
    assert text.startswith("from typing import TYPE_CHECKING\nimport asyncio\n\nif TYPE_CHECKING:")
    assert run(text, "f()") == 3


def test_code_outside_the_fixed_functions_keeps_its_imports_and_bindings():
    result = fixed('''\
        import functools
        import time


        @functools.lru_cache()
        def elapsed(
            start,
        ):
            """Uses `time` too: the import stays."""
            return time.monotonic() - start


        class Clock:
            def now(self):
                return time.time()


        def install():
            global asyncio
            asyncio = None


        async def tick():
            time.sleep(0.001)
        ''', unsafe=False)
    ((finding, reason),) = result.skipped
    assert "`asyncio` here is a variable" in reason  # bound by `global asyncio` in install()
    result = fixed('''\
        import functools
        import time


        @functools.lru_cache()
        def elapsed(
            start,
        ):
            """Uses `time` too: the import stays."""
            return time.monotonic() - start


        async def tick():
            time.sleep(0.001)
        ''', unsafe=False)
    text = result.fixed.decode()
    assert "import time\n" in text and "    await asyncio.sleep(0.001)\n" in text
    compile(text, "m.py", "exec")


@pytest.mark.parametrize("taker", [
    "from app.util import time\n\n\ndef now():\n    return time.monotonic()\n",
    "import app.util\n\n\ndef now():\n    return app.util.time.monotonic()\n",
], ids=["from-import", "attribute"])
def test_an_import_another_module_takes_from_the_fixed_one_stays(taker: str, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nrequires-python = ">=3.9"\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "util.py").write_text("import time\n\n\nasync def nap():\n    time.sleep(0.001)\n")
    (tmp_path / "app" / "other.py").write_text(taker)
    (tmp_path / "app" / "alone.py").write_text("import time\n\n\nasync def nap():\n    time.sleep(0.001)\n")
    result = invoke_offload("check", "--no-cache", "--fix", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "app" / "util.py").read_text() == (
        "import asyncio\nimport time\n\n\nasync def nap():\n    await asyncio.sleep(0.001)\n")
    assert (tmp_path / "app" / "alone.py").read_text() == "import asyncio\n\n\nasync def nap():\n    await asyncio.sleep(0.001)\n"
    imported = subprocess.run([sys.executable, "-c", "import asyncio, app.other, app.util; app.other.now(); "
                               "asyncio.run(app.util.nap())"], cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr


INGRESS = '''\
"""Test ingress."""

from datetime import timedelta
import json
from pathlib import Path

from app.ingress import Ingress


async def test_ingress(tmp_path: Path):
    json.dumps({})
    Path(tmp_path / "x").write_text("x")
    return Ingress(), timedelta()
'''


@pytest.mark.parametrize("pyproject", [
    "[tool.ruff.lint.isort]\nforce-sort-within-sections = true\nknown-first-party = [\"app\"]\n",
    "[tool.isort]\nprofile = \"black\"\nforce_sort_within_sections = true\nknown_first_party = [\"app\"]\n",
], ids=["ruff", "isort"])
def test_an_added_import_follows_the_projects_force_sort_within_sections(pyproject: str, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(pyproject + "[tool.offload]\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app/__init__.py").write_text("")
    (tmp_path / "app/ingress.py").write_text("class Ingress:\n    pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_ingress.py").write_text(INGRESS)
    invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    text = (tmp_path / "tests/test_ingress.py").read_text()
    assert text.startswith('"""Test ingress."""\n\nimport asyncio\nfrom datetime import timedelta\nimport json\n')
    assert "await asyncio.to_thread(Path(tmp_path / \"x\").write_text, \"x\")" in text
    skip_without_ruff()
    if "tool.isort" in pyproject:  # the same order, as ruff reads it
        (tmp_path / "pyproject.toml").write_text(
            "[tool.ruff.lint.isort]\nforce-sort-within-sections = true\nknown-first-party = [\"app\"]\n")
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "I",
                           "--output-format", "concise", "tests/test_ingress.py"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


RESTORE = '''\
import shutil
from shutil import copy


async def restore(config, fixture):
    enc_tar = copy(fixture("test_consolidate.tar"), config.path_backup_directory)
    unc_tar = copy(
        fixture("test_consolidate_unc.tar"), config.path_core_backup_directory_xyz1
    )
    shutil.copy(fixture("backup.tar"), config.path_backup)
    return enc_tar, unc_tar
'''
RESTORED = '''\
import asyncio
import shutil
from shutil import copy


async def restore(config, fixture):
    enc_tar = await asyncio.to_thread(
        copy, fixture("test_consolidate.tar"), config.path_backup_directory
    )
    unc_tar = await asyncio.to_thread(
        copy,
        fixture("test_consolidate_unc.tar"),
        config.path_core_backup_directory_xyz1,
    )
    await asyncio.to_thread(shutil.copy, fixture("backup.tar"), config.path_backup)
    return enc_tar, unc_tar
'''


def fix_restore_py(root: Path, source: str) -> str:
    """``restore.py`` of a project with line length 88, after ``--fix --unsafe-fixes``."""
    (root / "pyproject.toml").write_text("[tool.ruff]\nline-length = 88\n[tool.offload]\n")
    (root / "restore.py").write_text(source)
    invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", ".", cwd=root)
    return (root / "restore.py").read_text()


def test_a_rewrite_past_the_line_length_is_laid_out_as_the_formatter_would(tmp_path: Path):
    assert fix_restore_py(tmp_path, RESTORE) == RESTORED
    skip_without_ruff()
    for name, text in (("before.py", RESTORE), ("after.py", RESTORED)):
        (tmp_path / name).write_text(text)
        formatted = subprocess.run([sys.executable, "-m", "ruff", "format", "--no-cache", "--check", name],
                                   cwd=tmp_path, capture_output=True, text=True)
        assert formatted.returncode == 0, (name, formatted.stdout + formatted.stderr)


def test_a_call_without_arguments_past_the_line_length_is_laid_out_too(tmp_path: Path):
    source = ("from pathlib import Path\n\n\nasync def check(expected_content: bytes, data_file: Path) -> None:\n"
              "    assert expected_content == data_file.with_name(\"image_decrypted_image.jpg\").read_bytes()\n")
    fixed = fix_restore_py(tmp_path, source)
    assert fixed.endswith("    assert expected_content == await asyncio.to_thread(\n"
                          "        data_file.with_name(\"image_decrypted_image.jpg\").read_bytes\n"
                          "    )\n"), fixed
    skip_without_ruff()
    formatted = subprocess.run([sys.executable, "-m", "ruff", "format", "--no-cache", "--check", "restore.py"],
                               cwd=tmp_path, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_a_blocking_call_in_a_finally_block_is_not_rewritten(tmp_path: Path):
    source = "import os\n\n\nasync def serve(path):\n    try:\n        pass\n    finally:\n        os.unlink(path)\n"
    data = source.encode()
    result = fix_source(data, check_source(data, "m.py"), REMEDIES, True)
    assert result.fixed == data
    [(_, reason)] = result.skipped
    assert reason.startswith("in a `finally` block")


def test_an_import_added_first_in_its_block_goes_below_the_blocks_leading_comment(tmp_path: Path):
    source = ('"""Test Supervisor API."""\n\n# pylint: disable=protected-access\nimport time\n'
              'from unittest.mock import patch\n\n\nasync def test_restart():\n    time.sleep(1)\n    return patch\n')
    data = source.encode()
    result = fix_source(data, check_source(data, "tests/test_supervisor.py"), REMEDIES, True)
    assert result.fixed.decode().startswith(
        '"""Test Supervisor API."""\n\n# pylint: disable=protected-access\nimport asyncio\nfrom unittest.mock import patch\n')
    skip_without_ruff()
    (tmp_path / "m.py").write_bytes(result.fixed)
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "I",
                           "--output-format", "concise", "m.py"], cwd=tmp_path, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_rewrite_inside_the_arguments_of_a_long_call_is_made_in_the_same_run(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.offload]\n")
    (tmp_path / "post.py").write_text(
        "import shutil\nfrom pathlib import Path\n\n\nasync def post(story_directory, fixture_name, target):\n"
        "    return shutil.copy(Path(story_directory / fixture_name).read_bytes(), target, follow_symlinks=False)\n")
    done = invoke_offload("check", "--no-cache", "--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    text = " ".join((tmp_path / "post.py").read_text().split())  # the long line is split as the formatter would
    assert "await asyncio.to_thread( shutil.copy, await asyncio.to_thread(Path(story_directory / fixture_name)" \
           ".read_bytes), target, follow_symlinks=False, )" in text, done.stderr
    assert "overlaps another rewrite" not in done.stderr


NESTED = '''\
import shutil
from pathlib import Path
from shutil import copy


def load_fixture(name):
    return Path(name).read_text()


async def restore(config, backup_file, stream, client, mock):
    location = Path(copy(backup_file, config.path_core_backup_directory_of_this_one))
    assert (Path(config) / f"{backup_file.name}_with_a_long_suffix_here.tar").exists()
    stream.feed_data(load_fixture("logs_export_supervisor_with_longer_name.txt").encode("utf-8"))
    mock.stats = client(
        return_value=[load_fixture("container_stats_with_a_long_fixture_name_here.json")]
    )
    data = {"photo": Path(backup_file).read_bytes(), "other": shutil.copy(backup_file, location)}
    return location, data
'''


def test_a_rewrite_inside_another_bracket_splits_its_line_as_the_formatter_would(tmp_path: Path):
    # ``Path(copy(...))``: the rewritten call does not end its line; the formatter would split
    # the line at its last bracket, and so does the fix.
    fixed = fix_restore_py(tmp_path, NESTED)
    assert "    location = Path(\n        await asyncio.to_thread(\n" in fixed
    assert "    stream.feed_data(\n        (\n            await asyncio.to_thread(" in fixed or \
        "    stream.feed_data(\n        (await asyncio.to_thread(" in fixed
    assert ast.dump(ast.parse(fixed)) == ast.dump(ast.parse(NESTED.replace(
        "copy(backup_file, config", "await asyncio.to_thread(copy, backup_file, config").replace(
        '(Path(config) / f"{backup_file.name}_with_a_long_suffix_here.tar").exists()',
        'await asyncio.to_thread((Path(config) / f"{backup_file.name}_with_a_long_suffix_here.tar").exists)').replace(
        'load_fixture("logs_export_supervisor_with_longer_name.txt")',
        '(await asyncio.to_thread(load_fixture, "logs_export_supervisor_with_longer_name.txt"))').replace(
        'load_fixture("container_stats_with_a_long_fixture_name_here.json")',
        'await asyncio.to_thread(load_fixture, "container_stats_with_a_long_fixture_name_here.json")').replace(
        "Path(backup_file).read_bytes()", "await asyncio.to_thread(Path(backup_file).read_bytes)").replace(
        "shutil.copy(backup_file, location)", "await asyncio.to_thread(shutil.copy, backup_file, location)").replace(
        "import shutil\n", "import asyncio\nimport shutil\n")))
    skip_without_ruff()
    formatted = subprocess.run([sys.executable, "-m", "ruff", "format", "--no-cache", "--diff", "restore.py"],
                               cwd=tmp_path, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("line", [
    "    x = await asyncio.to_thread(filter_data, coresys, SAMPLE_EVENT, {}) if flag else other_value",
    "    self.data[key] = Path(await asyncio.to_thread(copy, backup_file, coresys.config.path_backup))",
    "    x = y = Path(await asyncio.to_thread(copy, backup_file, coresys.config.path_backup_dir))",
    "    value = d[await asyncio.to_thread(load_fixture, \"logs_export_supervisor.txt\") + other_value]",
    "    call(await asyncio.to_thread(load_fixture, \"logs_export_supervisor.txt\"))  # a comment here",
    "    return (await asyncio.to_thread(load_fixture, \"logs_export_supervisor_longer.txt\")).text",
])
def test_a_long_line_the_formatter_would_split_by_other_rules_is_kept(line: str):
    from detector.relayout import split_line
    assert split_line(line, 88, inside=False) is None


def test_a_call_with_one_argument_a_line_gets_the_trailing_comma_the_formatter_adds(tmp_path: Path):
    source = textwrap.dedent('''\
        import json
        from pathlib import Path


        async def save(config_file: Path, token):
            config_file.write_text(
                json.dumps(
                    {
                        "session": {token: 9999999999.0},
                        "ports": {},
                    }
                )
            )
        ''')
    data = source.encode()
    result = fix_source(data, check_source(data, "m.py"), REMEDIES, True)
    assert result.fixed.decode().endswith(
        '    await asyncio.to_thread(\n        config_file.write_text,\n        json.dumps(\n'
        '            {\n                "session": {token: 9999999999.0},\n                "ports": {},\n'
        '            }\n        ),\n    )\n')
    skip_without_ruff()
    (tmp_path / "m.py").write_bytes(result.fixed)
    formatted = subprocess.run([sys.executable, "-m", "ruff", "format", "--no-cache", "--isolated", "--check", "m.py"],
                               cwd=tmp_path, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
