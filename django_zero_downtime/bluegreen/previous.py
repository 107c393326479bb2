"""Which migrations the previous release had, and the new ones that follow it.

The previous release is the migrations applied on a database (:func:`applied_nodes`), those
whose files exist at a git ref (:func:`nodes_at_git_ref`), or those up to named migrations
(:func:`nodes_up_to`); :func:`plan_after` gives its state and the new migrations in order.
Used by the blue/green check, the rehearsal and ``testing.Migrator``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.exceptions import (
    AmbiguityError,
    BadMigrationError,
    MigrationSchemaMissing,
    NodeNotFoundError,
)
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from django_zero_downtime import project
from django_zero_downtime.exceptions import ZeroDowntimeError

Key = tuple[str, str]
Step = tuple[str, Migration]


def applied_nodes(loader: MigrationLoader) -> set[Key]:
    """Migrations applied on the loader's database: the release currently deployed."""
    return {key for key in loader.applied_migrations or {} if key in loader.graph.nodes}


def nodes_up_to(loader: MigrationLoader, migrations: Mapping[str, str]) -> set[Key]:
    """Up to (and including) the named migration of each app; other apps: all migrations."""
    graph, old = loader.graph, set()
    for app_label, name in migrations.items():
        try:
            key = (app_label, loader.get_migration_by_prefix(app_label, name).name)
        except (KeyError, AmbiguityError) as exc:
            raise ZeroDowntimeError(
                f"Previous release {app_label}.{name}: no single migration matches ({exc})."
            ) from None
        old |= set(graph.forwards_plan(key))
    named_apps = set(migrations)
    return old | {key for key in graph.nodes if key[0] not in named_apps}


def nodes_at_git_ref(loader: MigrationLoader, ref: str) -> set[Key]:
    """Migrations whose files exist at git ``ref`` in the project's repository; apps not
    tracked there (installed packages, an app in another repository) count as old."""
    old: set[Key] = set()
    top = project.repository()
    for app_label in sorted(loader.migrated_apps):
        app_nodes = {key for key in loader.graph.nodes if key[0] == app_label}
        directory = _migrations_dir(app_label)
        inside = top is not None and project.repository(directory) == top
        names = _migration_files_at(directory, ref) if inside else None
        old |= app_nodes if names is None else {key for key in app_nodes if key[1] in names}
    return {dep for key in old for dep in loader.graph.forwards_plan(key)}


def _migrations_dir(app_label: str) -> Path:
    module_name, _ = MigrationLoader.migrations_module(app_label)
    module = import_module(str(module_name))
    return Path(module.__file__ or "").parent if module.__file__ else Path(module.__path__[0])


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["git", "-C", str(directory), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _migration_files_at(directory: Path, ref: str) -> set[str] | None:
    """Migration names in ``directory`` at ``ref``; None when git does not track it."""
    if not _git(directory, "ls-files", "--", ".").stdout.strip():
        return None
    if _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode:
        raise ZeroDowntimeError(
            f"git ref {ref!r} not found in the repository of {directory}. Fetch it (CI clones "
            "are often shallow: `git fetch origin main`) or name another ref."
        )
    listed = _git(directory, "ls-tree", "--name-only", ref, "--", ".").stdout.split()
    return {Path(name).stem for name in listed if name.endswith(".py")}


def plan_after(loader: MigrationLoader, old: set[Key]) -> tuple[ProjectState, list[Step]]:
    """The previous release's state and the new migrations (in order) that follow it."""
    graph, plan, seen = loader.graph, [], set(old)
    for leaf in sorted(graph.leaf_nodes()):
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append((key[0], loader.graph.nodes[key]))
    real_apps = set(loader.unmigrated_apps)
    if not old:
        return ProjectState(real_apps=real_apps), plan
    return graph.make_state(nodes=sorted(old), at_end=True, real_apps=real_apps), plan


def load_migrations(connection: BaseDatabaseWrapper | None) -> MigrationLoader:
    try:
        return MigrationLoader(connection, ignore_no_migrations=True)
    except (MigrationSchemaMissing, BadMigrationError, NodeNotFoundError, ImportError) as exc:
        raise ZeroDowntimeError(f"Cannot load the migrations: {exc}") from exc
    except DatabaseError as exc:
        alias = connection.alias if connection else "?"
        raise ZeroDowntimeError(
            f"Cannot read the applied migrations on database {alias!r} ({exc}). Pass git_ref= "
            "or migrations= to name the previous release without a database."
        ) from exc
