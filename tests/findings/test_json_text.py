"""``json_text.dumps`` writes exactly what ``json.dumps(..., indent=2)`` writes."""

from __future__ import annotations

import json
from collections import OrderedDict
from decimal import Decimal
from enum import IntEnum
from typing import Any

import pytest

from django_zero_downtime.findings.json_text import dumps


class Level(IntEnum):
    HIGH = 2


DOCUMENTS: list[Any] = [
    {},
    [],
    {"a": [], "b": {}, "c": [[]], "d": [{}]},
    {"findings": [{"rule": "ZDT101", "line": 12, "hint": 'a\nb "q" é ☃ \x00', "x": None}]},
    {"t": True, "f": False, "n": None, "i": -3, "big": 10**30, "f1": 1.5, "f2": 1e-7},
    ("tuple", 1, [2, (3,)]),
    "just a string",
    7,
    None,
    {"nested": {"deeper": {"deepest": ["x", {"y": [1, 2, {"z": "w"}]}]}}},
]

FALLBACKS: list[Any] = [
    {1: "int key", "s": 2},
    {True: "bool key"},
    {"nan": float("nan"), "inf": float("inf")},
    OrderedDict(a=1),
    {"enum": Level.HIGH},
    {"sub": type("S", (str,), {})("text")},
]


@pytest.mark.parametrize("document", DOCUMENTS + FALLBACKS)
def test_same_text_as_json_dumps(document: Any) -> None:
    assert dumps(document) == json.dumps(document, indent=2)


def test_default_is_used_like_json_dumps() -> None:
    document = {"amount": Decimal("1.5"), "items": [Decimal("2")]}
    assert dumps(document, default=str) == json.dumps(document, indent=2, default=str)


def test_errors_are_json_dumps_errors() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object()})
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular"):
        dumps(cycle)
