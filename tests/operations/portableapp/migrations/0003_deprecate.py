import django_zero_downtime.operations
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("portableapp", "0002_expand")]
    operations = [
        django_zero_downtime.operations.CompleteDualWriteRename("Person", "last_name", "surname"),
        django_zero_downtime.operations.DeprecateColumn("Person", "nickname"),
        django_zero_downtime.operations.DeprecateTable("Legacy"),
    ]
