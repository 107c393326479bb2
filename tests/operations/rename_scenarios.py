"""Generated rename scenarios: one model field (type x null x unique x db_index x db_default
x FK / to_field target x composite constraint or index), its tables, and live writers.

Used by the property-style test and by the contract worker subprocess (SIGKILL test), which
rebuild the same model state from a spec.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, models
from django.db.migrations.operations import CreateModel
from django.db.models import Q

from django_zero_downtime.operations.references import auto_name

KINDS = ("char", "text", "int", "bigint")
RELATIONS = ("none", "none", "fk", "target")
COMPOSITES = ("none", "unique_together", "index", "auto_index", "unique_constraint", "check")


@dataclass(frozen=True)
class Spec:
    kind: str = "char"
    null: bool = False
    unique: bool = False
    db_index: bool = False
    db_default: bool = False
    relation: str = "none"
    composite: str = "none"

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> Spec:
        return cls(**json.loads(text))


def random_specs(seed: int, count: int) -> list[Spec]:
    """``count`` valid specs from a seeded generator (the same list on every run)."""
    rng = random.Random(seed)
    out: list[Spec] = []
    while len(out) < count:
        relation = rng.choice(RELATIONS)
        spec = Spec(
            kind="int" if relation == "fk" else rng.choice(KINDS),
            null=rng.random() < 0.4,
            unique=relation == "target" or (relation == "none" and rng.random() < 0.3),
            db_index=rng.random() < 0.5,
            db_default=relation == "none" and rng.random() < 0.5,
            relation=relation,
            composite=rng.choice(COMPOSITES),
        )
        if spec not in out:
            out.append(spec)
    return out


def covering_specs(seed: int) -> list[Spec]:
    """Generated specs, kept while each adds a value not yet seen in some dimension, until
    every value of every dimension (type, null, unique, db_index, db_default, relation,
    composite) appears at least once: a short list that still touches everything."""
    wanted: dict[str, set[Any]] = {
        "kind": set(KINDS),
        "null": {True, False},
        "unique": {True, False},
        "db_index": {True, False},
        "db_default": {True, False},
        "relation": set(RELATIONS),
        "composite": set(COMPOSITES),
    }
    out: list[Spec] = []
    for spec in random_specs(seed, 500):
        seen = [(k, v) for k, v in asdict(spec).items() if v in wanted[k]]
        if seen:
            out.append(spec)
            for k, v in seen:
                wanted[k].discard(v)
        if not any(wanted.values()):
            return out
    raise AssertionError(f"no cover of {wanted}")


def field_of(spec: Spec, app: str) -> models.Field:
    common: dict[str, Any] = {"null": spec.null, "db_index": spec.db_index}
    if spec.relation == "fk":
        return models.ForeignKey(f"{app}.Parent", models.CASCADE, **common)
    if spec.db_default:
        common["db_default"] = 7 if spec.kind in ("int", "bigint") else "dflt"
    common["unique"] = spec.unique
    if spec.kind == "char":
        return models.CharField(max_length=40, **common)
    if spec.kind == "text":
        return models.TextField(**common)
    return (models.IntegerField if spec.kind == "int" else models.BigIntegerField)(**common)


def options_of(spec: Spec, name: str, app: str) -> dict[str, Any]:
    tag = f"{app}_thing_{spec.composite}"
    if spec.composite == "unique_together":
        return {"unique_together": {(name, "slot")}}
    if spec.composite == "index":
        return {"indexes": [models.Index(fields=["slot", name], name=tag)]}
    if spec.composite == "auto_index":  # the name Django generates from table and columns
        index = models.Index(fields=["slot", name])
        columns = {"slot": "slot", name: column(spec, name)}
        index.name = auto_name(index, f"{app}_thing", columns) or ""
        return {"indexes": [index]}
    if spec.composite == "unique_constraint":
        return {"constraints": [models.UniqueConstraint(fields=[name, "slot"], name=tag)]}
    if spec.composite == "check":
        condition = Q(**{f"{name}__isnull": False}) | Q(slot__gte=0)
        return {"constraints": [models.CheckConstraint(condition=condition, name=tag)]}
    return {}


def create_operations(spec: Spec, name: str, app: str) -> list[CreateModel]:
    """Parent, Thing (the field under ``name``) and, for a to_field target, Child."""
    pk = ("id", models.BigAutoField(primary_key=True))
    ops = [
        CreateModel("Parent", [("id", models.BigAutoField(primary_key=True))]),
        CreateModel(
            "Thing",
            [pk, ("slot", models.IntegerField(default=0)), (name, field_of(spec, app))],
            options=options_of(spec, name, app),
        ),
    ]
    if spec.relation == "target":
        ref = models.ForeignKey(f"{app}.Thing", models.CASCADE, to_field=name, null=True)
        ops.append(
            CreateModel("Child", [("id", models.BigAutoField(primary_key=True)), ("ref", ref)])
        )
    return ops


def column(spec: Spec, name: str) -> str:
    return f"{name}_id" if spec.relation == "fk" else name


def value(spec: Spec, n: int) -> Any:
    """A value for the field that is unique per ``n`` (parents 1..PARENTS exist)."""
    if spec.relation == "fk":
        return n % PARENTS + 1
    return n if spec.kind in ("int", "bigint") else f"v{n}"


PARENTS = 50


class Writer(threading.Thread):
    """Inserts (with DEFAULT where the field has a database default) and updates through
    one column, on its own connection, until stopped; counts every error."""

    def __init__(self, spec: Spec, table: str, col: str, seeded: int, start: int) -> None:
        super().__init__(daemon=True)
        self.spec, self.table, self.col, self.seeded = spec, table, col, seeded
        self.n = start
        self.rng = random.Random(start)
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.writes = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.n += 1
                try:
                    self.write_once()
                    self.writes += 1
                except Exception as exc:  # counted: acceptance is zero
                    self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    def write_once(self) -> None:
        t, c = self.table, self.col
        with connection.cursor() as cursor:
            # a to_field target's values are pointed at by the child writer: insert only
            if self.spec.relation == "target" or self.rng.random() < 0.6:
                if self.may_use_default() and self.rng.random() < 0.5:
                    cursor.execute(f'INSERT INTO {t} (slot, "{c}") VALUES (%s, DEFAULT)', [self.n])
                else:
                    cursor.execute(
                        f'INSERT INTO {t} (slot, "{c}") VALUES (%s, %s)',
                        [self.n, self.new_value()],
                    )
            else:
                pk = self.rng.randint(1, self.seeded)
                cursor.execute(f'UPDATE {t} SET "{c}" = %s WHERE id = %s', [self.new_value(), pk])

    def may_use_default(self) -> bool:
        """A constant default fills a unique column once only: DEFAULT where not unique."""
        unique = self.spec.unique or self.spec.composite in ("unique_together", "unique_constraint")
        return self.spec.db_default and not unique

    def new_value(self) -> Any:
        if self.spec.null and self.spec.relation != "target" and self.rng.random() < 0.1:
            return None
        return value(self.spec, self.n)


class ChildWriter(Writer):
    """Inserts into the child table, pointing at seeded rows of the target column."""

    def write_once(self) -> None:
        ref = value(self.spec, self.rng.randint(1, self.seeded))
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {self.table} (ref_id) VALUES (%s)", [ref])
