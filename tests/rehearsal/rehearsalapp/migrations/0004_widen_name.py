from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rehearsalapp", "0003_note_not_null")]
    operations = [migrations.AlterField("big", "name", models.CharField(max_length=200))]
