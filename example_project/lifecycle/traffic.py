"""Bounded traffic against one or two releases, through both API versions, HTTP and gRPC.

The driver works in *units* of four requests that cross releases and API versions: create
on release A through version v, read it back on release B through the other version, update
it on B, read it back on A. With two targets every unit sends two requests to each, so the
split is exactly 50/50, and every read checks what the other release wrote: a stale or
wrong family name counts as a *mismatch*, an HTTP error or a dropped connection as a
*failure*. When every target serves gRPC too, every other pair of units speaks gRPC
(``people.v1`` / ``people.v2``, :mod:`example_project.lifecycle.rpc_client`) instead of
HTTP, so both protocols cross both releases and both versions. A run stops at its request
budget, its time budget or when told to, whichever comes first.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from example_project.lifecycle.stats import Recorder, TrafficResult

FAMILY_FIELD = {"v1": "last_name", "v2": "surname"}
VERSIONS = ("v1", "v2")
REQUESTS_PER_UNIT = 4
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Target:
    """One serving release: its number and its loopback address."""

    release: int
    host: str
    port: int
    grpc_port: int | None = None


@dataclass(frozen=True)
class Budget:
    """Upper bounds of one traffic run."""

    requests: int
    seconds: float
    threads: int = 4


@dataclass(frozen=True)
class Call:
    """One request of a unit, and what its answer must contain."""

    target: Target
    version: str
    method: str
    path: str
    body: dict[str, Any] | None
    expect_status: int
    expect_family: str
    protocol: str = "http"
    pk: int | None = None

    @property
    def channel(self) -> str:
        """What the statistics group this call under: ``http``, ``grpc v1`` or ``grpc v2``."""
        return "http" if self.protocol == "http" else f"grpc {self.version}"


class RequestFailed(Exception):
    def __init__(self, message: str, mismatch: bool = False) -> None:
        super().__init__(message)
        self.mismatch = mismatch


def _payload(version: str, first: str, family: str) -> dict[str, Any]:
    return {"first_name": first, FAMILY_FIELD[version]: family}


def unit_routes(unit: int, targets: Sequence[Target]) -> tuple[Target, Target, str, str]:
    """Pure: the two releases and two API versions unit ``unit`` uses (alternating)."""
    count = len(targets)
    first, other = targets[unit % count], targets[(unit + 1) % count]
    return first, other, VERSIONS[unit % 2], VERSIONS[(unit + 1) % 2]


def unit_protocol(unit: int, targets: Sequence[Target]) -> str:
    """Pure: ``grpc`` for every other pair of units when every target serves gRPC."""
    serves_grpc = all(target.grpc_port for target in targets)
    return "grpc" if serves_grpc and (unit // 2) % 2 == 1 else "http"


def create_call(unit: int, targets: Sequence[Target], token: str) -> Call:
    """Pure: the unit's first request, a create on the first release."""
    first, _, version, _ = unit_routes(unit, targets)
    name = f"Created{unit}-{token}"
    path = f"/api/{version}/people"
    body = _payload(version, "Ada", name)
    return Call(first, version, "POST", path, body, 201, name, unit_protocol(unit, targets))


def follow_up_calls(unit: int, targets: Sequence[Target], token: str, pk: int) -> list[Call]:
    """Pure: read on the other release through the other version, update there, read back."""
    first, other, version, other_version = unit_routes(unit, targets)
    created, updated = f"Created{unit}-{token}", f"Updated{unit}-{token}"
    body = _payload(version, "Ada", updated)
    protocol = unit_protocol(unit, targets)
    read_path, write_path = f"/api/{other_version}/people/{pk}", f"/api/{version}/people/{pk}"
    return [
        Call(other, other_version, "GET", read_path, None, 200, created, protocol, pk),
        Call(other, version, "PUT", write_path, body, 200, updated, protocol, pk),
        Call(first, other_version, "GET", read_path, None, 200, updated, protocol, pk),
    ]


def _send(call: Call) -> dict[str, Any]:
    conn = http.client.HTTPConnection(call.target.host, call.target.port, timeout=REQUEST_TIMEOUT_S)
    try:
        body = json.dumps(call.body).encode() if call.body is not None else None
        headers = {"Content-Type": "application/json", "Connection": "close"}
        conn.request(call.method, call.path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise RequestFailed(
            f"{call.method} {call.path} on r{call.target.release}: {exc!r}"
        ) from None
    finally:
        conn.close()
    return _check(call, response.status, raw)


def _check(call: Call, status: int, raw: bytes) -> dict[str, Any]:
    where = f"{call.method} {call.path} on r{call.target.release}"
    if status != call.expect_status:
        raise RequestFailed(f"{where}: HTTP {status}{_error_detail(raw)}")
    try:
        data: dict[str, Any] = json.loads(raw)
    except ValueError:
        raise RequestFailed(f"{where}: not JSON: {raw[:200]!r}") from None
    return check_family(call, where, data)


def check_family(call: Call, where: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` when it carries the family name ``call`` expects; a mismatch otherwise."""
    got = data.get(FAMILY_FIELD[call.version])
    if got != call.expect_family:
        raise RequestFailed(f"{where}: expected {call.expect_family!r}, got {got!r}", True)
    return data


def _error_detail(raw: bytes) -> str:
    """The API's own error message when the body is one; nothing for an HTML error page."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    return f": {data['error']}" if isinstance(data, dict) and "error" in data else ""


class Driver:
    """Runs units on ``threads`` threads until a budget is spent or ``stop`` is set."""

    def __init__(self, targets: Sequence[Target], budget: Budget) -> None:
        self.targets = tuple(targets)
        self.budget = budget
        self.recorder = Recorder([t.release for t in self.targets])
        self.stop = threading.Event()
        self._units = itertools.count()
        self._sent = 0
        self._lock = threading.Lock()
        self._token = uuid.uuid4().hex[:6]
        self._rpc: Any = None

    def run(self) -> TrafficResult:
        """Drive traffic in the calling thread until done; return the statistics."""
        started = time.monotonic()
        deadline = started + self.budget.seconds
        threads = [
            threading.Thread(target=self._work, args=(deadline,), daemon=True)
            for _ in range(self.budget.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self._rpc is not None:
            self._rpc.close()
        return self.recorder.result(time.monotonic() - started)

    def _send(self, call: Call) -> dict[str, Any]:
        if call.protocol == "http":
            return _send(call)
        with self._lock:
            if self._rpc is None:
                from example_project.lifecycle.rpc_client import Clients

                self._rpc = Clients()
        return self._rpc.send(call)

    def _next_unit(self, deadline: float) -> int | None:
        with self._lock:
            if self.stop.is_set() or time.monotonic() >= deadline:
                return None
            if self._sent >= self.budget.requests:
                return None
            self._sent += REQUESTS_PER_UNIT
            return next(self._units)

    def _work(self, deadline: float) -> None:
        while (unit := self._next_unit(deadline)) is not None:
            self._run_unit(unit)

    def _run_unit(self, unit: int) -> None:
        answer = self._timed(create_call(unit, self.targets, self._token))
        if answer is None:
            return
        for call in follow_up_calls(unit, self.targets, self._token, answer["id"]):
            if self._timed(call) is None:
                return

    def _timed(self, call: Call) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            data = self._send(call)
        except RequestFailed as exc:
            elapsed = (time.perf_counter() - started) * 1000
            self.recorder.failed(call.target.release, elapsed, str(exc), exc.mismatch, call.channel)
            return None
        self.recorder.ok(call.target.release, (time.perf_counter() - started) * 1000, call.channel)
        return data


def drive(targets: Sequence[Target], budget: Budget) -> TrafficResult:
    """Run one bounded traffic phase against ``targets`` and return what it measured."""
    return Driver(targets, budget).run()
