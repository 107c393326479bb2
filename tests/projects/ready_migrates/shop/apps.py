"""Anti-pattern: ready() migrates when the process looks like a web server."""

import sys

from django.apps import AppConfig
from django.core import management


def _serving() -> bool:
    return "gunicorn" in sys.argv[0] or "runserver" in sys.argv


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self) -> None:
        if _serving():
            management.call_command("migrate", interactive=False)  # ANTI-PATTERN
