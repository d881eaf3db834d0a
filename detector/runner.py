"""A check run: discover files, analyse each, build the project, collect findings."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

from detector import catalog as catalog_module
from detector.analysis import diagnostics, misuse, propagate
from detector.analysis.findings import direct_findings
from detector.analysis.module import summarize
from detector.analysis.project import Project
from detector.analysis.summary import ModuleSummary
from detector.catalog import Catalog, CatalogError
from detector.config import Config, ConfigError
from detector.discovery import discover, module_name, source_roots
from detector.model import Finding

Progress = Callable[[int, int], None]


@dataclass
class CheckResult:
    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    errors: List[str] = field(default_factory=list)  # make the exit code 2
    warnings: List[str] = field(default_factory=list)


def effective_catalog(config: Config) -> Catalog:
    base = catalog_module.builtin()
    if config.offload_wrappers:
        base = dataclasses.replace(base, wrappers=config.offload_wrappers)
    if not config.blocking_calls:
        return base
    where = f"{config.source or 'config'}: [tool.offload].blocking-calls"
    try:
        return catalog_module.extend(base, config.blocking_calls, where)
    except CatalogError as exc:
        raise ConfigError(str(exc)) from None


def display_path(path: Path) -> str:
    """Paths under the working directory are shown relative to it, like ruff and flake8 do."""
    text = os.path.normpath(str(path))
    if os.path.isabs(text):
        relative = os.path.relpath(text)
        return text if relative.startswith("..") else relative
    return text


def analyse_file(path: Path, shown: str, catalog: Catalog, roots: Sequence[Path]) -> ModuleSummary:
    name, is_package = module_name(path, roots)
    try:
        data = path.read_bytes()
    except OSError as exc:
        summary = ModuleSummary(path=shown, module=name)
        summary.diagnostics.append(diagnostics.diagnostic(
            diagnostics.DECODE_ERROR, shown, f"cannot read file: {exc.strerror or exc}"))
        return summary
    return analyse_bytes(data, shown, catalog, name, is_package)


def analyse_bytes(data: bytes, shown: str, catalog: Catalog, name: str, is_package: bool) -> ModuleSummary:
    try:
        return summarize(data, shown, catalog, name, is_package)
    except Exception as exc:  # a bug in offload must not hide the other files' results
        summary = ModuleSummary(path=shown, module=name)
        summary.diagnostics.append(diagnostics.diagnostic(
            diagnostics.INTERNAL_ERROR, shown, f"internal error: {type(exc).__name__}: {exc}"))
        return summary


def findings_for(summaries: List[ModuleSummary], catalog: Catalog, config: Config) -> List[Finding]:
    project = Project(summaries, catalog)
    found = direct_findings(project)
    if config.is_selected(propagate.CODE):
        found += propagate.transitive_findings(project)
    if any(config.is_selected(code) for code in misuse.NAMES):
        found += misuse.misuse_findings(project)
    found = [f for f in found if config.is_selected(f.code, f.filename)
             and (f.code not in misuse.OPT_IN or config.selects_explicitly(f.code))]
    return sorted(found, key=Finding.sort_key)


def check_paths(
    paths: Sequence[Union[str, Path]],
    config: Optional[Config] = None,
    progress: Optional[Progress] = None,
) -> CheckResult:
    """Check files and directories. Raises ConfigError for bad configuration only."""
    config = config or Config()
    catalog = effective_catalog(config)
    found = discover([Path(p) for p in paths], config)
    result = CheckResult(errors=list(found.errors), warnings=list(found.warnings), files=len(found.files))
    roots = source_roots(config.root)
    # The rest of the project is analysed too, so helpers defined elsewhere resolve;
    # findings are reported only for the files asked about.
    checked = {path.resolve() for path in found.files}
    context = [p for p in discover([config.root], config).files if p.resolve() not in checked] if config.root.is_dir() else []
    files = found.files + context
    summaries = []
    for index, path in enumerate(files, start=1):
        summaries.append(analyse_file(path, display_path(path), catalog, roots))
        if progress is not None:
            progress(index, len(files))
    shown = {display_path(path) for path in found.files}
    result.findings = [f for f in findings_for(summaries, catalog, config) if f.filename in shown]
    return result


def check_source(
    source: Union[str, bytes],
    filename: str = "<stdin>",
    config: Optional[Config] = None,
) -> List[Finding]:
    """Check one module's source text, as ``offload check -`` does."""
    config = config or Config()
    catalog = effective_catalog(config)
    data = source.encode("utf-8") if isinstance(source, str) else source
    name, is_package = module_name(Path(filename), source_roots(config.root))
    return findings_for([analyse_bytes(data, filename, catalog, name, is_package)], catalog, config)
