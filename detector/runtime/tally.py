"""Stalls grouped by site, in bounded memory: count, total and longest duration per site.

A long-running service can stall thousands of times at the same line. Each site
keeps its counters and only its few longest stalls as examples, and the number
of sites is capped (the rest are counted together), so what ``offload watch``
holds, writes and prints stays bounded however long the command runs.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .events import Frame, StallEvent

EXAMPLES_PER_SITE = 3  # longest stalls kept in full per site
MAX_SITES = 500  # sites counted one by one; beyond, stalls are counted as "other sites"
MAX_PIDS = 8  # pids named per site

SiteKey = Optional[Tuple[str, int, Optional[int]]]


def site_key(frame: Optional[Frame]) -> SiteKey:
    return None if frame is None else (frame.filename, frame.row, frame.column)


_order = itertools.count()  # ties in the example heaps never compare StallEvents


@dataclass
class Site:
    frame: Optional[Frame]
    count: int = 0
    total: float = 0.0
    longest: float = 0.0
    ongoing: int = 0  # of the count, stalls still in progress when the process ended
    pids: List[int] = field(default_factory=list)
    more_pids: bool = False
    _examples: List[Tuple[float, int, StallEvent]] = field(default_factory=list)  # min-heap of (duration, order, stall)

    def add(self, stall: StallEvent) -> None:
        self.count_stall(stall.duration, stall.pid, stall.ongoing)
        entry = (stall.duration, next(_order), stall)
        if len(self._examples) < EXAMPLES_PER_SITE:
            heapq.heappush(self._examples, entry)
        elif entry[0] > self._examples[0][0]:
            heapq.heapreplace(self._examples, entry)

    def count_stall(self, duration: float, pid: Optional[int], ongoing: bool = False, count: int = 1,
                    total: Optional[float] = None) -> None:
        self.count += count
        self.total += duration if total is None else total
        self.longest = max(self.longest, duration)
        self.ongoing += count if ongoing else 0
        if pid is not None and pid not in self.pids:
            if len(self.pids) < MAX_PIDS:
                self.pids.append(pid)
            else:
                self.more_pids = True

    @property
    def examples(self) -> List[StallEvent]:
        """The longest stalls kept, longest first."""
        return [stall for _, _, stall in sorted(self._examples, reverse=True)]

    def to_dict(self) -> Dict[str, Any]:
        example = self.examples[0] if self._examples else None
        return {
            "frame": self.frame.to_dict() if self.frame else None,
            "count": self.count,
            "total": round(self.total, 6),
            "longest": round(self.longest, 6),
            "ongoing": self.ongoing,
            "verdict": example.verdict if example else None,
            "pids": list(self.pids),
        }


class Tally:
    """Sites in the order of their total stall time; an ``other`` site past MAX_SITES."""

    def __init__(self, max_sites: int = MAX_SITES) -> None:
        self.max_sites = max_sites
        self._sites: Dict[SiteKey, Site] = {}
        self.other = Site(frame=None)  # stalls at sites beyond the cap

    def _site(self, frame: Optional[Frame]) -> Site:
        key = site_key(frame)
        site = self._sites.get(key)
        if site is None:
            if len(self._sites) >= self.max_sites:
                return self.other
            site = self._sites[key] = Site(frame=frame)
        return site

    def add(self, stall: StallEvent) -> None:
        site = self._site(stall.site)
        if site is self.other:
            site.count_stall(stall.duration, stall.pid, stall.ongoing)
        else:
            site.add(stall)

    def add_counts(self, frame: Optional[Frame], count: int, total: float, longest: float,
                   pid: Optional[int]) -> None:
        """Stalls a process counted without writing them out (past its own per-site cap)."""
        self._site(frame).count_stall(longest, pid, count=count, total=total)

    @property
    def count(self) -> int:
        return sum(site.count for site in self._sites.values()) + self.other.count

    @property
    def longest(self) -> float:
        return max([site.longest for site in self._sites.values()] + [self.other.longest])

    def sites(self) -> List[Site]:
        return sorted(self._sites.values(), key=lambda site: (-site.total, -site.count))

    def examples(self) -> List[StallEvent]:
        return sorted((stall for site in self._sites.values() for stall in site.examples),
                      key=lambda stall: stall.started_at)

    @classmethod
    def of(cls, stalls: Iterable[StallEvent]) -> "Tally":
        tally = cls()
        for stall in stalls:
            tally.add(stall)
        return tally
