"""pytest strict mode: fail (or warn about) tests that make a blocking call on the event loop.

``--offload-strict`` / ini ``offload_strict`` (``true``, ``fail``, ``warn``)
for every test, ``@pytest.mark.offload(strict=True|"fail"|"warn"|False)`` for
one. ``--offload-strict`` (or ``true``) fails or warns as ``--offload-mode``
says. The allow-list is ``[tool.offload] strict-allow`` from
the pyproject.toml found from pytest's root directory.

Calls are recorded from the test's setup to the end of its teardown; at the
end of teardown the test errors (``fail``) or gets an ``OffloadStrictWarning``
(``warn``), listing each site once with its count. The ``offload_strict``
fixture is the list of sites seen so far (``clear()`` the ones the test expects).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Generator, List, Optional, Tuple

import pytest

from detector.runtime import pytest_marker
from detector.runtime.pytest_marker import strict_mode

if TYPE_CHECKING:
    from detector.runtime.strict import StrictLog
    from detector.runtime.strict_events import StrictCall



class OffloadStrictWarning(pytest.PytestWarning):
    """A blocking call ran on the event loop during a test (strict mode, ``warn``)."""


class OffloadStrictCalls(list["StrictCall"]):  # list, not typing.List: no Generic in the MRO
    """The strict sites recorded so far in this test (``StrictCall``). ``clear()`` the expected ones."""


def add_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    group.addoption("--offload-strict", action="store_const", const="default", default=None,
                    help="report every blocking call made on the event loop, however fast; fails or warns "
                         "as --offload-mode says (ini: offload_strict)")
    parser.addini("offload_strict", default="false",
                  help="strict mode for every test: true, fail, warn or false")


class StrictPlugin:
    def __init__(self, config: pytest.Config, default_mode: str) -> None:
        self.default_mode = default_mode
        option = config.getoption("offload_strict")
        if option is not None:
            self.mode = strict_mode(option, default_mode, "--offload-strict")
        else:
            self.mode = strict_mode(config.getini("offload_strict"), default_mode, "offload_strict")
        self.config = config
        self.reported: List[Tuple[str, StrictCall]] = []  # (nodeid, call)
        self._configured = False
        if self.mode is not None:
            self._ensure()  # before test modules are imported: wrappers are seen by `from os import stat`

    def _ensure(self) -> None:
        from detector.runtime import strict

        if not self._configured:
            strict.configure(*_allow_list(self.config))
            strict.prepare()
            self._configured = True

    def _plan(self, item: pytest.Item) -> Optional[str]:
        marker = pytest_marker.read(item)
        if marker is not None and marker.strict_given:
            return strict_mode(marker.strict, self.default_mode, "strict")
        return self.mode

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            mode = self._plan(item)
        except pytest_marker.MarkerError:  # the stall plugin reports it, once
            return (yield)
        if mode is not None or "offload_strict" in getattr(item, "fixturenames", ()):
            self._start(item, mode)
        return (yield)

    def _start(self, item: pytest.Item, mode: Optional[str]) -> None:
        from detector.runtime import strict

        self._ensure()
        calls = OffloadStrictCalls()
        log = strict.StrictLog(on_new=calls.append)
        strict.attach(log)
        item.stash[_record_key] = (log, calls, mode)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: Optional[pytest.Item]
    ) -> Generator[None, object, object]:
        try:
            result = yield
        except BaseException:
            self._stop(item)
            raise
        message = self._stop(item)
        if message:
            pytest.fail(message, pytrace=False)
        return result

    def _stop(self, item: pytest.Item) -> Optional[str]:
        record = item.stash.get(_record_key, None)
        if record is None:
            return None
        del item.stash[_record_key]
        from detector.runtime import strict
        from detector.runtime.strict_events import describe

        log, calls, mode = record
        strict.detach(log)
        if not calls or mode is None:
            return None
        self.reported.extend((item.nodeid, call) for call in calls)
        lines = ["offload: blocking calls ran on the event loop during this test (strict mode):"]
        for call in calls:
            lines.extend("  " + line for line in describe(call))
        message = "\n".join(lines)
        if mode == "fail":
            return message
        item.warn(OffloadStrictWarning(message))
        return None

    @pytest.fixture
    def offload_strict(self, request: pytest.FixtureRequest) -> OffloadStrictCalls:
        """The blocking calls made on the event loop during this test, one ``StrictCall`` per site."""
        record: Optional[_Record] = request.node.stash.get(_record_key, None)
        if record is None:
            self._start(request.node, None)
            record = request.node.stash[_record_key]
        return record[1]

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.reported:
            return
        from detector.display import printable
        from detector.runtime.summary import where

        terminalreporter.section("offload: blocking calls on the event loop (strict)")
        for nodeid, call in self.reported:
            times = "" if call.count == 1 else f" x{call.count}"
            terminalreporter.line(printable(f"{where(call.user_frame)}: {call.event}{times} in {nodeid}"))


_Record = Tuple["StrictLog", OffloadStrictCalls, Optional[str]]  # (log, calls, mode)
_record_key = pytest.StashKey[_Record]()


def _allow_list(config: pytest.Config) -> Tuple[List[str], str]:
    """``[tool.offload] strict-allow`` and the directory its globs are relative to."""
    from detector.config import ConfigError, load

    try:
        loaded = load(start=config.rootpath)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    return list(loaded.strict_allow), str(loaded.root)


def configure(config: pytest.Config, default_mode: str) -> None:
    config.pluginmanager.register(StrictPlugin(config, default_mode), "offload-strict")
