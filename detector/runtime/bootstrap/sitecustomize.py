"""offload watch: start the event-loop watchdog in this Python process.

``offload watch`` puts this directory first on PYTHONPATH, so Python imports
this file at start-up in the command and in every Python child it starts. It
does nothing unless OFFLOAD_WATCH_DIR is set, and always runs the
sitecustomize it shadows (the next one on sys.path), if any.

This file must stay parseable by every Python a watched command may start
(Python 2 included: no f-strings, no annotations): on an interpreter the
watchdog does not support it says so, once, and records the process for the
summary of ``offload watch``.
"""
import os
import sys
import types  # noqa: F401  (used by the type comments)

NEEDS = (3, 9)


def _record_unwatched(directory):
    # type: (str) -> None
    import json

    version = ".".join(str(part) for part in tuple(sys.version_info)[:3])
    name = os.path.basename(sys.executable or "python") or "python"
    sys.stderr.write("offload: %s (Python %s, pid %d) is not watched: the watchdog needs Python %d.%d+\n"
                     % (name, version, os.getpid(), NEEDS[0], NEEDS[1]))
    record = {"type": "unwatched", "pid": os.getpid(), "python": name, "version": version,
              "needs": "%d.%d" % NEEDS}
    try:
        path = os.path.join(directory, "%d-unwatched.jsonl" % os.getpid())
        handle = open(path, "a")
        try:
            handle.write(json.dumps(record) + "\n")
        finally:
            handle.close()
    except (IOError, OSError):
        pass


def _start_watchdog():
    # type: () -> None
    directory = os.environ.get("OFFLOAD_WATCH_DIR")
    if not directory:
        return
    if tuple(sys.version_info)[:2] < NEEDS:
        _record_unwatched(directory)
        return
    try:
        runtime_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        package_dir = os.path.dirname(runtime_dir)
        import importlib.util

        spec = importlib.util.find_spec("detector")
        locations = list(spec.submodule_search_locations or []) if spec else []
        if any(os.path.realpath(p) == os.path.realpath(package_dir) for p in locations):
            from detector.runtime.activate import activate_from_env
        else:
            # offload is not importable here (another interpreter or venv): load the
            # stdlib-only runtime package under a private name, leaving `detector` alone.
            activate_from_env = _load_private(runtime_dir).activate_from_env
        activate_from_env()
    except Exception as exc:  # never stop the user's program from starting
        sys.stderr.write("offload: watchdog not started: %r\n" % (exc,))


def _load_private(runtime_dir):
    # type: (str) -> types.ModuleType
    import importlib
    import importlib.util

    name = "_offload_runtime"
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(runtime_dir, "__init__.py"), submodule_search_locations=[runtime_dir]
    )
    assert spec is not None and spec.loader is not None  # a .py file always has a loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return importlib.import_module(name + ".activate")


def _chain():
    # type: () -> None
    """Run the sitecustomize this one hides, as `sitecustomize`."""
    here = os.path.dirname(os.path.abspath(__file__))
    if tuple(sys.version_info)[:2] < (3, 4):  # no importlib.util: the old way
        import imp

        path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
        try:
            found = imp.find_module("sitecustomize", path)
        except ImportError:
            return
        try:
            sys.modules["sitecustomize"] = imp.load_module("sitecustomize", *found)  # type: ignore[arg-type]  # Python < 3.4
        finally:
            if found[0] is not None:
                found[0].close()
        return
    import importlib.machinery
    import importlib.util

    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_start_watchdog()
_chain()
