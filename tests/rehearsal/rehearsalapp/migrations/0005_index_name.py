from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("rehearsalapp", "0004_widen_name")]
    operations = [
        AddIndexConcurrently("big", models.Index(fields=["name"], name="big_name_idx")),
    ]
