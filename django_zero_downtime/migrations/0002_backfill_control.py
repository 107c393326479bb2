"""Backfill control from another shell (pause, batch target) and the count of rows to do.

Nullable columns and a constant default: catalog-only on PostgreSQL 11+.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_zero_downtime", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="backfillprogress",
            name="rows_total",
            field=models.BigIntegerField(
                blank=True, help_text="Rows to visit, counted when the run started.", null=True
            ),
        ),
        migrations.AddField(
            model_name="backfillprogress",
            name="pause_requested",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Set by `manage.py backfill pause`: the run waits after its current batch.",
            ),
        ),
        migrations.AddField(
            model_name="backfillprogress",
            name="target_ms",
            field=models.IntegerField(
                blank=True, help_text="Batch time target set by `manage.py backfill target`.", null=True
            ),
        ),
    ]
