"""``json.dumps(value, indent=2)``, the same text, without the pure-Python encoder.

With ``indent`` the standard library encodes in Python, one generator step per token; a
checker run over thousands of migrations spent about a fifth of its reporting there. The
documents the renderers write are plain (dicts with string keys, lists, strings, ints,
finite floats, booleans, None), and those are written here with the C string encoder.
Anything else (another type, a subclass, NaN, a cycle) is left to ``json.dumps`` itself,
so the text and the errors are always exactly what it gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring_ascii as _string
from math import isfinite
from typing import Any

_WORDS = {True: "true", False: "false", None: "null"}


class _NotPlain(Exception):
    """A value the fast path does not write (``json.dumps`` does, or raises)."""


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``json.dumps(value, indent=2, default=default)``."""
    try:
        return _text(value, "\n")
    except (_NotPlain, RecursionError):
        return json.dumps(value, indent=2, default=default)


def _text(value: Any, newline: str) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is dict:
        return _object(value, newline) if value else "{}"
    if kind is list or kind is tuple:
        inner = newline + "  "
        items = ",".join(inner + _text(item, inner) for item in value)
        return f"[{items}{newline}]" if value else "[]"
    return _scalar(value, kind)


def _object(value: dict[Any, Any], newline: str) -> str:
    inner = newline + "  "
    if not all(type(key) is str for key in value):
        raise _NotPlain
    items = ",".join(f"{inner}{_string(k)}: {_text(v, inner)}" for k, v in value.items())
    return f"{{{items}{newline}}}"


def _scalar(value: Any, kind: type) -> str:
    if kind is bool or value is None:
        return _WORDS[value]
    if kind is int:
        return int.__repr__(value)
    if kind is float and isfinite(value):
        return float.__repr__(value)
    raise _NotPlain
