from django.db import migrations
from django.db.models import F

import django_zero_downtime.operations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("shop", "0001_initial")]
    operations = [
        django_zero_downtime.operations.BatchedBackfill("Order", {"total": F("amount")}),
        django_zero_downtime.operations.DualWriteRename("Order", "amount", "price"),
    ]
