"""API v1 and v2 over one table (the latest release, as the test database has it), and the
anti-corruption layer's mapping for every release."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.test import Client

from example_project.people.api import mapping
from example_project.people.api.types import InvalidRequest, PersonInV1, PersonInV2
from example_project.people.models import Person
from example_project.people.releases import release

pytestmark = pytest.mark.django_db


def _post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _put(client: Client, path: str, body: Any) -> Any:
    return client.put(path, data=json.dumps(body), content_type="application/json")


def test_v1_create_is_read_back_through_v2_and_stored_in_surname(client: Client) -> None:
    created = _post(client, "/api/v1/people", {"first_name": "Ada", "last_name": "Lovelace"})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "first_name": "Ada", "last_name": "Lovelace"}
    read = client.get(f"/api/v2/people/{body['id']}")
    assert read.json() == {"id": body["id"], "first_name": "Ada", "surname": "Lovelace"}
    assert Person.objects.get(pk=body["id"]).surname == "Lovelace"


def test_v2_update_is_read_back_through_v1(client: Client) -> None:
    pk = _post(client, "/api/v2/people", {"first_name": "Grace", "surname": "Hopper"}).json()["id"]
    updated = _put(client, f"/api/v2/people/{pk}", {"first_name": "Grace", "surname": "Murray"})
    assert updated.status_code == 200
    assert client.get(f"/api/v1/people/{pk}").json()["last_name"] == "Murray"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/v1/people", {"first_name": "Ada", "surname": "L"}, "'last_name' is required"),
        ("/api/v2/people", {"first_name": "Ada", "last_name": "L"}, "'surname' is required"),
        ("/api/v2/people", {"first_name": "", "surname": "L"}, "'first_name' is required"),
        ("/api/v1/people", {"first_name": "A", "last_name": "x" * 101}, "at most 100"),
        ("/api/v1/people", ["not", "an", "object"], "JSON object"),
    ],
)
def test_invalid_bodies_are_refused_with_400(
    client: Client, path: str, body: Any, message: str
) -> None:
    response = _post(client, path, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Person.objects.exists()


def test_unparsable_json_wrong_method_and_unknown_id(client: Client) -> None:
    bad = client.post("/api/v1/people", data=b"{", content_type="application/json")
    assert (bad.status_code, bad.json()["error"]) == (400, "the body must be JSON")
    assert client.get("/api/v1/people").status_code == 405
    assert client.delete("/api/v2/people/1").status_code == 405
    assert client.get("/api/v2/people/999999").status_code == 404


def test_health_names_the_release_without_touching_the_database(client: Client) -> None:
    assert client.get("/health").json() == {"status": "ok", "release": 4, "grpc_port": None}


def test_request_types_are_version_specific() -> None:
    assert PersonInV1.from_json({"first_name": "A", "last_name": "B"}).last_name == "B"
    assert PersonInV2.from_json({"first_name": "A", "surname": "B"}).surname == "B"
    with pytest.raises(InvalidRequest):
        PersonInV2.from_json({"first_name": "A", "last_name": "B"})


@pytest.mark.parametrize(
    ("number", "written"),
    [
        (1, {"last_name": "Family"}),
        (2, {"last_name": "Family", "surname": "Family"}),
        (3, {"surname": "Family"}),
        (4, {"surname": "Family"}),
    ],
)
def test_each_release_writes_its_columns_and_reads_its_column(
    number: int, written: dict[str, str]
) -> None:
    row = SimpleNamespace(first_name="")
    names = mapping.NameFields("First", "Family")
    mapping.write_names(cast(Any, row), names, release(number))
    assert vars(row) == {"first_name": "First", **written}
    assert mapping.read_names(cast(Any, row), release(number)) == names


def test_release_two_reads_the_old_column_even_when_they_differ() -> None:
    row = SimpleNamespace(first_name="F", last_name="Old", surname="New")
    assert mapping.read_names(cast(Any, row), release(2)).family_name == "Old"
    assert mapping.read_names(cast(Any, row), release(3)).family_name == "New"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_responses_use_the_versions_own_field(version: str) -> None:
    out = mapping.to_response(version, 7, mapping.NameFields("F", "Fam")).to_json()
    field = {"v1": "last_name", "v2": "surname"}[version]
    assert out == {"id": 7, "first_name": "F", field: "Fam"}
