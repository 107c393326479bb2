import django_zero_downtime.operations
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("zdtapp", "0002_rename_last_name_person_surname")]
    operations = [
        django_zero_downtime.operations.CompleteDualWriteRename(
            model_name="Person", old_name="last_name", new_name="surname"
        ),
    ]
