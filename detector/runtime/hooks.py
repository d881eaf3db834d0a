"""Put the watchdog into every event loop: wrap ``run_forever``.

``asyncio.run``, ``uvloop.run``, ``loop.run_until_complete``, pytest-asyncio and
anyio all end up in ``run_forever``, on both asyncio's ``BaseEventLoop`` and
``uvloop.Loop`` (uvloop's ``run_until_complete`` looks the method up on the
instance). Modules not imported yet are patched right after their import by a
meta-path finder, so installing does not import asyncio or uvloop itself.

This module imports only ``sys`` and ``_thread``: the ``offload watch``
bootstrap loads it into every Python process at start-up.
"""
from __future__ import annotations

import sys
import _thread
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    from .watchdog import Watchdog

# module name -> (class attribute path, ...) whose run_forever gets wrapped
TARGETS: Dict[str, Tuple[str, ...]] = {
    "asyncio.base_events": ("BaseEventLoop",),
    "uvloop": ("Loop",),
}

_watchdog: Optional[Watchdog] = None  # the Watchdog in charge, created on first use
_factory: Optional[Callable[[], Optional[Watchdog]]] = None
_patched: List[Tuple[Any, object]] = []  # (class, original run_forever)
_finder: Optional["_PostImportFinder"] = None
_first_use_lock = _thread.allocate_lock()


def _make_wrapper(original: Any) -> Callable[[Any], Any]:
    def run_forever(self: Any) -> Any:
        monitor = None
        watchdog = _watchdog if _watchdog is not None else _first_use()
        if watchdog is not None:
            try:
                monitor = watchdog.start(self)
            except Exception:  # an unwatched loop beats a broken program
                monitor = None
        try:
            return original(self)
        finally:
            if monitor is not None and watchdog is not None:  # a monitor comes from a watchdog
                try:
                    watchdog.stop(monitor)
                except Exception:
                    pass

    run_forever.__wrapped__ = original  # type: ignore[attr-defined]  # a function attribute, as functools.wraps sets
    run_forever.__doc__ = getattr(original, "__doc__", None)
    run_forever.__offload_original__ = original  # type: ignore[attr-defined]  # read back by _patch_module
    return run_forever


WRAPPER_CODE = _make_wrapper(None).__code__


def _first_use() -> Optional[Watchdog]:
    """Create the watchdog once, whichever thread starts a loop first; others wait for it."""
    global _watchdog, _factory
    if _factory is None:
        return _watchdog
    with _first_use_lock:
        if _watchdog is None and _factory is not None:
            try:
                _watchdog = _factory()
            except Exception:
                _watchdog = None
            _factory = None  # cleared after _watchdog is set: late threads see one or the other
    return _watchdog


def set_watchdog_factory(factory: Callable[[], Optional[Watchdog]]) -> None:
    """``factory()`` is called when the first loop starts and returns the Watchdog."""
    global _factory
    _factory = factory


def set_watchdog(watchdog: Optional[Watchdog]) -> None:
    """Make ``watchdog`` the one loops report to (after creating any pending one)."""
    global _watchdog
    _first_use()
    _watchdog = watchdog


def _patch_module(module: ModuleType) -> None:
    for attr in TARGETS.get(module.__name__, ()):
        cls: Any = getattr(module, attr, None)
        original = getattr(cls, "run_forever", None) if cls is not None else None
        if original is None or getattr(original, "__code__", None) is WRAPPER_CODE:
            continue
        # A wrapper from another copy of this module (reloaded, or loaded under the
        # private bootstrap name) would report to a watchdog nobody listens to.
        original = getattr(original, "__offload_original__", original)
        try:
            cls.run_forever = _make_wrapper(original)
        except (TypeError, AttributeError):  # an extension type that refuses new attributes
            continue
        _patched.append((cls, original))


class _PatchingLoader:
    """Runs the real loader, then patches the fresh module."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> Optional[ModuleType]:
        module: Optional[ModuleType] = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _patch_module(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_resource_reader, ...
        return getattr(self._loader, name)


class _PostImportFinder:
    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]] = None, target: Optional[ModuleType] = None
    ) -> Optional[ModuleSpec]:
        if fullname not in TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader)  # type: ignore[assignment]  # a Loader by duck typing
        return spec


def install() -> None:
    """Wrap run_forever now where imported, and at import time elsewhere. Idempotent."""
    global _finder
    if _finder is None:
        _finder = _PostImportFinder()
        sys.meta_path.insert(0, _finder)
    for name in TARGETS:
        module = sys.modules.get(name)
        if module is not None:
            _patch_module(module)


def uninstall() -> None:
    """Restore the original methods and stop patching new imports."""
    global _finder
    if _finder is not None:
        try:
            sys.meta_path.remove(_finder)
        except ValueError:
            pass
        _finder = None
    while _patched:
        cls, original = _patched.pop()
        try:
            cls.run_forever = original
        except (TypeError, AttributeError):
            pass


def installed() -> bool:
    return _finder is not None
