"""offload: find code that blocks the asyncio event loop, and offload it to a thread."""
from __future__ import annotations

__version__ = "0.1.0"
