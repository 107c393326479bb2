from django.apps import AppConfig


class RappConfig(AppConfig):
    """A test app whose migrations each test writes (MIGRATION_MODULES points at them)."""

    name = "tests.runner.rapp"
    label = "rapp"
    default_auto_field = "django.db.models.BigAutoField"
