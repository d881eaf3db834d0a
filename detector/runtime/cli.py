"""Click wiring for ``offload watch`` and ``offload confirm``.

Exit codes: ``watch`` returns the command's own status, or 2 when the report it was asked for
cannot be written; ``confirm`` returns 0 whatever it finds; both return 2 for usage errors and
unusable input.
"""
from __future__ import annotations

import json
import math
import sys
from typing import Any, Dict, Optional, Sequence, Tuple

import click


def _positive(ctx: click.Context, param: click.Parameter, value: Optional[float]) -> Optional[float]:
    if value is not None and not 0 < value < math.inf:  # also nan, and inf: no stall is that long
        raise click.BadParameter("must be a positive number of seconds")
    return value


def _report_path_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot take the report, checked before the command runs (None if it can)."""
    import os

    if os.path.isdir(path):
        return "is a directory"
    if os.path.exists(path):  # a file, a FIFO, a device: written as such (detector.atomic)
        if os.path.isfile(path) and not os.access(path, os.W_OK):
            return "the file is read-only"
        return None
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"no such directory: {os.path.dirname(path) or directory}"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"directory not writable: {os.path.dirname(path) or directory}"
    return None


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True,
                      "allow_interspersed_args": False},
)
@click.option("--threshold", type=float, default=0.1, show_default=True, callback=_positive,
              help="Report stalls of at least this many seconds.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Write the JSON report to this file.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: print the report on stdout.")
@click.option("--strict", "strict", type=click.Choice(["warn", "fail"]), is_flag=False, flag_value="warn",
              default=None, help="Also report every blocking call made on a loop thread, however fast "
              "(--strict=fail: exit 1 when there is one and the command succeeded).")
@click.option("--dump-after", type=float, default=None, callback=_positive, metavar="SECONDS",
              help="Print the stack of a loop stuck this long on stderr, while it is stuck.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def watch(threshold: float, report_path: Optional[str], output_format: str, strict: Optional[str],
          dump_after: Optional[float], command: Tuple[str, ...]) -> None:
    """Run a Python COMMAND with the event-loop watchdog in every process it starts.

    \b
    offload watch -- python app.py
    offload watch --threshold 0.05 --report stalls.json -- pytest -x
    offload watch --strict=fail -- python app.py
    """
    from detector.runtime.events import write_json_atomic
    from detector.runtime.session import CannotStart, end_like, run
    from detector.runtime.summary import make_watch_report, summarize

    if not command:
        raise click.UsageError("missing command: offload watch [OPTIONS] -- COMMAND [ARGS]...")
    if report_path:
        problem = _report_path_problem(report_path)
        if problem:  # before the command runs: a long test suite is not run for nothing
            click.echo(f"offload: cannot write the report to {report_path}: {problem}", err=True)
            sys.exit(2)
    strict_allow, strict_root = _strict_allow() if strict else ((), None)
    try:
        result = run(list(command), threshold, dump_after=dump_after, strict=strict, strict_allow=strict_allow,
                     strict_root=strict_root)
    except CannotStart as exc:
        click.echo(f"offload: cannot start {exc.command}: {exc.reason}", err=True)
        sys.exit(exc.exit_code)
    merged = result.merged
    report = make_watch_report(merged, command=list(command), threshold=threshold, exit_code=result.exit_code)
    if strict is not None:
        report["strict"] = [call.to_dict() for call in result.strict]
    from detector.display import printable

    for problem in merged.problems + result.strict_problems:  # names from the watch directory: escaped
        click.echo(printable(f"offload: {problem}"), err=True)
    if merged.more_problems:
        click.echo(f"offload: ... and {merged.more_problems} more unreadable records skipped", err=True)
    report_failed = False
    if report_path:
        try:
            write_json_atomic(report_path, report)
        except OSError as exc:  # the stalls are still printed below; the exit status says the report is missing
            click.echo(f"offload: cannot write {report_path}: {exc.strerror or exc}", err=True)
            report_failed = True
    if merged.processes or merged.tally.count or not merged.unwatched:
        for line in summarize(merged.tally, threshold):
            click.echo(line, err=True)
    for process in merged.unwatched:
        click.echo(printable(f"offload: {_unwatched(process)}"), err=True)
    if not merged.processes:
        if merged.unwatched:
            click.echo("offload: no process was watched", err=True)
        else:
            click.echo("offload: no event loop ran under the watchdog (not a Python command, "
                       "or Python started with -I, -E or -S?)", err=True)
    if strict:
        from detector.runtime.strict_events import summarize as summarize_strict

        for line in summarize_strict(result.strict):
            click.echo(line, err=True)
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
    if report_failed:  # CI must not go on without the report it asked for
        sys.exit(2)
    if strict == "fail" and result.strict and result.returncode == 0:
        sys.exit(1)
    end_like(result.returncode)


def _unwatched(process: Dict[str, Any]) -> str:
    python = process.get("python") if isinstance(process.get("python"), str) else "python"
    version = process.get("version") if isinstance(process.get("version"), str) else "?"
    pid = process.get("pid") if isinstance(process.get("pid"), int) else "?"
    needs = process.get("needs") if isinstance(process.get("needs"), str) else "3.9"
    return f"{python} (Python {version}, pid {pid}) is not watched: the watchdog needs Python {needs}+"


def _strict_allow() -> Tuple[Sequence[str], Optional[str]]:
    """``[tool.offload] strict-allow`` found from the current directory, and the directory its globs are relative to."""
    from detector.config import ConfigError, load

    try:
        config = load()
    except ConfigError as exc:
        click.echo(f"offload: {exc}", err=True)
        sys.exit(2)
    return config.strict_allow, str(config.root)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("static_json", type=click.Path(dir_okay=False))
@click.argument("runtime_json", type=click.Path(dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def confirm(static_json: str, runtime_json: str, output_format: str) -> None:
    """Join static findings (offload check --output-format json) with a runtime report (offload watch --report)."""
    from detector.runtime.confirm import ConfirmInputError, format_text, join, load_runtime, load_static

    try:
        result = join(load_static(static_json), load_runtime(runtime_json))
    except ConfirmInputError as exc:
        click.echo(f"offload confirm: {exc}", err=True)
        sys.exit(2)
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for line in format_text(result):
            click.echo(line)
