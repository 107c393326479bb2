"""What gets linted: the full plan, and which of its migrations are checked.

Years of history were safe when written (the tables were empty), so by default only what is
new is linted: migrations not yet applied on the target database. ``--all`` lints every
migration, ``--since REF`` those whose files changed since a git ref, and the baseline
(``safemigrate --adopt``'s file, and ``ZDT_BASELINE``) exempts each app's history up to and
including the named migration in every mode (unless that migration is asked for by name).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import DatabaseError, connections
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from django_zero_downtime import project
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.lint import baseline as adoption

Key = tuple[str, str]


class SelectionError(ZeroDowntimeError):
    """The request names something that does not exist or cannot be read."""


@dataclass
class Selection:
    plan: list[Migration]
    selected: set[Key] = field(default_factory=set)
    state: ProjectState = field(default_factory=ProjectState)
    mode: str = "unapplied"


def load(alias: str | None) -> MigrationLoader:
    """The migration graph; with ``alias``, also which migrations that database applied."""
    if alias is None:
        return MigrationLoader(None, ignore_no_migrations=True)
    try:
        return MigrationLoader(connections[alias], ignore_no_migrations=True)
    except DatabaseError as exc:
        raise SelectionError(
            f"Cannot read the applied migrations from database '{alias}' ({exc}). "
            "Lint without a database with --all or --since GIT_REF."
        ) from exc


def full_plan(loader: MigrationLoader) -> list[Migration]:
    """Every migration of the graph in an order that respects dependencies."""
    seen: set[Key] = set()
    plan: list[Migration] = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        for node in loader.graph.forwards_plan(leaf):
            if node not in seen:
                seen.add(node)
                plan.append(loader.graph.nodes[node])
    return plan


def select(
    *,
    mode: str,
    alias: str,
    baseline: dict[str, str],
    app_label: str | None = None,
    migration_name: str | None = None,
    since: str | None = None,
) -> Selection:
    """Build the plan and pick the migrations to lint (``mode``: unapplied, all or since)."""
    loader = load(alias if mode == "unapplied" else None)
    plan = full_plan(loader)
    keys = [(m.app_label, m.name) for m in plan]
    if mode == "unapplied":
        chosen = {key for key in keys if key not in loader.applied_migrations}
    elif mode == "since":
        chosen = changed_since(str(since), plan)
    else:
        chosen = set(keys)
    chosen = _narrow(loader, chosen, app_label, migration_name)
    if not migration_name:
        chosen -= baseline_keys(loader, baseline)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    return Selection(plan, chosen, state, mode)


def _narrow(
    loader: MigrationLoader, chosen: set[Key], app_label: str | None, name: str | None
) -> set[Key]:
    if not app_label:
        return chosen
    try:
        apps.get_app_config(app_label)
    except LookupError as exc:
        raise SelectionError(f"No installed app with label '{app_label}'.") from exc
    if app_label not in loader.migrated_apps:
        raise SelectionError(f"App '{app_label}' does not have migrations.")
    if not name:
        return {key for key in chosen if key[0] == app_label}
    try:
        migration = loader.get_migration_by_prefix(app_label, name)
    except (AmbiguityError, KeyError) as exc:
        raise SelectionError(
            f"Cannot find one migration of '{app_label}' matching '{name}' ({exc})."
        ) from exc
    return {(app_label, migration.name)}


def baseline_keys(loader: MigrationLoader, baseline: dict[str, str]) -> set[Key]:
    """Each app's migrations up to and including its baseline migration.

    A baseline entry that names no migration is an error here (the checker must not judge
    a history the user meant to exempt); the message says what to write instead."""
    wrong = adoption.missing(loader, baseline)
    if wrong:
        raise SelectionError(" ".join(f"{w.message()} {w.hint()}" for w in wrong))
    return adoption.exempt(loader, baseline)


def migration_path(migration: Any) -> str:
    module = sys.modules.get(type(migration).__module__)
    return os.path.realpath(getattr(module, "__file__", "") or "")


def changed_since(ref: str, plan: list[Migration]) -> set[Key]:
    """Migrations whose file was added or changed since ``ref`` (committed or not), in the
    project's own repository (that of the project root); apps elsewhere are ignored."""
    top = _git("rev-parse", "--show-toplevel", cwd=str(project.root())).strip()
    names = _git("diff", "--name-only", "--diff-filter=AMR", ref, "--", cwd=top).splitlines()
    names += _git("ls-files", "--others", "--exclude-standard", cwd=top).splitlines()
    changed = {os.path.realpath(os.path.join(top, name)) for name in names if name}
    return {(m.app_label, m.name) for m in plan if migration_path(m) in changed}


def _git(*args: str, cwd: str | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
        )
    except FileNotFoundError as exc:
        raise SelectionError("--since needs git on PATH.") from exc
    except subprocess.CalledProcessError as exc:
        raise SelectionError(
            f"git {' '.join(args)} failed: {exc.stderr.strip() or exc}. --since needs a git "
            "checkout and a ref that exists (a branch, tag or commit)."
        ) from exc
    return done.stdout
