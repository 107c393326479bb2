from django.apps import AppConfig


class RehearsalAppConfig(AppConfig):
    """Test-only app with a big table and migrations to rehearse (installed per test module)."""

    name = "tests.rehearsal.rehearsalapp"
    label = "rehearsalapp"
    default_auto_field = "django.db.models.BigAutoField"
