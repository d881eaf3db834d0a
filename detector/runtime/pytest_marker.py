"""``@pytest.mark.offload(threshold=..., enabled=..., strict=...)``, read and checked once per test.

A marker with a positional or unknown argument, or a value of the wrong kind, is an error of
that test (reported by the stall plugin, at setup); nothing it asked for is applied.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import pytest

ARGUMENTS = ("threshold", "enabled", "strict")
STRICT_MODES = ("fail", "warn")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class MarkerError(Exception):
    """A bad ``offload`` marker: the message names the argument and the value."""


@dataclass(frozen=True)
class OffloadMarker:
    watch: bool  # False for a marker with strict= alone: it sets strict mode only
    enabled: bool
    threshold: Optional[float]
    strict_given: bool
    strict: object  # the raw value; strict_mode() reads it


def strict_mode(value: object, default_mode: str, where: str) -> Optional[str]:
    """None (off) or "fail" / "warn" from an option, ini or marker value (pytest.UsageError if neither)."""
    if value is None or value is False:
        return None
    if value is True or value == "default":
        return default_mode
    text = str(value).strip().lower()
    if text in _FALSE:
        return None
    if text in _TRUE:
        return default_mode
    if text in STRICT_MODES:
        return text
    raise pytest.UsageError(f"{where} must be true, false, fail or warn, not {value!r}")


def positive_seconds(value: object) -> Optional[float]:
    """``value`` as a finite number of seconds above 0, or None if it is not one."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)  # type: ignore[arg-type]  # anything: checked here
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def read(item: pytest.Item) -> Optional[OffloadMarker]:
    """The test's closest ``offload`` marker, checked (MarkerError); None without one."""
    marker = item.get_closest_marker("offload")
    if marker is None:
        return None
    if marker.args:
        raise MarkerError(f"@pytest.mark.offload takes keyword arguments only ({', '.join(ARGUMENTS)}), "
                          f"not {', '.join(repr(arg) for arg in marker.args)}")
    unknown = sorted(set(marker.kwargs) - set(ARGUMENTS))
    if unknown:
        raise MarkerError(f"@pytest.mark.offload: unknown argument{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(unknown)} (it takes {', '.join(ARGUMENTS)})")
    threshold = marker.kwargs.get("threshold")
    if threshold is not None and positive_seconds(threshold) is None:
        raise MarkerError(f"@pytest.mark.offload: threshold must be a positive number of seconds, not {threshold!r}")
    enabled = marker.kwargs.get("enabled", True)
    if not isinstance(enabled, bool):
        raise MarkerError(f"@pytest.mark.offload: enabled must be True or False, not {enabled!r}")
    strict_given = "strict" in marker.kwargs
    if strict_given:
        try:
            strict_mode(marker.kwargs["strict"], STRICT_MODES[0], "strict")
        except pytest.UsageError as exc:
            raise MarkerError(f"@pytest.mark.offload: {exc}") from None
    return OffloadMarker(watch=set(marker.kwargs) != {"strict"}, enabled=enabled,
                         threshold=positive_seconds(threshold) if threshold is not None else None,
                         strict_given=strict_given, strict=marker.kwargs.get("strict"))
