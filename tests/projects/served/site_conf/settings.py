from pathlib import Path

from base_settings import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS = [*INSTALLED_APPS, "pending"]  # noqa: F405
ROOT_URLCONF = "site_conf.urls"
