"""Command-line wiring. Exit codes: 0 clean, 1 findings remain, 2 usage/config/internal error."""
from __future__ import annotations

import click

from detector import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="offload")
def main() -> None:
    """Find code that blocks the asyncio event loop, and offload it to a thread.

    \b
    offload check [PATHS]        static analysis (exit 1 when findings remain)
    offload watch -- CMD ...     run a program with the slow-callback watchdog
    offload confirm S.json R.json  join static findings with runtime stalls
    """
