"""Property-style: generated fields renamed under live writers match a fresh migrate.

For each generated field (tests/operations/rename_scenarios.py): expand while a writer uses
the old column (the previous release), check no row differs, contract while a writer uses
the new column (inserts with DEFAULT where there is a database default) and, for a to_field
target, a writer of the other table; then the renamed column's catalog equals a fresh
migrate's, the state equals the final model's (makemigrations would write nothing), and no
write failed. By default a short generated list that covers every value of every dimension runs;
``ZDT_LONG=1`` runs 40 generated fields.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.state import ProjectState
from django.test import override_settings

from django_zero_downtime.operations import CompleteDualWriteRename, DualWriteRename
from tests.operations.catalog import column_catalog
from tests.operations.conftest import APP, Lab
from tests.operations.rename_scenarios import (
    ChildWriter,
    Spec,
    Writer,
    column,
    covering_specs,
    create_operations,
    random_specs,
    value,
)
from tests.operations.test_backfill import ROOT, worker_env

FRESH = "zdtfresh"
SPECS = random_specs(seed=13, count=40) if os.environ.get("ZDT_LONG") else covering_specs(seed=13)
SEEDED = 200


@pytest.fixture
def fresh(transactional_db: None) -> Iterator[Lab]:
    lab = Lab(FRESH)
    try:
        yield lab
    finally:
        lab.drop_all()


def setup(lab: Lab, spec: Spec, name: str) -> None:
    for operation in create_operations(spec, name, lab.app):
        lab.apply(operation)
        lab.tables.add(lab.model(operation.name)._meta.db_table)
    lab.sql(f"INSERT INTO {lab.app}_parent SELECT FROM generate_series(1, 50)")
    col = column(spec, name)
    for n in range(1, SEEDED + 1):
        lab.sql(f'INSERT INTO {lab.app}_thing (slot, "{col}") VALUES (%s, %s)', [n, value(spec, n)])


def while_writing(writers: list[Writer], step: object) -> None:
    for writer in writers:
        writer.start()
    try:
        step()  # type: ignore[operator]
    finally:
        for writer in writers:
            writer.stop.set()
            writer.join(timeout=60)
    for writer in writers:
        assert writer.errors == [], writer.errors[:3]
        assert writer.writes > 0


def final_state(spec: Spec) -> ProjectState:
    state = ProjectState()
    for operation in create_operations(spec, "renamed", APP):
        operation.state_forwards(APP, state)
    return state


def no_changes(lab: Lab, spec: Spec) -> bool:
    detector = MigrationAutodetector(lab.state, final_state(spec))
    return detector.changes(graph=MigrationGraph()) == {}


@pytest.mark.parametrize("spec", SPECS, ids=[str(i) for i in range(len(SPECS))])
@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_generated_field_renames_like_a_fresh_migrate(lab: Lab, fresh: Lab, spec: Spec) -> None:
    setup(lab, spec, "original")
    old, new = column(spec, "original"), column(spec, "renamed")
    table = f"{APP}_thing"
    expand = DualWriteRename("Thing", "original", "renamed", batch_size=50)
    previous = Writer(spec, table, old, SEEDED, start=10_000)
    while_writing([previous], lambda: lab.apply(expand, atomic=False))
    assert lab.sql(f'SELECT count(*) FROM {table} WHERE "{old}" IS DISTINCT FROM "{new}"') == [(0,)]
    assert no_changes(lab, spec)

    contract = CompleteDualWriteRename("Thing", "original", "renamed")
    writers = [Writer(spec, table, new, SEEDED, start=20_000)]
    if spec.relation == "target":
        writers.append(ChildWriter(spec, f"{APP}_child", "ref_id", SEEDED, start=30_000))
    while_writing(writers, lambda: lab.apply(contract, atomic=False))
    assert no_changes(lab, spec)

    setup(fresh, spec, "renamed")
    assert column_catalog(table, new, APP) == column_catalog(f"{FRESH}_thing", new, FRESH), spec


KILLED = [
    Spec(kind="int", db_index=True, db_default=True, composite="check"),
    Spec(kind="char", unique=True, relation="target", composite="unique_together"),
]


@pytest.mark.parametrize("spec", KILLED, ids=["db_default", "to_field"])
@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_contract_killed_at_any_step_reruns_to_completion(lab: Lab, fresh: Lab, spec: Spec) -> None:
    """SIGKILL a real subprocess after statement 1, 3, 5, 8 and 10 of the contract, one run
    each; writers of the serving release never fail in between, and a rerun completes."""
    setup(lab, spec, "original")
    table, new = f"{APP}_thing", column(spec, "renamed")
    lab.apply(DualWriteRename("Thing", "original", "renamed"), atomic=False)
    writers = [Writer(spec, table, new, SEEDED, start=20_000)]
    if spec.relation == "target":
        writers.append(ChildWriter(spec, f"{APP}_child", "ref_id", SEEDED, start=30_000))
    held: list[str] = []

    def killed_runs_then_rerun() -> None:
        for stop_after in (1, 3, 5, 8, 10):
            held.append(kill_contract_after(spec, stop_after))
        lab.apply(CompleteDualWriteRename("Thing", "original", "renamed"), atomic=False)

    while_writing(writers, killed_runs_then_rerun)
    assert all(said.startswith("holding ") for said in held[:4]), held  # killed mid-way
    setup(fresh, spec, "renamed")
    assert column_catalog(table, new, APP) == column_catalog(f"{FRESH}_thing", new, FRESH)
    assert no_changes(lab, spec)


def kill_contract_after(spec: Spec, stop_after: int) -> str:
    """Run the contract in a subprocess, SIGKILL it once statement ``stop_after`` ran;
    returns what it said (``holding <sql>`` or ``finished``)."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.operations.contract_worker", spec.dumps(), str(stop_after)],
        cwd=ROOT,
        env=worker_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    said = worker.stdout.readline().strip()
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    return said
