"""Settings shared by the throwaway projects (each adds BASE_DIR and its own bits)."""

import os

SECRET_KEY = "throwaway-project"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django_zero_downtime"]
WSGI_APPLICATION = "site_conf.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("ZDT_PROJECT_DB", "zdt_project_unused"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": os.environ.get("ZDT_PROJECT_DB_PORT", "5432"),
    }
}
