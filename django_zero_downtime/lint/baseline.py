"""The adoption baseline: the migration history a project had already shipped.

``safemigrate --adopt`` writes ``zero_downtime_baseline.json`` at the project root (see
:mod:`django_zero_downtime.project`), to be committed with the project::

    {"version": 1, "migrations": {"auth": "0012_alter_user_first_name_max_length", ...}}

Each app's named migration and its ancestors in that app are never judged by ``zdt.E010``
or ``safemigrate --check``. ``ZDT_BASELINE`` (a setting of the same shape) is merged over
the file, app by app. Reading is pure apart from the file; nothing here touches a database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db.migrations.loader import MigrationLoader

from django_zero_downtime import conf, project
from django_zero_downtime.exceptions import ZeroDowntimeError

FILE_NAME = "zero_downtime_baseline.json"
VERSION = 1
Key = tuple[str, str]


class BaselineError(ZeroDowntimeError):
    """The baseline file cannot be read, or the graph cannot be recorded."""


def path() -> Path:
    """``ZDT_BASELINE_FILE`` (relative to the project root), else the default name there."""
    return project.root() / (conf.get_settings().BASELINE_FILE or FILE_NAME)


def read_file(where: Path | None = None) -> dict[str, str]:
    """The file's ``migrations`` mapping; ``{}`` when there is no file."""
    where = where or path()
    if not where.is_file():
        return {}
    shown = project.display_path(where)
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{shown} is not valid JSON ({exc}). {_REWRITE}") from exc
    migrations = data.get("migrations") if isinstance(data, dict) else None
    valid = isinstance(migrations, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in migrations.items()
    )
    if not isinstance(migrations, dict) or not valid or data.get("version") != VERSION:
        raise BaselineError(
            f'{shown} must be {{"version": {VERSION}, "migrations": {{"app": "0042_name"}}}}. '
            + _REWRITE
        )
    return dict(migrations)


_REWRITE = "Fix it by hand, or rewrite it with `python manage.py safemigrate --adopt --force`."


def effective(setting: Mapping[str, str]) -> dict[str, str]:
    """The file's baseline with ``ZDT_BASELINE`` merged over it, app by app."""
    return {**read_file(), **dict(setting)}


@dataclass(frozen=True)
class Missing:
    """A baseline entry naming a migration that the project does not have."""

    app: str
    name: str
    latest: str | None
    """The app's last migration, to put in its place (None: the app has no migrations)."""

    def message(self) -> str:
        return (
            f'The baseline ({FILE_NAME} or ZDT_BASELINE) names "{self.app}": "{self.name}", '
            "which is not a migration of this project."
        )

    def hint(self) -> str:
        where = f"{FILE_NAME} (or ZDT_BASELINE)"
        if self.latest is None:
            return f'No installed app "{self.app}" has migrations: remove it from {where}.'
        return (
            f'Write an existing migration of "{self.app}" in {where}; its last one is '
            f'"{self.latest}". Or record the current history again with '
            "`python manage.py safemigrate --adopt --force`."
        )


def missing(loader: MigrationLoader, baseline: Mapping[str, str]) -> list[Missing]:
    """Entries of ``baseline`` that name no migration of the graph."""
    leaves = _leaves(loader)
    return [
        Missing(app, name, max(leaves[app]) if app in leaves else None)
        for app, name in sorted(baseline.items())
        if (app, name) not in loader.graph.nodes
    ]


def exempt(loader: MigrationLoader, baseline: Mapping[str, str]) -> set[Key]:
    """Each app's migrations up to and including its baseline migration (unknown: skipped)."""
    out: set[Key] = set()
    for app_label, name in baseline.items():
        if (app_label, name) in loader.graph.nodes:
            ancestors = loader.graph.forwards_plan((app_label, name))
            out |= {key for key in ancestors if key[0] == app_label}
    return out


def _leaves(loader: MigrationLoader) -> dict[str, list[str]]:
    leaves: dict[str, list[str]] = {}
    for app_label, name in loader.graph.leaf_nodes():
        leaves.setdefault(app_label, []).append(name)
    return leaves


def current(loader: MigrationLoader) -> dict[str, str]:
    """Every app's last migration: what ``--adopt`` records."""
    out: dict[str, str] = {}
    for app_label, names in sorted(_leaves(loader).items()):
        if len(names) > 1:
            raise BaselineError(
                f"App '{app_label}' has several last migrations ({', '.join(sorted(names))}): "
                f"merge them first with `python manage.py makemigrations --merge {app_label}`."
            )
        out[app_label] = names[0]
    return out


def changes(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, tuple[str | None, str]]:
    """App -> (recorded, would be recorded) for every app whose entry would change."""
    return {app: (old.get(app), name) for app, name in new.items() if old.get(app) != name}


def write(migrations: Mapping[str, str], where: Path | None = None) -> Path:
    where = where or path()
    body = {"version": VERSION, "migrations": dict(sorted(migrations.items()))}
    where.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return where
