"""Deploy cycles from releases seen serving (issue 15).

A new table and two nullable columns without defaults: catalog-only at any size.
"""

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_zero_downtime", "0002_backfill_control"),
    ]

    operations = [
        migrations.AddField(
            model_name="deploycycle",
            name="not_counted",
            field=models.TextField(
                blank=True, help_text="Why this release is not (yet) a deploy cycle.", null=True
            ),
        ),
        migrations.AddField(
            model_name="deploycycle",
            name="served_at",
            field=models.DateTimeField(
                blank=True, help_text="When it counted as a release seen serving.", null=True
            ),
        ),
        migrations.CreateModel(
            name="ServingProcess",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("release", models.CharField(max_length=200)),
                ("host", models.CharField(max_length=255)),
                ("pid", models.IntegerField()),
                ("first_seen", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("last_seen", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("maps", models.JSONField(blank=True, help_text="{table: [columns]} the release's models map.", null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("release", "host", "pid"), name="zdt_serving_uniq")
                ],
            },
        ),
    ]
