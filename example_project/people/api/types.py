"""Public API types, written by hand: never generated from the database schema.

v1 calls the family name ``last_name``, v2 calls it ``surname``. Both versions are served by
every release, whatever the table looks like underneath; only
:mod:`example_project.people.api.mapping` knows how these types meet the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from example_project.people.domain import MAX_NAME_LENGTH, InvalidNames, check_name

InvalidRequest = InvalidNames
"""A request body that does not fit the API type; the message is safe to show a client."""


def _name(data: dict[str, Any], key: str) -> str:
    return check_name(key, data.get(key))


__all__ = ["MAX_NAME_LENGTH", "InvalidRequest"]


def _object(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object")
    return data


@dataclass(frozen=True)
class PersonInV1:
    """Body of ``POST /api/v1/people`` and ``PUT /api/v1/people/<id>``."""

    first_name: str
    last_name: str

    @classmethod
    def from_json(cls, data: object) -> PersonInV1:
        body = _object(data)
        return cls(first_name=_name(body, "first_name"), last_name=_name(body, "last_name"))


@dataclass(frozen=True)
class PersonV1:
    """A person as API v1 shows it."""

    version: ClassVar[str] = "v1"
    id: int
    first_name: str
    last_name: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PersonInV2:
    """Body of ``POST /api/v2/people`` and ``PUT /api/v2/people/<id>``."""

    first_name: str
    surname: str

    @classmethod
    def from_json(cls, data: object) -> PersonInV2:
        body = _object(data)
        return cls(first_name=_name(body, "first_name"), surname=_name(body, "surname"))


@dataclass(frozen=True)
class PersonV2:
    """A person as API v2 shows it."""

    version: ClassVar[str] = "v2"
    id: int
    first_name: str
    surname: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PersonIn = PersonInV1 | PersonInV2
PersonOut = PersonV1 | PersonV2
