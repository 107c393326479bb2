# Release 4 (contract): drop the trigger and ``last_name``. Refused by the deploy-cycle gate
# until ZDT_DEPRECATION_CYCLES releases have been deployed since release 2.

import django_zero_downtime.operations
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("people", "0002_dual_write_surname"),
    ]

    operations = [
        django_zero_downtime.operations.CompleteDualWriteRename(
            model_name="person", old_name="last_name", new_name="surname"
        ),
    ]
