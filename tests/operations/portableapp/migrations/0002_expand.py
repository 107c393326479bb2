import django_zero_downtime.operations
from django.db import migrations, models
from django.db.models import Value


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("portableapp", "0001_initial")]
    operations = [
        django_zero_downtime.operations.AddColumnWithDefault(
            "Person", "nickname", models.CharField(default="none", max_length=20)
        ),
        django_zero_downtime.operations.DualWriteRename("Person", "last_name", "surname"),
        django_zero_downtime.operations.BatchedBackfill(
            "Person", {"nickname": Value("filled")}, batch_size=1
        ),
    ]
