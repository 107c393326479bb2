"""The gRPC wire side of the anti-corruption layer: generated messages ↔ the domain.

Only this module knows that v1's family-name field is ``last_name`` and v2's is ``surname``
on the wire. It builds messages field by field from :class:`NameFields`, never from a
model, so a column added to the table (or renamed under it) cannot reach the wire.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from example_project.people.domain import NameFields, check_name
from example_project.people.rpc.people.v1 import people_pb2 as v1
from example_project.people.rpc.people.v2 import people_pb2 as v2

MESSAGES: dict[str, ModuleType] = {"v1": v1, "v2": v2}
FAMILY_FIELD = {"v1": "last_name", "v2": "surname"}


def names_from(version: str, request: Any) -> NameFields:
    """A Create/UpdatePersonRequest of ``version`` → domain names (validated)."""
    family = FAMILY_FIELD[version]
    first = check_name("first_name", request.first_name)
    return NameFields(first, check_name(family, getattr(request, family)))


def person_message(version: str, pk: int, names: NameFields) -> Any:
    """Domain names → the ``version`` Person message."""
    fields = {"id": pk, "first_name": names.first_name, FAMILY_FIELD[version]: names.family_name}
    return MESSAGES[version].Person(**fields)


def create_request(version: str, first_name: str, family_name: str) -> Any:
    """A client's CreatePersonRequest of ``version`` (used by the demo's traffic driver)."""
    fields = {"first_name": first_name, FAMILY_FIELD[version]: family_name}
    return MESSAGES[version].CreatePersonRequest(**fields)


def update_request(version: str, pk: int, first_name: str, family_name: str) -> Any:
    fields = {"id": pk, "first_name": first_name, FAMILY_FIELD[version]: family_name}
    return MESSAGES[version].UpdatePersonRequest(**fields)


def get_request(version: str, pk: int) -> Any:
    return MESSAGES[version].GetPersonRequest(id=pk)


def family_name_of(version: str, person: Any) -> str:
    """The family name a client reads from a ``version`` Person message."""
    return str(getattr(person, FAMILY_FIELD[version]))
