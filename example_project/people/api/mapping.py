"""The JSON wire side of the anti-corruption layer: API v1/v2 types ↔ the domain.

A v1 or v2 request becomes a neutral :class:`NameFields`, and a neutral :class:`NameFields`
becomes a v1 or v2 response; the API versions never see each other. The database side is
:mod:`example_project.people.domain` (re-exported here for the views), so a renamed column
never changes the API and no API type is derived from a model.
"""

from __future__ import annotations

from example_project.people.api.types import (
    PersonIn,
    PersonInV1,
    PersonInV2,
    PersonOut,
    PersonV1,
    PersonV2,
)
from example_project.people.domain import NameFields, read_names, write_names

API_VERSIONS = ("v1", "v2")


def from_request(body: PersonIn) -> NameFields:
    if isinstance(body, PersonInV1):
        return NameFields(body.first_name, body.last_name)
    return NameFields(body.first_name, body.surname)


def request_type(version: str) -> type[PersonInV1] | type[PersonInV2]:
    return PersonInV1 if version == "v1" else PersonInV2


def to_response(version: str, pk: int, names: NameFields) -> PersonOut:
    if version == "v1":
        return PersonV1(id=pk, first_name=names.first_name, last_name=names.family_name)
    return PersonV2(id=pk, first_name=names.first_name, surname=names.family_name)


__all__ = [
    "API_VERSIONS",
    "NameFields",
    "from_request",
    "read_names",
    "request_type",
    "to_response",
    "write_names",
]
