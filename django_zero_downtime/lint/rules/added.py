"""What a new column of a given kind costs when it is added to a table with rows (ZDT108,
the foreign-key validation of ZDT111): pure helpers of the ``AddField`` rule."""

from __future__ import annotations

from typing import Any

from django.db.models import NOT_PROVIDED

from django_zero_downtime.lint import facts, op_facts

AUTO_FIELD_TYPES = ("AutoField", "BigAutoField", "SmallAutoField")


def filled_on_add(field: Any, new: facts.ColumnFacts) -> bool:
    """A new column with no default is NULL in every row: its foreign key has nothing to
    validate (PostgreSQL skips the check). A default fills it, and then it is validated."""
    return new.db_default or (not new.null and field.default is not NOT_PROVIDED)


def stored_generated(field: Any) -> bool:
    return is_generated(field) and getattr(field, "db_persist", False)


def rewrites_on_add(field: Any) -> bool:
    volatile = field.has_db_default() and op_facts.volatile(field.db_default)
    return stored_generated(field) or volatile or field.get_internal_type() in AUTO_FIELD_TYPES


def rewrite_kind(field: Any) -> str:
    if stored_generated(field):
        return "a stored generated column"
    if field.get_internal_type() in AUTO_FIELD_TYPES:
        return "an identity column"
    return "a volatile database default, computed for every row"


def is_generated(field: Any) -> bool:
    return type(field).__name__ == "GeneratedField"
