"""Run a rule's catalogue examples through the real ``offload check`` command (in this process)."""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

from click.testing import CliRunner

from detector.catalog import Rule
from detector.cli import main

EXAMPLE = "example.py"


@contextmanager
def _inside(directory: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


def _offload(directory: Path, rule: Rule, source: str, *options: str) -> str:
    (directory / EXAMPLE).write_text(source, encoding="utf-8")
    (directory / "pyproject.toml").write_text(rule.examples.pyproject, encoding="utf-8")
    with _inside(directory):
        result = CliRunner().invoke(main, ["check", "--no-cache", "-j", "1", "-q", "--exit-zero", "--select", rule.code,
                                           *options, EXAMPLE])
    assert result.exit_code == 0, result.output
    return result.stdout


def reported(directory: Path, rule: Rule, source: str) -> List[str]:
    """The codes ``offload check --select CODE`` reports for ``source`` (a module of its own)."""
    output = _offload(directory, rule, source, "--output-format", "json")
    return [record["code"] for record in json.loads(output)]


def fixed(directory: Path, rule: Rule, source: str) -> str:
    """What ``offload check --fix`` (with ``--unsafe-fixes`` for an unsafe rule) writes from ``source``."""
    _offload(directory, rule, source, "--fix", *(("--unsafe-fixes",) if rule.fix == "unsafe" else ()))
    return (directory / EXAMPLE).read_text(encoding="utf-8")
