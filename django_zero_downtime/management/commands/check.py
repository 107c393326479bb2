"""``manage.py check``, judging: a new unsafe migration is the error ``zdt.E010`` here.

Django's ``check`` unchanged, except that run from the command line (CI) it judges every
migration (:mod:`django_zero_downtime.lint.gate`). Everywhere else (other commands' own
check runs, the test runner's ``call_command("check")``) the same finding is the warning
``zdt.W011``. To judge from code: ``with gate.judging(): call_command("check")``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.check import Command as DjangoCheckCommand

from django_zero_downtime.lint import gate


class Command(DjangoCheckCommand):
    def handle(self, *app_labels: Any, **options: Any) -> Any:
        if not getattr(self, "_called_from_command_line", False):
            return super().handle(*app_labels, **options)
        with gate.judging():
            return super().handle(*app_labels, **options)
