"""Latency and error statistics of the traffic driver (pure, thread-safe recording)."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_KEPT_ERRORS = 5


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``values`` (``None`` when empty); ``fraction`` in (0, 1]."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class ReleaseTraffic:
    """What one release served in one phase."""

    release: int
    requests: int
    failed: int
    mismatched: int
    p50_ms: float | None
    p99_ms: float | None

    @property
    def errors(self) -> int:
        return self.failed + self.mismatched


@dataclass(frozen=True)
class ChannelTraffic:
    """What one release served over one channel (``http``, ``grpc v1``, ``grpc v2``)."""

    release: int
    channel: str
    traffic: ReleaseTraffic


@dataclass(frozen=True)
class TrafficResult:
    """Per release, in the order the releases were given; plus a few error messages."""

    per_release: tuple[ReleaseTraffic, ...]
    sample_errors: tuple[str, ...]
    seconds: float
    per_channel: tuple[ChannelTraffic, ...] = ()

    def channel(self, release: int, channel: str) -> ReleaseTraffic | None:
        """What ``release`` served over ``channel``, or ``None`` when it served none."""
        for entry in self.per_channel:
            if (entry.release, entry.channel) == (release, channel):
                return entry.traffic
        return None

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.per_release)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.per_release)


@dataclass
class _Counts:
    latencies_ms: list[float] = field(default_factory=list)
    failed: int = 0
    mismatched: int = 0


class Recorder:
    """Collects one sample per request from many threads."""

    def __init__(self, releases: Sequence[int]) -> None:
        self._lock = threading.Lock()
        self._counts = {release: _Counts() for release in releases}
        self._channels: dict[tuple[int, str], _Counts] = {}
        self._errors: list[str] = []

    def _both(self, release: int, channel: str) -> tuple[_Counts, _Counts]:
        return self._counts[release], self._channels.setdefault((release, channel), _Counts())

    def ok(self, release: int, latency_ms: float, channel: str = "http") -> None:
        with self._lock:
            for counts in self._both(release, channel):
                counts.latencies_ms.append(latency_ms)

    def failed(
        self, release: int, latency_ms: float, message: str, mismatch: bool, channel: str = "http"
    ) -> None:
        with self._lock:
            for counts in self._both(release, channel):
                counts.latencies_ms.append(latency_ms)
                counts.mismatched += mismatch
                counts.failed += not mismatch
            if len(self._errors) < MAX_KEPT_ERRORS:
                self._errors.append(message)

    def result(self, seconds: float) -> TrafficResult:
        with self._lock:
            per_release = tuple(_summary(r, c) for r, c in self._counts.items())
            per_channel = tuple(
                ChannelTraffic(r, channel, _summary(r, c))
                for (r, channel), c in sorted(self._channels.items())
            )
            return TrafficResult(per_release, tuple(self._errors), seconds, per_channel)


def _summary(release: int, counts: _Counts) -> ReleaseTraffic:
    latencies = counts.latencies_ms
    return ReleaseTraffic(
        release=release,
        requests=len(latencies),
        failed=counts.failed,
        mismatched=counts.mismatched,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
    )
