"""A scratch Django project with a real migration history nobody here wrote: wagtail + taggit.

Generated into a directory at run time (never committed). Used by
``benchmarks/lint_vs_migration_linter.py`` and by the real-project trial in
``tests/lint/test_real_project.py``.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

WAGTAIL_APPS = [
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]

SETTINGS = """\
import os
from example_project.database import database_url, parse_database_url

SECRET_KEY = "scratch-only"
DEBUG = False
ALLOWED_HOSTS = ["localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pgtrigger",
    "django_zero_downtime",
] + {apps!r} + {extra!r}
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "scratch_urls"
TEMPLATES = [{{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {{"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}},
}}]
DATABASES = {{"default": parse_database_url(database_url())}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"
WAGTAIL_SITE_NAME = "scratch"
WAGTAILADMIN_BASE_URL = "http://localhost"
"""

MANAGE = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scratch_settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


def write_project(directory: Path, extra_apps: tuple[str, ...] = ()) -> Path:
    """Write ``scratch_settings.py``, ``scratch_urls.py`` and ``manage.py``; return the dir."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = SETTINGS.format(apps=WAGTAIL_APPS, extra=list(extra_apps))
    (directory / "scratch_settings.py").write_text(settings)
    (directory / "scratch_urls.py").write_text("urlpatterns = []\n")
    (directory / "manage.py").write_text(MANAGE)
    return directory


def byte_compile(*directories: Path) -> None:
    """Write the ``.pyc`` files of this package (and of ``directories``), as a wheel install
    does: with ``PYTHONDONTWRITEBYTECODE`` set, an editable checkout is otherwise compiled
    from source in every benchmarked process."""
    for directory in (REPO / "django_zero_downtime", *directories):
        assert compileall.compile_dir(directory, quiet=1), directory


def environment(database_url: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "scratch_settings"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(
    directory: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``manage.py args`` in the scratch project; return the result and wall seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=directory,
        env=env or environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    return done, time.perf_counter() - started
