"""``safemigrate --adopt``: record the shipped migration history in the baseline file.

    python manage.py safemigrate --adopt [--force]

The first run writes ``zero_downtime_baseline.json`` (commit it). A later run that would
move the baseline (new migrations since) lists what it would add and changes nothing
unless ``--force`` is given: moving the baseline exempts those migrations from every check.
Reads migration files only, never a database; skips Django's system checks (so that a
broken baseline can always be rewritten).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db.migrations.loader import MigrationLoader

from django_zero_downtime import project
from django_zero_downtime.lint import baseline


def run(command: BaseCommand, options: dict[str, Any]) -> int:
    where = baseline.path()
    shown = project.display_path(where)
    loader = MigrationLoader(None, ignore_no_migrations=True)
    now = baseline.current(loader)
    old = _old(where, bool(options.get("force")))
    moves = baseline.changes(old, now)
    say = command.stdout.write
    if old and not moves:
        say(f"{shown} is up to date: it records the last migration of {len(now)} apps.")
        return 0
    counts = {app: _added(loader, app, was, to) for app, (was, to) in moves.items()}
    lines = [f"  {app}: {was or '(none)'} -> {to} ({counts[app]} migration(s))"
             for app, (was, to) in sorted(moves.items())]  # fmt: skip
    if old and not options.get("force"):
        say(f"{shown} would move; these migrations would no longer be judged:")
        say("\n".join(lines))
        say("Nothing was written. Run `python manage.py safemigrate --adopt --force` to move it.")
        return 1
    baseline.write(now, where)
    total = sum(counts.values())
    verb = "Moved" if old else "Wrote"
    say(f"{verb} {shown}: {total} migration(s) of {len(moves)} app(s) recorded as shipped.")
    say("\n".join(lines))
    say("Commit it. From now on only migrations added later are judged by `manage.py check` "
        "(zdt.E010) and `safemigrate --check`.")  # fmt: skip
    return 0


def _old(where: Any, force: bool) -> dict[str, str]:
    try:
        return baseline.read_file(where)
    except baseline.BaselineError:
        if force:
            return {}
        raise


def _added(loader: MigrationLoader, app: str, was: str | None, to: str) -> int:
    """How many of ``app``'s migrations the move exempts."""
    after = {key for key in loader.graph.forwards_plan((app, to)) if key[0] == app}
    if was and (app, was) in loader.graph.nodes:
        after -= set(loader.graph.forwards_plan((app, was)))
    return len(after)
