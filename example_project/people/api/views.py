"""Thin JSON views of API v1 and v2; parsing and mapping live in ``types`` and ``mapping``."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from example_project.people import domain
from example_project.people.api import mapping
from example_project.people.api.types import InvalidRequest
from example_project.people.models import Person


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _body(request: HttpRequest, version: str) -> mapping.NameFields:
    try:
        data: Any = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the body must be JSON") from None
    return mapping.from_request(mapping.request_type(version).from_json(data))


def _respond(version: str, person: Person, status: int = 200) -> JsonResponse:
    response = mapping.to_response(version, person.pk, mapping.read_names(person))
    return JsonResponse(response.to_json(), status=status)


def collection(request: HttpRequest, version: str) -> HttpResponse:
    """``POST /api/<version>/people``: create a person."""
    if request.method != "POST":
        return _error(405, "use POST to create a person")
    try:
        names = _body(request, version)
    except InvalidRequest as exc:
        return _error(400, str(exc))
    return _respond(version, domain.create(names), status=201)


def detail(request: HttpRequest, version: str, pk: int) -> HttpResponse:
    """``GET`` / ``PUT /api/<version>/people/<id>``: read or replace a person."""
    if request.method not in ("GET", "PUT"):
        return _error(405, "use GET or PUT")
    person = domain.find(pk)
    if person is None:
        return _error(404, f"no person with id {pk}")
    if request.method == "PUT":
        try:
            domain.replace(person, _body(request, version))
        except InvalidRequest as exc:
            return _error(400, str(exc))
    return _respond(version, person)
