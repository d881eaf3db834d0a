"""offload watch: start the event-loop watchdog in this Python process.

``offload watch`` puts this directory first on PYTHONPATH, so Python imports
this file at start-up in the command and in every Python child it starts. It
does nothing unless OFFLOAD_WATCH_DIR is set, and always runs the
sitecustomize it shadows (the next one on sys.path), if any.
"""
import os
import sys


def _start_watchdog():
    if not os.environ.get("OFFLOAD_WATCH_DIR"):
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
        sys.stderr.write(f"offload: watchdog not started: {exc!r}\n")


def _load_private(runtime_dir):
    import importlib
    import importlib.util

    name = "_offload_runtime"
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(runtime_dir, "__init__.py"), submodule_search_locations=[runtime_dir]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return importlib.import_module(name + ".activate")


def _chain():
    """Run the sitecustomize this one hides, as `sitecustomize`."""
    here = os.path.dirname(os.path.abspath(__file__))
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
