"""Type-aware resolution: what the fixture projects do not show by their annotations alone."""
from __future__ import annotations

import textwrap
from pathlib import Path

from fixture_format import FIXTURES

from detector.config import Config
from detector.model import Applicability
from detector.runner import check_paths


def write(root: Path, files: dict) -> Path:
    (root / "pyproject.toml").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def findings(root: Path):
    result = check_paths([root], Config(root=root))
    assert result.errors == []
    return result.findings


def test_an_awaited_sync_helper_is_reported_without_a_rewrite():
    root = FIXTURES / "projects" / "inferred"
    [finding] = [f for f in findings(root) if f.call == "uploader.send"]
    assert finding.code == "BLK200"
    assert finding.fix.applicability is Applicability.SUGGESTION and "awaited" in finding.fix.reason
    assert "before it returns what is awaited" in finding.message


def test_a_constructor_argument_types_the_attribute_across_modules(tmp_path: Path):
    root = write(tmp_path, {"app/__init__.py": "", "app/client.py": """
        import time

        class SyncClient:
            def fetch_all(self):
                time.sleep(1)
    """, "app/handler.py": """
        class Handler:
            def __init__(self, client):
                self.client = client

            async def run(self):
                self.client.fetch_all()
    """, "app/main.py": """
        from app.client import SyncClient
        from app.handler import Handler

        def build():
            return Handler(SyncClient())
    """})
    [finding] = findings(root)
    assert finding.code == "BLK200" and finding.filename.endswith("handler.py")
    assert [hop.function for hop in finding.chain] == ["Handler.run", "SyncClient.fetch_all"]
    (root / "app" / "extra.py").write_text("from app.handler import Handler\n\nHandler(object())\n")
    assert findings(root) == []  # one construction disagrees: silence


def test_a_call_on_a_name_of_several_blocking_types_names_them(tmp_path: Path):
    root = write(tmp_path, {"app.py": """
        from typing import Union

        import httpx
        import requests


        async def fetch(client: Union[requests.Session, httpx.Client], url: str):
            return client.get(url)
        """})
    [finding] = findings(root)
    assert finding.code == "BLK111"
    assert "(`client` is a Client or a Session here; both block)" in finding.message
    assert finding.fix.applicability is Applicability.UNSAFE


def test_the_latest_binding_before_a_call_decides_its_type(tmp_path: Path):
    root = write(tmp_path, {"app.py": """
        import asyncio
        import io


        async def memory_last(path):
            f = open(path, "rb")
            await asyncio.sleep(0)
            f = io.BytesIO()
            return f.read()


        async def file_last(path):
            f = io.BytesIO()
            await asyncio.sleep(0)
            f = open(path, "rb")
            return f.read()
        """})
    assert sorted((f.function, f.call) for f in findings(root)) == [
        ("file_last", "f.read"), ("file_last", "open"), ("memory_last", "open")]
