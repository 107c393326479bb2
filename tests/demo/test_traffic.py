"""The traffic driver's plan of requests and its checking of answers (pure)."""

from __future__ import annotations

import json

import pytest

from example_project.lifecycle.traffic import (
    Call,
    RequestFailed,
    Target,
    _check,
    create_call,
    follow_up_calls,
    unit_routes,
)

BLUE, GREEN = Target(1, "127.0.0.1", 1001), Target(2, "127.0.0.1", 1002)


def test_unit_routes_alternate_releases_and_versions() -> None:
    assert unit_routes(0, [BLUE, GREEN]) == (BLUE, GREEN, "v1", "v2")
    assert unit_routes(1, [BLUE, GREEN]) == (GREEN, BLUE, "v2", "v1")
    assert unit_routes(2, [BLUE]) == (BLUE, BLUE, "v1", "v2")


def test_every_read_crosses_release_and_api_version() -> None:
    create = create_call(0, [BLUE, GREEN], "t")
    assert (create.target, create.version, create.method, create.path) == (
        BLUE,
        "v1",
        "POST",
        "/api/v1/people",
    )
    assert create.body == {"first_name": "Ada", "last_name": "Created0-t"}
    read, update, read_back = follow_up_calls(0, [BLUE, GREEN], "t", 42)
    assert (read.target, read.version, read.path) == (GREEN, "v2", "/api/v2/people/42")
    assert read.expect_family == "Created0-t"
    assert (update.target, update.method, update.body) == (
        GREEN,
        "PUT",
        {"first_name": "Ada", "last_name": "Updated0-t"},
    )
    assert (read_back.target, read_back.version, read_back.expect_family) == (
        BLUE,
        "v2",
        "Updated0-t",
    )


def test_requests_split_exactly_50_50_over_units() -> None:
    per_target = {BLUE: 0, GREEN: 0}
    for unit in range(10):
        calls = [create_call(unit, [BLUE, GREEN], "t")]
        calls += follow_up_calls(unit, [BLUE, GREEN], "t", 1)
        for call in calls:
            per_target[call.target] += 1
    assert per_target == {BLUE: 20, GREEN: 20}


def _read(expect: str) -> Call:
    return Call(GREEN, "v2", "GET", "/api/v2/people/1", None, 200, expect)


def test_a_stale_read_is_a_mismatch() -> None:
    body = json.dumps({"id": 1, "first_name": "Ada", "surname": "Old"}).encode()
    with pytest.raises(RequestFailed, match="expected 'New', got 'Old'") as info:
        _check(_read("New"), 200, body)
    assert info.value.mismatch


def test_wrong_status_or_body_is_a_failure() -> None:
    with pytest.raises(RequestFailed, match=r"HTTP 500$") as info:
        _check(_read("x"), 500, b"<!doctype html><title>Server Error (500)</title>")
    assert not info.value.mismatch
    with pytest.raises(RequestFailed, match=r"HTTP 404: no person with id 1$"):
        _check(_read("x"), 404, b'{"error": "no person with id 1"}')
    with pytest.raises(RequestFailed, match="not JSON"):
        _check(_read("x"), 200, b"<html>")


def test_a_good_answer_passes() -> None:
    body = json.dumps({"id": 1, "first_name": "Ada", "surname": "New"}).encode()
    assert _check(_read("New"), 200, body)["id"] == 1
