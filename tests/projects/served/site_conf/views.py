"""Views of the project a real gunicorn serves in tests/guard/test_served.py.

Two views try to migrate from inside a request, one through ``call_command("migrate")``
(Django's own command), one through ``MigrationExecutor.migrate``. Both report what
happened; the guard's refusal comes back as 409 with its message.
"""

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse

from django_zero_downtime.exceptions import MigrationInWebProcessError


def _refused(exc):
    return HttpResponse(f"{type(exc).__name__}: {exc}", status=409, content_type="text/plain")


def migrate_command(request):
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except MigrationInWebProcessError as exc:
        return _refused(exc)
    return HttpResponse("migrated", content_type="text/plain")


def migrate_with_executor(request):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(executor.loader.graph.leaf_nodes())
    except MigrationInWebProcessError as exc:
        return _refused(exc)
    return HttpResponse("migrated", content_type="text/plain")


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        applied = cursor.fetchone()[0]
    return JsonResponse({"status": "ok", "applied_migrations": applied})
