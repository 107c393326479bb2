"""The domain type of the people app and its database boundary.

:class:`NameFields` is what every API (JSON v1/v2, gRPC v1/v2) and the database agree a
person's names are, whatever each calls them. The database side of the anti-corruption
layer is here and only here: :func:`read_names` / :func:`write_names` map it to the columns
the running release reads and writes (:mod:`example_project.people.releases`). The wire
sides live in :mod:`example_project.people.api.mapping` (JSON) and
:mod:`example_project.people.rpc.mapping` (gRPC); neither ever sees a model field.
"""

from __future__ import annotations

from dataclasses import dataclass

from example_project.people.models import RELEASE, Person
from example_project.people.releases import Release


@dataclass(frozen=True)
class NameFields:
    """A person's names, independent of API version and of column names."""

    first_name: str
    family_name: str


def read_names(person: Person, release: Release = RELEASE) -> NameFields:
    """Database → domain: the family name from the column this release reads."""
    return NameFields(person.first_name, getattr(person, release.reads))


def write_names(person: Person, names: NameFields, release: Release = RELEASE) -> None:
    """Domain → database: the family name into every column this release writes."""
    person.first_name = names.first_name
    for column in release.writes:
        setattr(person, column, names.family_name)


MAX_NAME_LENGTH = 100
"""Longest first or family name any API accepts (the columns are ``varchar(100)``)."""


class InvalidNames(ValueError):
    """Names that do not fit the domain; the message is safe to show a client."""


def check_name(key: str, value: object) -> str:
    """``value`` as a name, or :class:`InvalidNames` naming ``key`` (the caller's wire name)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidNames(f"{key!r} is required and must be a non-empty string")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidNames(f"{key!r} must be at most {MAX_NAME_LENGTH} characters")
    return value


def create(names: NameFields) -> Person:
    """A new person with ``names``, saved."""
    person = Person()
    write_names(person, names)
    person.save()
    return person


def find(pk: int) -> Person | None:
    return Person.objects.filter(pk=pk).first()


def replace(person: Person, names: NameFields) -> Person:
    """``person`` with its names replaced, saved."""
    write_names(person, names)
    person.save()
    return person
