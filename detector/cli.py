"""Command-line wiring. Exit codes: 0 clean, 1 findings remain, 2 usage/config/internal error."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

import click

from detector import __version__, output_failure

if TYPE_CHECKING:
    from detector.baseline import Baseline
    from detector.config import Config
    from detector.fix import FixRun
    from detector.model import Finding
    from detector.runner import CheckResult, Progress
    from detector.runtime.confirm import ConfirmResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
INTERNAL_ERROR = "BLK903"


class OffloadGroup(click.Group):
    """Usage errors exit 2 (click's default too), and ``offload`` alone shows help.

    An unexpected exception is a bug in offload: its traceback is printed and the exit status
    is 2, never 1, which would read as "findings remain". Output that cannot be written (a closed
    pipe, a full disk) is not a bug: detector.output_failure ends the run, for every command and
    for --help and --version too.
    """

    def make_context(self, info_name: Optional[str], args: List[str], parent: Optional[click.Context] = None,
                     **extra: Any) -> click.Context:
        with output_failure.guarded():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with output_failure.guarded():
            try:
                return super().invoke(ctx)
            except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit,
                    KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - the last line of defence
                if output_failure.writing_output(exc):
                    raise
                import traceback

                traceback.print_exc()
                raise _fail(f"internal error: {type(exc).__name__}: {exc} (this is a bug in offload)") from None


@click.group(cls=OffloadGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="offload")
def main() -> None:
    """Find code that blocks the asyncio event loop, and offload it to a thread.

    \b
    offload check [PATHS]          static analysis (exit 1 when findings remain)
    offload watch -- CMD ...       run a program with the slow-callback watchdog
    offload confirm S.json R.json  join static findings with runtime stalls
    offload rules                  every rule, with its code and fix availability
    offload rule CODE              what a rule checks, and how to fix it
    """


def _fail(message: str) -> "click.exceptions.Exit":
    from detector.display import printable

    click.echo(f"error: {printable(message)}", err=True)
    return click.exceptions.Exit(EXIT_ERROR)


def _progress_printer(enabled: bool) -> Optional[Progress]:
    """click's progress bar on stderr while many files are analysed, on a terminal; silent otherwise.

    Called once per analysed file (cached files are not counted), from the worker pool too.
    """
    if not enabled or not sys.stderr.isatty():
        return None
    bars: List[Any] = []  # the one click.progressbar, made when a run turns out to be large

    def show(done: int, total: int) -> None:
        if total < 200:
            return
        if not bars:
            bars.append(click.progressbar(length=total, label="analysing", show_pos=True, file=sys.stderr))
            bars[0].__enter__()
        bar = bars[0]
        bar.update(done - bar.pos)
        if done == total:
            bar.__exit__(None, None, None)

    return show


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--output-format", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="How findings are printed on stdout: text, json, sarif (SARIF 2.1.0 for code "
              "scanning) or github (GitHub Actions annotations).")
@click.option("--select", metavar="CODES", help="Only these rule codes or prefixes (comma-separated, e.g. BLK1,BLK200).")
@click.option("--ignore", metavar="CODES", help="Skip these rule codes or prefixes.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Read settings from this file instead of the nearest pyproject.toml.")
@click.option("--stdin-filename", metavar="NAME", help="Name to report for source read from '-' (stdin).")
@click.option("--statistics", is_flag=True, help="Print a count of findings per rule instead of the findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary line, no progress.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (auto: on a terminal, unless NO_COLOR is set).")
@click.option("--show-source", is_flag=True, help="Print the offending line under each finding, with carets under the call.")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Report only findings that are not recorded in FILE (written by --write-baseline).")
@click.option("--write-baseline", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Record the current findings in FILE and exit 0; later runs with --baseline FILE report only new ones.")
@click.option("--fix", is_flag=True, help="Rewrite findings whose fix is safe, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, default=None,
              help="Also apply unsafe fixes (moving a call to a thread changes cancellation and thread-safety).")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--runtime", "runtime_report", type=click.Path(dir_okay=False), metavar="REPORT.json",
              help="Join the findings with an `offload watch` report: confirmed / no stall observed / runtime-only.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
              help="Worker processes for analysing files (default and most: every core, and no more than "
              "the files; 1: in this process).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write .offload_cache/ in the project root.")
@click.option("--python", "python", metavar="PATH",
              help="The Python interpreter or environment whose installed packages calls are followed into "
              "(default: [tool.offload] python, then VIRTUAL_ENV, .venv/ or venv/ in the project, then offload's own).")
@click.option("--no-follow-dependencies", is_flag=True,
              help="Stop at the project's edge: calls into installed packages are matched against the catalogue only.")
@click.option("--show-settings", is_flag=True,
              help="Print the settings this run would use (config file, rules, target version, environment) and exit.")
def check(
    paths: Tuple[str, ...],
    output_format: str,
    select: Optional[str],
    ignore: Optional[str],
    exit_zero: bool,
    config_file: Optional[Path],
    stdin_filename: Optional[str],
    statistics: bool,
    quiet: bool,
    color: str,
    show_source: bool,
    baseline_file: Optional[Path],
    write_baseline: Optional[Path],
    fix: bool,
    unsafe_fixes: Optional[bool],
    show_diff: bool,
    runtime_report: Optional[str],
    jobs: Optional[int],
    no_cache: bool,
    python: Optional[str],
    no_follow_dependencies: bool,
    show_settings: bool,
) -> None:
    """Check PATHS (files or directories, default '.') for blocking calls on the event loop.

    Use '-' to read one module from stdin. Settings come from [tool.offload] in the nearest
    pyproject.toml (keys: select, ignore, per-file-ignores, exclude, blocking-calls,
    offload-wrappers, target-version, unsafe-fixes, executor, not-on-loop, on-loop,
    follow-dependencies, python, max-file-size, and strict-allow for 'offload watch
    --strict'); options win over it.
    target-version defaults to the lowest Python that [project] requires-python allows
    (else [tool.poetry.dependencies] python, python_requires in setup.cfg, or written as a
    literal in setup.py; else the lowest 'Programming Language :: Python :: 3.N' classifier).
    'offload rule CODE' explains a finding.

    \b
    Coroutines that no asyncio loop runs (e.g. ESPHome's code generation, where a driver steps
    them with coro.send(None)) are switched off with dotted names or patterns:
        not-on-loop = ["pkg.module.func", "pkg.components.*"]

    A finding whose rewrite could break the program keeps its advice and says why: "(no fix:
    REASON)". Plain --fix never rewrites test files.

    \b
    Exit status: 0 no findings, 1 findings remain (a file that cannot be read is a BLK901
    finding), 2 bad usage, bad config, a missing path or an internal error.
    """
    from detector import config as config_module
    from detector import runner
    from detector.report import json_format, terminal, text

    run_options: Dict[str, Any] = {"jobs": jobs, "use_cache": not no_cache, "python": python}  # the re-check after --fix uses them too
    if "" in paths:  # e.g. `offload check "$FILES"` with nothing in $FILES: never "everything"
        raise _fail("empty path: name files or directories, or no path at all for the current directory")
    if python == "":  # e.g. `--python "$VENV"` with $VENV unset: never another environment
        raise _fail("--python: empty path: name a Python interpreter or environment directory")
    targets = tuple(Path(p) for p in paths) or (Path("."),)
    fix_run = None
    sources = None  # source read from stdin, for --show-source and SARIF fixes
    known = _load_baseline(baseline_file, write_baseline)
    runtime = _load_runtime(runtime_report) if runtime_report else None  # before anything is analysed
    reading_stdin = targets == (Path("-"),)
    if Path("-") in targets and not reading_stdin:
        raise _fail("'-' (stdin) cannot be combined with other paths")
    if stdin_filename is not None and not reading_stdin:  # it would be ignored: the paths would be checked
        raise _fail("--stdin-filename names the source read from '-': add '-' as the only path")
    if statistics and output_format not in ("text", "json"):
        raise _fail(f"--statistics prints text or json, not {output_format}")
    try:
        start = Path(stdin_filename) if reading_stdin and stdin_filename else targets[0]
        settings = config_module.load(config_file, start=start if os.path.exists(start) else Path.cwd())
        settings = config_module.with_overrides(
            settings,
            select=config_module.parse_selectors(select, "--select", settings),
            ignore=config_module.parse_selectors(ignore, "--ignore", settings),
            follow_dependencies=False if no_follow_dependencies else None,
        )
        config_module.check_selection(settings)
        if show_settings:
            _show_settings(settings, python)
            return
        if reading_stdin:
            if fix or show_diff:
                raise _fail("--fix and --diff work on files, not on stdin")
            data = _read_stdin()
            sources = {stdin_filename or "-": data}
            result = runner.CheckResult(files=1, findings=runner.check_source(data, stdin_filename or "-", settings))
        else:
            result = runner.check_paths(targets, settings, progress=None if quiet else _progress_printer(True),
                                        **run_options)
            if fix or show_diff:
                unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
                result, fix_run = _apply_fixes(result, targets, settings, unsafe, show_diff, quiet, run_options)
    except config_module.ConfigError as exc:
        raise _fail(str(exc))
    # A file offload failed on (BLK903) is an internal error: exit 2, never "findings remain".
    failed = any(finding.code == INTERNAL_ERROR for finding in result.findings)
    hidden = stale = 0
    if known is not None:
        result.findings, baselined, stale = known.split(result.findings)
        hidden = len(baselined)

    from detector.display import printable

    for message in result.warnings:  # they name files of the project: escaped like findings
        click.echo(f"warning: {printable(message)}", err=True)
    for message in result.errors:
        click.echo(f"error: {printable(message)}", err=True)
    joined = _confirm_with(result.findings, runtime) if runtime is not None else None
    if not fix and not statistics and output_format != "sarif":  # SARIF plans the fixes itself
        from detector import fix as fixer

        result.findings = fixer.with_refusals(result.findings, settings, sources, use_cache=not no_cache)
    listed = False  # whether the findings were printed, in the text format with their runtime status
    if statistics:
        click.echo(json_format.statistics(result.findings) if output_format == "json"
                   else text.statistics(result.findings), nl=False)
    elif show_diff or write_baseline is not None:
        pass  # the diff is the output: it can be piped to `patch` or `git apply`
    else:
        listed = output_format == "text"
        use_color = output_format == "text" and terminal.use_color(color, sys.stdout)
        output_failure.echo_all(_render(output_format, result.findings, settings, use_color, show_source, sources,
                                        joined), color=use_color)
    if joined is not None:
        from detector.runtime.confirm import format_rest, format_text

        # Text: the findings above carry their status, the rest follows. Structured output stays
        # one document on stdout; the human lines go to stderr.
        for line in format_rest(joined) if listed else format_text(joined):
            click.echo(line, err=output_format != "text")
    if not quiet and result.files and write_baseline is None:
        click.echo(text.summary(result.findings, result.files, fixable=not reading_stdin), err=True)
        if hidden:
            click.echo(f"{hidden} more finding{'s' if hidden != 1 else ''} hidden by the baseline {baseline_file}.", err=True)
        if stale:
            click.echo(f"{stale} baseline entr{'ies' if stale != 1 else 'y'} no longer found: "
                       f"refresh it with --write-baseline {baseline_file}.", err=True)
    if result.files == 0 and not result.errors and not result.findings and not hidden:
        if result.excluded:  # e.g. pre-commit passing only files the configuration excludes
            if not quiet:
                click.echo("Nothing to check: every file named is excluded by the configuration.", err=True)
        else:
            result.errors.append("no Python files to check")
            click.echo("error: no Python files to check", err=True)
    if result.errors or failed:
        sys.exit(EXIT_ERROR)
    if write_baseline is not None:
        from detector import baseline

        try:
            count = baseline.write(result.findings, write_baseline)
        except baseline.BaselineError as exc:
            raise _fail(str(exc))
        if not quiet:
            click.echo(f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {write_baseline}.", err=True)
        unanalysed = sum(1 for f in result.findings if f.is_diagnostic)
        if unanalysed:
            click.echo(f"warning: {unanalysed} file{'s' if unanalysed != 1 else ''} could not be analysed (BLK9xx); "
                       "diagnostics are never baselined and stay reported until fixed.", err=True)
        sys.exit(EXIT_CLEAN)
    if show_diff:
        pending = fix_run is not None and (fix_run.files or fix_run.refused)
        sys.exit(EXIT_FINDINGS if pending and not exit_zero else EXIT_CLEAN)
    sys.exit(EXIT_FINDINGS if result.findings and not exit_zero else EXIT_CLEAN)


def _show_settings(settings: "Config", python: Optional[str]) -> None:
    import json

    from detector import environment
    from detector.display import display_path, printable

    follow = settings.follow_dependencies
    lines = [
        f"config file: {display_path(settings.source) if settings.source else '(none: defaults)'}",
        f"project root: {display_path(settings.root)}",
        f"select: {', '.join(settings.select)}",
        f"ignore: {', '.join(settings.ignore) or '(none)'}",
        f"target-version: {settings.target_version}",
        f"unsafe-fixes: {str(settings.unsafe_fixes).lower()}",
        # A list as TOML writes it: ["true"] must not read like the boolean.
        f"follow-dependencies: {str(follow).lower() if isinstance(follow, bool) else json.dumps(list(follow))}",
        f"max-file-size: {settings.max_file_size}",
    ]
    if follow is not False:
        from detector.libraries import Installed
        from detector.runner import environment_warnings

        installed = Installed(environment.find(settings.root, python, settings.python), follow)
        lines.append(f"environment: {installed.environment.describe()}")
        for warning in environment_warnings(installed, settings):  # as a run would warn
            click.echo(f"warning: {printable(warning)}", err=True)
    for line in lines:
        click.echo(line)


def _read_stdin() -> bytes:
    from detector import files

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # started with file descriptor 0 closed
        raise _fail("cannot read standard input: it is closed")
    try:
        return files.read_stream(stream)
    except files.UnreadableFile as exc:
        raise _fail(f"cannot read standard input: {exc.reason}")


def _apply_fixes(result: CheckResult, paths: Sequence[Path], settings: Config, unsafe: bool, show_diff: bool, quiet: bool,
                 run_options: Dict[str, Any]) -> Tuple[CheckResult, FixRun]:
    """Fix (or diff) what can be fixed; return the findings that remain after writing, and the fix run.

    A fix offload refuses is reported with its reason, and its finding remains (exit 1)."""
    from detector import fix as fixer
    from detector import patch, runner

    run = fixer.fix_findings(result.findings, settings, unsafe=unsafe, write=not show_diff, paths=paths,
                             run_options=run_options)
    from detector.display import printable

    for finding, reason in run.refused:  # the file's name is hostile input: escaped, as in findings
        click.echo(printable(f"{finding.filename}:{finding.location.row}:{finding.location.column}: {finding.code} "
                             f"not fixed: {reason}"), err=True)
    count = f"{run.applied} finding{'s' if run.applied != 1 else ''} in {len(run.files)} file{'s' if len(run.files) != 1 else ''}"
    if run.refused and not quiet:
        refused = len(run.refused)
        click.echo(f"{refused} fix{'es' if refused != 1 else ''} refused (reasons above); "
                   f"{'their findings remain' if refused != 1 else 'its finding remains'}.", err=True)
    if show_diff:
        for name, change in run.files.items():
            output_failure.echo_all(patch.unified(name, change.source, change.fixed))
        if not quiet:
            click.echo(f"Would fix {count}.", err=True)
        result.errors.extend(run.errors)
        return result, run
    if not quiet and run.files:
        click.echo(f"Fixed {count}.", err=True)
    if run.files and run.remaining is not None and not run.errors:
        remaining = run.remaining  # the project's re-check with the fixed files: what is on disk now
    else:
        remaining = runner.check_paths(paths, settings, **run_options) if run.files else result
    remaining.findings = fixer.plan_findings(remaining.findings, settings)
    remaining.errors.extend(run.errors)
    return remaining, run


def _load_baseline(baseline_file: Optional[Path], write_baseline: Optional[Path]) -> Optional[Baseline]:
    if baseline_file is None:
        return None
    if write_baseline is not None:
        raise _fail("--baseline and --write-baseline cannot be combined: --write-baseline records every finding")
    from detector import baseline

    try:
        return baseline.load(baseline_file)
    except baseline.BaselineError as exc:
        raise _fail(str(exc))


def _render(output_format: str, findings: List[Finding], settings: Config, color: bool, show_source: bool,
            sources: Optional[Mapping[str, bytes]], joined: Optional[ConfirmResult] = None) -> str:
    """``joined`` (``--runtime``) adds each finding's runtime status to the json and sarif records."""
    from detector.report import terminal

    runtime = None if joined is None else [item.to_dict()["runtime"] for item in joined.findings]
    if output_format == "text":
        from detector.runtime.confirm import status_text

        statuses = None if joined is None else [status_text(item, joined.report) for item in joined.findings]
        return terminal.render(findings, color=color, show_source=show_source, sources=sources, statuses=statuses)
    if output_format == "sarif":
        from detector import fix as fixer
        from detector.config import effective_catalog
        from detector.report import sarif

        rules = effective_catalog(settings).rules.values()
        findings = fixer.plan_findings(findings, settings, sources)  # each fix's edits, one parse per file
        return sarif.render(findings, rules=rules, sources=sources, runtime=runtime)
    if output_format == "json":
        from detector.report import json_format

        return json_format.render(findings, runtime=runtime)
    from detector.report import github

    return github.render(findings)


def _load_runtime(report_path: str) -> Dict[str, Any]:
    from detector.runtime.confirm import ConfirmInputError, load_runtime

    try:
        return load_runtime(report_path)
    except ConfirmInputError as exc:
        raise _fail(str(exc))


def _confirm_with(findings: Sequence[Finding], report: Dict[str, Any]) -> ConfirmResult:
    """``offload check --runtime R.json``: the same join as ``offload confirm``."""
    from detector.runtime.confirm import ConfirmInputError, join

    try:
        return join([f.to_dict() for f in findings], report)
    except ConfirmInputError as exc:
        raise _fail(str(exc))


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
def rules_command(fmt: str) -> None:
    """List every rule: code, name, family, whether --fix can rewrite it, what it finds."""
    from detector.catalog import builtin
    from detector.report.ruledocs import table

    output_failure.echo_all(table(builtin().rules.values(), markdown=fmt == "markdown"))


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Explain one rule: what it finds, why it matters, an example, the fix and its safety."""
    from detector.catalog import builtin
    from detector.report.ruledocs import describe

    rule = builtin().rules.get(code.upper())
    if rule is None:
        raise _fail(f"unknown rule code {code!r}; 'offload rules' lists them")
    click.echo(describe(rule), nl=False)


# The runtime commands live in their own module: it imports only the stdlib and click.
from detector.runtime.cli import confirm, watch  # noqa: E402

main.add_command(watch)
main.add_command(confirm)
