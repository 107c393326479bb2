import django_zero_downtime.operations
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("zdtapp", "0001_initial"),
        ("django_zero_downtime", "0001_initial"),
    ]
    operations = [
        django_zero_downtime.operations.DualWriteRename(
            model_name="Person", old_name="last_name", new_name="surname", batch_size=2
        ),
        django_zero_downtime.operations.AddColumnWithDefault(
            model_name="Person",
            name="nickname",
            field=models.CharField(default="none", max_length=20),
        ),
    ]
