from django.db import migrations
from django.db.models import F

import django_zero_downtime.operations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("audit", "0001_initial")]
    operations = [
        django_zero_downtime.operations.BatchedBackfill("Entry", {"copy": F("who")}),
        django_zero_downtime.operations.DualWriteRename("Entry", "who", "author"),
    ]
