"""flake8 plugin: ``flake8 --select BLK`` runs offload on each file flake8 checks.

Registered as ``[project.entry-points."flake8.extension"] BLK = "detector.flake8_plugin:Plugin"``.
It is offload itself (``detector.runner.check_source`` on the lines flake8 read), not a second
implementation, so it reports the direct rules (BLK1xx), BLK200 chains whose helpers are in the
same file, and the BLK9xx diagnostics. Chains through helpers in *other* modules need the
whole project and so ``offload check``.

Settings come from ``[tool.offload]`` of the file's project (blocking-calls, offload-wrappers,
per-file-ignores, select/ignore): the same answers as ``offload check``. flake8's own
``--select``/``--extend-ignore``/``# noqa`` apply on top.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from detector import __version__

if TYPE_CHECKING:
    from detector.config import Config

Report = Tuple[int, int, str, type]

_CONFIGS: Dict[Path, Config] = {}


def _config_for(filename: str) -> Config:
    from detector import config as config_module

    start = Path(filename).resolve().parent if filename not in ("-", "stdin", "") else Path.cwd()
    if not start.is_dir():
        start = Path.cwd()
    if start not in _CONFIGS:
        _CONFIGS[start] = config_module.load(None, start=start)
    return _CONFIGS[start]


class Plugin:
    name = "offload"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str = "", lines: Optional[List[str]] = None) -> None:
        # ``tree`` makes this an AST plugin (flake8 parses once and skips files that do not parse);
        # offload parses with libcst itself, from the same lines.
        self.tree = tree
        self.filename = filename
        self.lines = lines or []

    def run(self) -> Iterator[Report]:
        from detector.config import ConfigError
        from detector.runner import check_source

        try:
            config = _config_for(self.filename)
            findings = check_source("".join(self.lines), self.filename or "<stdin>", config)
        except ConfigError as exc:
            yield 1, 0, f"BLK903 offload configuration error: {exc}", type(self)
            return
        for finding in findings:
            yield finding.location.row, max(finding.location.column - 1, 0), f"{finding.code} {finding.message}", type(self)
