"""Command arguments ``[app_label [migration_name]]`` as migration targets, one way for all.

``safemigrate`` (apply, ``--plan``, ``--rehearse``) and ``migrate``'s production refusal
read the positional arguments the way Django's ``migrate`` does: no app = every leaf; an
app = its leaves; ``zero`` = unapply all of it; a name = the one migration it prefixes.
"""

from __future__ import annotations

from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.loader import MigrationLoader

from django_zero_downtime.exceptions import ZeroDowntimeError

Target = tuple[str, str | None]


def migration_targets(
    loader: MigrationLoader, app_label: str | None, name: str | None
) -> list[Target]:
    """The executor targets of ``app_label`` / ``name`` (ZeroDowntimeError when none fit)."""
    leaves = loader.graph.leaf_nodes()
    if app_label is None:
        return list(leaves)
    if app_label not in loader.migrated_apps:
        raise ZeroDowntimeError(f"App {app_label!r} does not have migrations.")
    if name is None:
        return [key for key in leaves if key[0] == app_label]
    if name == "zero":
        return [(app_label, None)]
    try:
        return [(app_label, loader.get_migration_by_prefix(app_label, name).name)]
    except (KeyError, AmbiguityError) as exc:
        raise ZeroDowntimeError(
            f"Cannot find a migration matching {name!r} from app {app_label!r}: {exc}"
        ) from exc
