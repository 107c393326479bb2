"""``manage.py lifecycle_demo``: rehearse the seed's four-release rename under live traffic.

A thin adapter over :mod:`example_project.lifecycle.runner`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from argparse import ArgumentParser
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from example_project.lifecycle import database
from example_project.lifecycle.plan import QUICK, DemoOptions
from example_project.lifecycle.runner import Environment, LifecycleDemo


class Command(BaseCommand):
    help = (
        "Deploy releases 1 to 4 of the example (last_name -> surname) one after another, each "
        "blue/green beside the previous one under live traffic on both API versions; run "
        "safemigrate as the pre-step of each; print a table per step. Works in a database of "
        "its own; exits non-zero on any failed request or inconsistent row."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        defaults = DemoOptions()
        parser.add_argument("--quick", action="store_true", help="A short run (CI).")
        parser.add_argument(
            "--scenario",
            choices=("rename", "bigint"),
            default="rename",
            help="rename: the four-release last_name -> surname (default); bigint: an integer "
            "primary key with a referencing table widened to bigint over three releases.",
        )
        parser.add_argument("--rows", type=int, help=f"Seeded people (default {defaults.rows}).")
        parser.add_argument(
            "--requests", type=int, help=f"Requests per phase (default {defaults.requests})."
        )
        parser.add_argument(
            "--seconds", type=float, help=f"Time cap per phase (default {defaults.seconds})."
        )
        parser.add_argument(
            "--threads", type=int, help=f"Client threads (default {defaults.threads})."
        )
        parser.add_argument(
            "--database-name",
            help="Database the demo creates and drops (default: <configured>_lifecycle_demo).",
        )
        parser.add_argument("--workdir", help="Folder for server logs and safemigrate reports.")
        parser.add_argument(
            "--drop-database", action="store_true", help="Drop the demo database at the end."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scenario"] == "bigint":
            return self._bigint(options)
        if importlib.util.find_spec("gunicorn") is None:
            raise CommandError(
                "The lifecycle demo serves each release with gunicorn, which is not installed: "
                "`pip install -e '.[test]'` (or `pip install gunicorn`)."
            )
        config = settings.DATABASES["default"]
        name = options["database_name"] or f"{config['NAME']}_lifecycle_demo"
        db_config = database.demo_config(config, name)
        workdir = Path(options["workdir"] or tempfile.mkdtemp(prefix="zdt-lifecycle-"))
        workdir.mkdir(parents=True, exist_ok=True)
        where = Environment(
            Path(settings.BASE_DIR) / "manage.py", db_config, dict(os.environ), workdir
        )
        demo = LifecycleDemo(where, _options(options), self._write)
        try:
            code = demo.run()
        except database.NotOurDatabase as exc:
            raise CommandError(str(exc)) from None
        finally:
            if options["drop_database"]:
                with contextlib.suppress(database.NotOurDatabase):
                    database.drop(db_config)
        if code:
            raise SystemExit(code)

    def _bigint(self, options: dict[str, Any]) -> None:
        from example_project.lifecycle.bigint import QUICK_BIGINT, BigintDemo, BigintOptions

        chosen = QUICK_BIGINT if options["quick"] else BigintOptions()
        given = {k: options[k] for k in ("rows", "seconds") if options[k]}
        config = settings.DATABASES["default"]
        name = options["database_name"] or f"{config['NAME']}_lifecycle_bigint"
        db_config = database.demo_config(config, name)
        workdir = Path(options["workdir"] or tempfile.mkdtemp(prefix="zdt-bigint-"))
        try:
            code = BigintDemo(db_config, workdir, replace(chosen, **given), self._write).run()
        except database.NotOurDatabase as exc:
            raise CommandError(str(exc)) from None
        finally:
            if options["drop_database"]:
                with contextlib.suppress(database.NotOurDatabase):
                    database.drop(db_config)
        if code:
            raise SystemExit(code)

    def _write(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()


def _options(options: dict[str, Any]) -> DemoOptions:
    chosen = QUICK if options["quick"] else DemoOptions()
    given = {k: options[k] for k in ("rows", "requests", "seconds", "threads") if options[k]}
    return replace(chosen, **given)
