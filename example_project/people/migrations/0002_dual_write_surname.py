# Release 2 (expand): add ``surname``, keep it equal to ``last_name`` with a database trigger
# whichever column a release writes, and copy the existing rows in batches.

import django_zero_downtime.operations
from django.db import migrations


class Migration(migrations.Migration):
    # The backfill commits batch by batch, so this migration is not one transaction.
    atomic = False

    dependencies = [
        ("django_zero_downtime", "0001_initial"),  # the ledger records the deprecation
        ("people", "0001_initial"),
    ]

    operations = [
        django_zero_downtime.operations.DualWriteRename(
            model_name="person", old_name="last_name", new_name="surname", batch_size=1000
        ),
    ]
