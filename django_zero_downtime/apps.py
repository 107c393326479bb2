from django.apps import AppConfig


class ZeroDowntimeConfig(AppConfig):
    """Registers the system checks; nothing else happens at start-up (design.md §2)."""

    name = "django_zero_downtime"
    label = "django_zero_downtime"
    verbose_name = "Zero-downtime migrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_zero_downtime import checks  # noqa: F401  (registers the checks)
