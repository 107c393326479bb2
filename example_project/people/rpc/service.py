"""The servicers of ``people.v1.People`` and ``people.v2.People``: thin, like the JSON views.

Each call maps the request to the domain (:mod:`.mapping`), does the work through
:mod:`example_project.people.domain` (the database boundary) and maps back. Django's
per-request connection handling does not run for gRPC threads, so every call closes stale
connections before and after, as Django's request signals would.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import grpc
from django.db import close_old_connections

from example_project.people import domain
from example_project.people.rpc import mapping
from example_project.people.rpc.people.v1 import people_pb2_grpc as v1_grpc
from example_project.people.rpc.people.v2 import people_pb2_grpc as v2_grpc

Handler = TypeVar("Handler", bound=Callable[..., Any])


def rpc(handler: Handler) -> Handler:
    """Connection hygiene and error mapping around one call (invalid names → INVALID_ARGUMENT)."""

    @wraps(handler)
    def call(self: PeopleServicer, request: Any, context: grpc.ServicerContext) -> Any:
        close_old_connections()
        try:
            return handler(self, request, context)
        except domain.InvalidNames as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        finally:
            close_old_connections()

    return call  # type: ignore[return-value]


class PeopleServicer:
    """One API version's People service; ``version`` picks the wire names."""

    version = ""

    def _found(self, pk: int, context: grpc.ServicerContext) -> Any:
        person = domain.find(pk)
        if person is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no person with id {pk}")
        return person

    def _reply(self, person: Any) -> Any:
        return mapping.person_message(self.version, person.pk, domain.read_names(person))

    @rpc
    def CreatePerson(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._reply(domain.create(mapping.names_from(self.version, request)))

    @rpc
    def GetPerson(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._reply(self._found(request.id, context))

    @rpc
    def UpdatePerson(self, request: Any, context: grpc.ServicerContext) -> Any:
        names = mapping.names_from(self.version, request)
        return self._reply(domain.replace(self._found(request.id, context), names))


class PeopleV1(PeopleServicer, v1_grpc.PeopleServicer):
    version = "v1"


class PeopleV2(PeopleServicer, v2_grpc.PeopleServicer):
    version = "v2"


def register(server: grpc.Server) -> None:
    """Add both API versions to ``server``."""
    v1_grpc.add_PeopleServicer_to_server(PeopleV1(), server)
    v2_grpc.add_PeopleServicer_to_server(PeopleV2(), server)
