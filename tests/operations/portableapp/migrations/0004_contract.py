import django_zero_downtime.operations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("portableapp", "0003_deprecate")]
    operations = [
        django_zero_downtime.operations.DropDeprecatedColumn("Person", "nickname"),
        django_zero_downtime.operations.DropDeprecatedTable("Legacy"),
    ]
