"""``sqlmigrate``, with this product's refusals as messages: an operation that refuses itself
while its SQL is collected (a drop whose deploy cycles have not passed, ``ZDT403``) says why
and exits 1, instead of a traceback. Otherwise Django's ``sqlmigrate`` unchanged."""

from __future__ import annotations

from django.core.management.commands.sqlmigrate import Command as DjangoSqlMigrateCommand

from django_zero_downtime.management.commands.migrate import ErrorsAsMessages


class Command(ErrorsAsMessages, DjangoSqlMigrateCommand):
    help = DjangoSqlMigrateCommand.help
