"""The anti-corruption layer: the one place where API types meet the database types.

Two boundaries, both here:

- API side: a v1 or v2 request becomes a neutral :class:`NameFields`, and a neutral
  :class:`NameFields` becomes a v1 or v2 response. The API versions never see each other.
- Database side: :class:`NameFields` is written to the columns the running release writes
  and read from the column it reads (:mod:`example_project.people.releases`). The model's
  field names never leak into the API, and a renamed column never changes the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from example_project.people.api.types import (
    PersonIn,
    PersonInV1,
    PersonInV2,
    PersonOut,
    PersonV1,
    PersonV2,
)
from example_project.people.models import RELEASE, Person
from example_project.people.releases import Release

API_VERSIONS = ("v1", "v2")


@dataclass(frozen=True)
class NameFields:
    """A person's names, independent of API version and of column names."""

    first_name: str
    family_name: str


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


def read_names(person: Person, release: Release = RELEASE) -> NameFields:
    """Database → neutral: the family name from the column this release reads."""
    return NameFields(person.first_name, getattr(person, release.reads))


def write_names(person: Person, names: NameFields, release: Release = RELEASE) -> None:
    """Neutral → database: the family name into every column this release writes."""
    person.first_name = names.first_name
    for column in release.writes:
        setattr(person, column, names.family_name)
