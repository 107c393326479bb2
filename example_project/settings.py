"""Settings of the example project: the seed's ``Person`` (first_name, last_name)."""

from __future__ import annotations

import os
from pathlib import Path

from example_project.database import database_url, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "pgtrigger",
    "django_zero_downtime",
    "example_project.people",
]

MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

DATABASES = {"default": parse_database_url(database_url())}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

# django-zero-downtime: the defaults, spelled out so the example shows where they live.
ZDT_LOCK_TIMEOUT_MS = 500
ZDT_DEPRECATION_CYCLES = 3
ZDT_LARGE_TABLE_ROWS = 1_000_000
# Deploy cycles at least this many seconds apart (default 600). The lifecycle demo deploys
# its releases seconds apart and sets ZDT_MIN_CYCLE_INTERVAL=0 in its environment.
ZDT_MIN_CYCLE_INTERVAL = float(os.environ.get("ZDT_MIN_CYCLE_INTERVAL", "600"))

# Server errors go to stderr (the server's log) even with DEBUG off: the lifecycle demo
# shows the log of a release whose requests failed.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
