"""The traffic driver's gRPC client: a unit's calls as ``people.v1`` / ``people.v2`` RPCs.

One channel per serving release (channels are thread-safe and multiplex calls), one stub per
release and API version. A call maps to CreatePerson / GetPerson / UpdatePerson with the
same body and expectation as its HTTP twin; a gRPC error counts as a failure, a wrong family
name as a mismatch, exactly like HTTP.
"""

from __future__ import annotations

import threading
from typing import Any

import grpc

from example_project.lifecycle.traffic import (
    FAMILY_FIELD,
    REQUEST_TIMEOUT_S,
    Call,
    RequestFailed,
    check_family,
)
from example_project.people.rpc import mapping
from example_project.people.rpc.people.v1 import people_pb2_grpc as v1_grpc
from example_project.people.rpc.people.v2 import people_pb2_grpc as v2_grpc

STUBS = {"v1": v1_grpc.PeopleStub, "v2": v2_grpc.PeopleStub}


def request_for(call: Call) -> tuple[str, Any]:
    """Pure: the RPC method name and request message that stand for ``call``."""
    body = call.body or {}
    names = (body.get("first_name", ""), body.get(FAMILY_FIELD[call.version], ""))
    if call.method == "POST":
        return "CreatePerson", mapping.create_request(call.version, *names)
    if call.method == "PUT":
        return "UpdatePerson", mapping.update_request(call.version, call.pk or 0, *names)
    return "GetPerson", mapping.get_request(call.version, call.pk or 0)


class Clients:
    """Stubs per (release port, version), made on first use; :meth:`close` ends the channels."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, int], grpc.Channel] = {}
        self._lock = threading.Lock()

    def _stub(self, call: Call) -> Any:
        address = (call.target.host, call.target.grpc_port or 0)
        with self._lock:
            channel = self._channels.get(address)
            if channel is None:
                channel = grpc.insecure_channel(f"{address[0]}:{address[1]}")
                self._channels[address] = channel
        return STUBS[call.version](channel)

    def send(self, call: Call) -> dict[str, Any]:
        method, request = request_for(call)
        where = f"gRPC {call.version} {method} on r{call.target.release}"
        try:
            reply = getattr(self._stub(call), method)(request, timeout=REQUEST_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise RequestFailed(f"{where}: {exc.code().name}: {exc.details()}") from None
        family = FAMILY_FIELD[call.version]
        data = {"id": reply.id, "first_name": reply.first_name, family: getattr(reply, family)}
        return check_family(call, where, data)

    def close(self) -> None:
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()
