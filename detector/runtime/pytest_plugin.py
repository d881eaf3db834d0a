"""pytest plugin: fail (or warn about) tests whose event loop stalls.

Inert unless enabled: ``--offload-watch`` or ``offload_watch = true`` in the ini
file turns it on for every test, ``@pytest.mark.offload(...)`` for one test, and
the ``offload_stalls`` fixture records (without failing) for the test using it.
The watchdog is imported only when a test needs it, so loading this plugin in
every pytest run costs next to nothing.

A stall never interrupts the test: it is recorded, and the test fails at
teardown (``--offload-mode fail``, the default) or gets a warning (``warn``).
Works with any plugin that runs tests through ``run_forever`` (pytest-asyncio,
anyio) on asyncio and uvloop.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generator, List, Optional, Tuple

import pytest

from detector.runtime import pytest_marker

if TYPE_CHECKING:
    from detector.runtime.events import StallEvent
    from detector.runtime.watchdog import Subscription

DEFAULT_THRESHOLD = 0.1
MODES = ("fail", "warn")


class OffloadStallWarning(pytest.PytestWarning):
    """The event loop stalled during a test (``--offload-mode warn``)."""


class OffloadStalls(list["StallEvent"]):  # list, not typing.List: no Generic in the MRO
    """The stalls recorded so far in this test. ``clear()`` the ones the test expected.

    Reading the list first collects every stall that has ended (the watchdog thread
    describes a stall some time after the loop resumes): once the loop has run again,
    the stall is in the list, whenever the test looks.
    """

    def _collect(self) -> None:
        from detector.runtime import get_watchdog

        get_watchdog().flush()


def _collecting(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def read(self: OffloadStalls, *args: Any) -> Any:
        self._collect()
        return method(self, *args)

    read.__name__ = name
    return read


for _name in ("__len__", "__iter__", "__getitem__", "__contains__", "__reversed__", "__eq__", "__ne__",
              "__repr__", "clear", "copy", "count", "index", "pop", "remove"):
    setattr(OffloadStalls, _name, _collecting(_name))


_settings_key = pytest.StashKey["_Settings"]()
_record_key = pytest.StashKey["_Recording"]()


class _Settings:
    def __init__(self, enabled: bool, threshold: float, mode: str) -> None:
        self.enabled = enabled
        self.threshold = threshold
        self.mode = mode
        self.reported: List[Tuple[str, StallEvent]] = []  # (nodeid, stall) for the terminal summary


class _Recording:
    def __init__(self, stalls: OffloadStalls, subscription: Subscription, watching: bool, threshold: float) -> None:
        self.stalls = stalls
        self.subscription = subscription
        self.watching = watching  # False: recorded for the offload_stalls fixture only
        self.threshold = threshold


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("offload", "event-loop stall watchdog (offload)")
    group.addoption("--offload-watch", action="store_true", default=None,
                    help="fail tests whose event loop stalls (ini: offload_watch)")
    group.addoption("--offload-threshold", type=float, default=None, metavar="SECONDS",
                    help=f"shortest stall to report, default {DEFAULT_THRESHOLD} (ini: offload_threshold)")
    group.addoption("--offload-mode", choices=MODES, default=None,
                    help="fail: the test errors at teardown (default); warn: a warning (ini: offload_mode)")
    parser.addini("offload_watch", type="bool", default=False, help="watch every test's event loop for stalls")
    parser.addini("offload_threshold", default=str(DEFAULT_THRESHOLD), help="shortest stall to report, seconds")
    parser.addini("offload_mode", default="fail", help="fail or warn")
    from detector.runtime.pytest_strict import add_options

    add_options(group, parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "offload(threshold=None, enabled=True, strict=None): watch this test's event loop for stalls "
        "(threshold in seconds); enabled=False turns the watchdog off for it; strict=True|'fail'|'warn'|False "
        "turns strict mode (every blocking call on the loop) on or off for it",
    )
    enabled = config.getoption("offload_watch")
    if enabled is None:
        try:
            enabled = bool(config.getini("offload_watch"))
        except ValueError:  # pytest's reading of a bool ini value
            raise pytest.UsageError(f"offload_watch must be true or false, not {config.inicfg.get('offload_watch')!r}") from None
    threshold = config.getoption("offload_threshold")
    if threshold is None:
        try:
            threshold = float(config.getini("offload_threshold"))
        except ValueError:
            raise pytest.UsageError("offload_threshold must be a number of seconds") from None
    if pytest_marker.positive_seconds(threshold) is None:  # also nan and inf, as for `offload watch`
        raise pytest.UsageError("the offload threshold must be a positive number of seconds")
    mode = config.getoption("offload_mode") or config.getini("offload_mode")
    if mode not in MODES:
        raise pytest.UsageError(f"offload_mode must be one of {', '.join(MODES)}, not {mode!r}")
    config.stash[_settings_key] = _Settings(enabled, threshold, mode)
    from detector.runtime.pytest_strict import configure

    configure(config, mode)


def _plan(item: pytest.Item, settings: _Settings) -> Tuple[bool, bool, float]:
    """(record?, fail on stalls?, threshold) for one test; MarkerError for a bad marker."""
    marker = pytest_marker.read(item)
    threshold = settings.threshold
    watching = settings.enabled
    if marker is not None and marker.watch:
        watching = marker.enabled
        if marker.threshold is not None:
            threshold = marker.threshold
    wants_fixture = "offload_stalls" in getattr(item, "fixturenames", ())
    return watching or wants_fixture, watching, threshold


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    settings = item.config.stash.get(_settings_key, None)
    if settings is not None:
        try:
            record, watching, threshold = _plan(item, settings)
        except pytest_marker.MarkerError as exc:
            bad_marker = str(exc)
        else:
            if record:
                _start(item, watching, threshold)
            return (yield)
        # Failed after the other setup hooks, not instead of them: their teardown finds what it expects.
        yield
        pytest.fail(bad_marker, pytrace=False)
    return (yield)


def _start(item: pytest.Item, watching: bool, threshold: float) -> None:
    from detector.runtime import subscribe

    stalls = OffloadStalls()
    subscription = subscribe(stalls.append, threshold)
    item.stash[_record_key] = _Recording(stalls, subscription, watching, threshold)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]) -> Generator[None, object, object]:
    try:
        result = yield
    except BaseException:
        _stop(item)
        raise
    message = _stop(item)
    if message:
        pytest.fail(message, pytrace=False)
    return result


def _stop(item: pytest.Item) -> Optional[str]:
    """Stop recording; the failure message when the test must fail."""
    recording = item.stash.get(_record_key, None)
    if recording is None:
        return None
    del item.stash[_record_key]
    from detector.runtime import get_watchdog
    from detector.runtime.summary import describe

    get_watchdog().flush()
    recording.subscription.close()
    settings = item.config.stash[_settings_key]
    stalls = list(recording.stalls)
    if not stalls or not recording.watching:
        return None
    settings.reported.extend((item.nodeid, stall) for stall in stalls)
    lines = [f"offload: the event loop stalled during this test (threshold {recording.threshold * 1000:g} ms):"]
    for stall in stalls:
        lines.extend("  " + line for line in describe(stall))
    message = "\n".join(lines)
    if settings.mode == "fail":
        return message
    item.warn(OffloadStallWarning(message))
    return None


@pytest.fixture
def offload_stalls(request: pytest.FixtureRequest) -> OffloadStalls:
    """The event-loop stalls recorded during this test, as they happen (a list of StallEvent)."""
    recording: Optional[_Recording] = request.node.stash.get(_record_key, None)
    if recording is None:  # requested dynamically: record from now on
        _start(request.node, False, request.config.stash[_settings_key].threshold)
        recording = request.node.stash[_record_key]
    return recording.stalls


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    settings = config.stash.get(_settings_key, None)
    if settings is None or not settings.reported:
        return
    from detector.runtime.summary import where

    terminalreporter.section("offload: event-loop stalls")
    for nodeid, stall in settings.reported:
        terminalreporter.line(
            f"{where(stall.site)}: {stall.duration * 1000:.0f} ms ({stall.verdict}) in {nodeid}"
        )
