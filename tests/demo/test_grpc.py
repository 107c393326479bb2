"""The example service's gRPC API: types from .proto, one mapping per boundary, real servers."""

from __future__ import annotations

import ast
import os
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import grpc
import pytest
from django.conf import settings
from django.db import connection

from example_project.lifecycle import database, servers
from example_project.lifecycle.rpc_client import request_for
from example_project.lifecycle.traffic import Budget, Target, create_call, drive, unit_protocol
from example_project.people import domain
from example_project.people.models import Person
from example_project.people.rpc import codegen, mapping, server
from example_project.people.rpc.people.v1 import people_pb2 as v1
from example_project.people.rpc.people.v1 import people_pb2_grpc as v1_grpc
from example_project.people.rpc.people.v2 import people_pb2 as v2
from example_project.people.rpc.people.v2 import people_pb2_grpc as v2_grpc

ROOT = Path(settings.BASE_DIR)


def test_generated_code_is_what_the_protos_generate() -> None:
    assert codegen.differences() == []


def test_the_wire_types_are_the_proto_fields_only() -> None:
    assert [f.name for f in v1.Person.DESCRIPTOR.fields] == ["id", "first_name", "last_name"]
    assert [f.name for f in v2.Person.DESCRIPTOR.fields] == ["id", "first_name", "surname"]


def test_a_model_field_the_proto_does_not_declare_never_reaches_the_wire() -> None:
    names = domain.NameFields("Ada", "Lovelace")
    reply = mapping.person_message("v1", 7, names)
    model_only = {f.name for f in Person._meta.concrete_fields} - {"id", "first_name"}
    wire = {field.name for field, _ in reply.ListFields()}
    assert wire == {"id", "first_name", "last_name"}
    assert not model_only & {f.name for f in v1.Person.DESCRIPTOR.fields}


def test_no_api_module_reads_model_metadata() -> None:
    """The wire sides build messages field by field: no _meta, model_to_dict or serializers."""
    for folder in ("api", "rpc"):
        for path in (ROOT / "example_project/people" / folder).glob("*.py"):
            tree = ast.parse(path.read_text())
            attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            assert not {"_meta", "model_to_dict"} & (attributes | names), path


def test_the_app_itself_pulls_no_grpc_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith(("grpc", "protobuf"))]
    assert any(d.startswith("grpcio") for d in project["optional-dependencies"]["grpc"])
    required = metadata.requires("django-zero-downtime") or []
    assert not [r for r in required if r.startswith(("grpc", "protobuf")) and "extra" not in r]
    for path in (ROOT / "django_zero_downtime").rglob("*.py"):
        assert "grpc" not in path.read_text(), path


def test_every_other_unit_pair_speaks_grpc_when_every_target_serves_it() -> None:
    both = [Target(1, "h", 1, 11), Target(2, "h", 2, 12)]
    expected = ["http", "http", "grpc", "grpc", "http", "http"]
    assert [unit_protocol(u, both) for u in range(6)] == expected
    one_without = [Target(1, "h", 1, 11), Target(2, "h", 2)]
    assert {unit_protocol(u, one_without) for u in range(8)} == {"http"}


def test_a_create_call_maps_to_create_person_with_the_versions_field_name() -> None:
    call = create_call(3, [Target(1, "h", 1, 11), Target(2, "h", 2, 12)], "tok")
    method, request = request_for(call)
    assert (call.protocol, method) == ("grpc", "CreatePerson")
    assert request.first_name == "Ada" and mapping.family_name_of(call.version, request)


@pytest.fixture
def rpc_port(transactional_db: None) -> Iterator[int]:
    port = server.start(0, threads=2)
    yield port
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_v1_and_v2_share_one_person_whatever_the_column_is_called(rpc_port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{rpc_port}") as channel:
        one, two = v1_grpc.PeopleStub(channel), v2_grpc.PeopleStub(channel)
        created = one.CreatePerson(v1.CreatePersonRequest(first_name="Ada", last_name="Byron"))
        assert two.GetPerson(v2.GetPersonRequest(id=created.id)).surname == "Byron"
        two.UpdatePerson(v2.UpdatePersonRequest(id=created.id, first_name="Ada", surname="King"))
        assert one.GetPerson(v1.GetPersonRequest(id=created.id)).last_name == "King"
    assert Person.objects.get(pk=created.id).surname == "King"


@pytest.mark.django_db(transaction=True)
def test_bad_requests_get_grpc_status_codes(rpc_port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{rpc_port}") as channel:
        stub = v2_grpc.PeopleStub(channel)
        with pytest.raises(grpc.RpcError) as invalid:
            stub.CreatePerson(v2.CreatePersonRequest(first_name="Ada", surname=" "))
        assert invalid.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "'surname' is required" in (invalid.value.details() or "")
        with pytest.raises(grpc.RpcError) as missing:
            stub.GetPerson(v2.GetPersonRequest(id=987654321))
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    assert not Person.objects.exists()


def test_grpc_port_must_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(server.ENV_VAR, "fifty")
    with pytest.raises(ValueError, match="GRPC_PORT='fifty' must be a port number"):
        server.start_from_environment()
    monkeypatch.delenv(server.ENV_VAR)
    assert server.start_from_environment() is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_http_and_grpc_from_one_process(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database.database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "GRPC_PORT": "0",
    }
    blue = servers.start(4, env, ROOT, tmp_path, threads=2)
    try:
        servers.wait_ready(blue)
        assert blue.grpc_port
        result = drive([blue.target], Budget(requests=32, seconds=30, threads=2))
    finally:
        servers.stop(blue)
    assert result.errors == 0, result.sample_errors
    for channel in ("grpc v1", "grpc v2"):
        served = result.channel(4, channel)
        assert served is not None and served.requests > 0
