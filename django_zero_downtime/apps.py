from django.apps import AppConfig


class ZeroDowntimeConfig(AppConfig):
    """Registers the system checks and installs the web-process guard; nothing else.

    The guard must be in place before any request or migration can run, and ``ready()`` is
    the one hook Django calls in every process (web server, ``manage.py``, tests) before
    either can happen. It touches no database (docs/architecture.md, "Guard"); in a web
    process with ``ZDT_RELEASE`` set it starts the release heartbeat's thread, which
    reports the release with one short DML statement per beat (guard/heartbeat.py).
    """

    name = "django_zero_downtime"
    label = "django_zero_downtime"
    verbose_name = "Zero-downtime migrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_zero_downtime import checks  # noqa: F401  (registers the checks)
        from django_zero_downtime.guard import runtime

        runtime.install()
