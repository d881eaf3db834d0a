"""The benchmark corpus with dependencies: async projects, each with its dependencies installed in
its own virtual environment, every version pinned (the same code on every machine and run).

``build(workdir)`` makes, for each project, ``workdir/projects/<name>`` (the Python files of the
project's own wheel, with a ``pyproject.toml``: the code offload checks) and
``workdir/venvs/<name>`` (``python -m venv`` and ``pip install --no-deps`` of every pin: the
project and all its dependencies, nothing resolved at run time). Existing ones are reused.
"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, NamedTuple, Tuple


class DependencyProject(NamedTuple):
    name: str
    wheel: str  # the project's own distribution, pinned: its files are the checked code
    pins: Tuple[str, ...]  # everything its venv holds (the project included)


def _project(name: str, wheel: str, *pins: str) -> DependencyProject:
    return DependencyProject(name, wheel, pins)


# aiohttp and what it needs: the stack of two of the projects (their user cache entries are shared).
_AIOHTTP = (
    "aiohappyeyeballs==2.7.1", "aiohttp==3.14.5", "aiosignal==1.4.0", "attrs==26.1.0", "frozenlist==1.8.0",
    "idna==3.20", "multidict==7.2.1", "propcache==0.5.4", "typing_extensions==4.16.0", "yarl==1.25.1",
)

PROJECTS: Tuple[DependencyProject, ...] = (
    _project(
        "discord", "discord_py==2.7.1", "discord_py==2.7.1", *_AIOHTTP,
    ),
    _project(
        "ptb", "python_telegram_bot==22.8",
        "aiolimiter==1.2.1",
        "anyio==4.16.0",
        "apscheduler==3.11.3",
        "cachetools==7.3.3",
        "certifi==2026.10.19.post1",
        "cffi==2.1.1",
        "cryptography==50.0.2",
        "h11==0.16.0",
        "h2==4.4.1",
        "hpack==4.2.0",
        "httpcore==1.0.9",
        "httpx==0.28.1",
        "hyperframe==6.1.0",
        "idna==3.20",
        "pycparser==3.12",
        "python_telegram_bot==22.8",
        "socksio==1.0.0",
        "tornado==6.6.1",
        "typing_extensions==4.16.0",
        "tzlocal==5.4.5",
    ),
    _project(
        "aiohttp", "aiohttp==3.14.5", *_AIOHTTP,
    ),
    _project(
        "textual", "textual==8.2.8",
        "linkify_it_py==2.2.0",
        "markdown_it_py==4.3.0",
        "mdit_py_plugins==0.7.0",
        "mdurl==0.1.2",
        "platformdirs==4.14.8",
        "pygments==2.21.0",
        "rich==15.0.0",
        "textual==8.2.8",
        "typing_extensions==4.16.0",
    ),
    _project(
        "litestar", "litestar==2.25.0",
        "anyio==4.16.0",
        "certifi==2026.10.19.post1",
        "click==8.5.1",
        "editorconfig==0.17.1",
        "faker==40.63.0",
        "h11==0.16.0",
        "httpcore==1.0.9",
        "httptools==0.9.0",
        "httpx==0.28.1",
        "idna==3.20",
        "jinja2==3.1.6",
        "jsbeautifier==2.0.3",
        "litestar==2.25.0",
        "litestar_htmx==0.5.0",
        "markdown_it_py==4.3.0",
        "markupsafe==3.0.4",
        "mdurl==0.1.2",
        "msgspec==0.23.0",
        "multidict==7.2.1",
        "multipart==2.0.1",
        "polyfactory==3.5.0",
        "pygments==2.21.0",
        "python_dotenv==1.2.4",
        "pyyaml==6.0.4",
        "rich==15.0.0",
        "rich_click==1.9.9",
        "sniffio==1.3.1",
        "typing_extensions==4.16.0",
        "uvicorn==0.54.0",
        "uvloop==0.23.0",
        "watchfiles==1.3.0",
        "websockets==17.4",
    ),
    _project(
        "jupyter_server", "jupyter_server==2.21.1",
        "anyio==4.16.0",
        "argon2_cffi==25.1.0",
        "argon2_cffi_bindings==26.2.0",
        "arrow==1.4.0",
        "attrs==26.1.0",
        "beautifulsoup4==4.15.0",
        "bleach==6.4.0",
        "cffi==2.1.1",
        "defusedxml==0.7.1",
        "fastjsonschema==2.22.3",
        "fqdn==1.6.0",
        "idna==3.20",
        "isoduration==20.11.0",
        "jinja2==3.1.6",
        "jsonpointer==3.12",
        "jsonschema==4.26.0",
        "jsonschema_specifications==2025.9.1",
        "jupyter_client==8.10.0",
        "jupyter_core==5.9.1",
        "jupyter_events==0.12.1",
        "jupyter_server==2.21.1",
        "jupyter_server_terminals==0.5.4",
        "jupyterlab_pygments==0.3.0",
        "lark==1.3.1",
        "markupsafe==3.0.4",
        "mistune==3.4.0",
        "nbclient==0.11.0",
        "nbconvert==7.17.2",
        "nbformat==5.11.1",
        "overrides==7.7.0",
        "packaging==26.4",
        "pandocfilters==1.5.1",
        "platformdirs==4.14.8",
        "prometheus_client==0.26.0",
        "ptyprocess==0.7.0",
        "pycparser==3.12",
        "pygments==2.21.0",
        "python_dateutil==4.0.0",
        "python_json_logger==4.2.0",
        "pyyaml==6.0.4",
        "pyzmq==27.3.0",
        "referencing==0.37.0",
        "rfc3339_validator==0.1.4",
        "rfc3986_validator==0.1.1",
        "rfc3987_syntax==1.1.0",
        "rpds_py==2026.9.1",
        "send2trash==2.2.0",
        "six==1.17.0",
        "soupsieve==4.1.3",
        "terminado==0.18.1",
        "tinycss2==1.5.1",
        "tornado==6.6.1",
        "traitlets==5.16.1",
        "typing_extensions==4.16.0",
        "tzdata==2026.6",
        "uri_template==1.3.0",
        "webcolors==25.10.0",
        "webencodings==0.6.1",
        "websocket_client==1.9.2",
    ),
)


def build(workdir: Path, projects: Tuple[DependencyProject, ...] = PROJECTS) -> Dict[str, Tuple[Path, Path]]:
    """name -> (project directory, its venv), built from PyPI where missing."""
    wheels = workdir / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    built: Dict[str, Tuple[Path, Path]] = {}
    for project in projects:
        source = workdir / "projects" / project.name
        if not source.exists():
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            "--dest", str(wheels), project.wheel], check=True)
            stem = project.wheel.replace("==", "-").lower()
            wheel = next(w for w in wheels.glob("*.whl") if w.name.lower().startswith(stem + "-"))
            source.mkdir(parents=True)
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.endswith(".py") and ".dist-info/" not in member and ".data/" not in member:
                        archive.extract(member, source)
            (source / "pyproject.toml").write_text(f'[project]\nname = "{project.name}"\nversion = "0"\n')
        venv = workdir / "venvs" / project.name
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                            "--no-compile", *project.pins], check=True)
        built[project.name] = (source, venv)
    return built
