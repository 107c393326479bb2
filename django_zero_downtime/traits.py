"""What an operation says about itself: the traits every consumer asks instead of class names.

An operation class (this project's, or any package's) declares, as class attributes:

- ``requires_non_atomic_migration``: it commits step by step (batches, triggers) and refuses
  an atomic migration (the checker's ZDT303, makemigrations' split, the rehearsal's skip);
- ``deploy_cycle_gated``: it is refused until ``ZDT_DEPRECATION_CYCLES`` deploy cycles have
  passed since the matching deprecation (the drops, ``CompleteDualWriteRename``);
- ``safe_category``: the expand/contract step it is, one of :data:`SAFE_CATEGORIES`, when it
  is safe by construction (the checker's operation rules never flag it); ``None`` otherwise;
- ``backfills_rows``: it copies rows in batches (the rehearsal estimates it by rows);
- ``uses_ledger``: it reads or writes the ledger (its migration depends on the ledger's);

and what it does to the previous release's schema beyond its state change with a
``zdt_compat_effect(self) -> Effect`` method (the blue/green check).

Django's and third-party operations declare nothing; the functions here answer for them.
This module imports no operation and no model, so any layer may ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import RunSQL

SAFE_CATEGORIES = ("expand", "backfill", "deprecate", "contract")
Key = tuple[str, str]


@dataclass(frozen=True)
class Effect:
    """Database effect of an operation that its state change does not show.

    ``kept``: (model_name, field_name) whose column stays in the database although the state
    drops or renames the field (looked up in the from-state). ``kept_tables``: models whose
    table stays usable under its name (a table or an updatable view) although the state
    deletes the model. ``filled``: (model_name, field_name) of the to-state whose column the
    database fills when a write leaves it out (a trigger, or a database default the state
    does not show). ``unfilled``: such columns no longer filled. ``dropped``: (model_name,
    field_name, or "" for the table) of kept columns/tables it finally drops.
    """

    kept: tuple[Key, ...] = ()
    kept_tables: tuple[str, ...] = ()
    filled: tuple[Key, ...] = ()
    unfilled: tuple[Key, ...] = ()
    dropped: tuple[Key, ...] = ()
    mirrored: tuple[tuple[str, str, str], ...] = ()
    """(model_name, old field, new field): the new column mirrors the old while dual-writing
    (``bluegreen/mirrors.py``)."""


def requires_non_atomic(operation: Any) -> bool:
    return bool(getattr(operation, "requires_non_atomic_migration", False))


def deploy_cycle_gated(operation: Any) -> bool:
    return bool(getattr(operation, "deploy_cycle_gated", False))


def safe_category(operation: Any) -> str | None:
    category = getattr(operation, "safe_category", None)
    return category if category in SAFE_CATEGORIES else None


def is_safe(operation: Any) -> bool:
    """Safe by construction: the checker's operation rules do not judge it."""
    return safe_category(operation) is not None


def backfills_rows(operation: Any) -> bool:
    return bool(getattr(operation, "backfills_rows", False))


def uses_ledger(operation: Any) -> bool:
    return bool(getattr(operation, "uses_ledger", False))


def cannot_run_in_transaction(operation: Any) -> bool:
    """Django's concurrent index operations, ``RunSQL`` with ``CONCURRENTLY``, and any
    operation that requires a non-atomic migration."""
    if isinstance(operation, AddIndexConcurrently | RemoveIndexConcurrently):
        return True
    if isinstance(operation, RunSQL) and "CONCURRENTLY" in str(operation.sql).upper():
        return True
    return requires_non_atomic(operation)


def schema_effect(operation: Any) -> Effect | None:
    """What ``operation`` declares it does to the previous release's schema (or None)."""
    declared = getattr(operation, "zdt_compat_effect", None)
    if not callable(declared):
        return None
    result = declared()
    return result if isinstance(result, Effect) else None
