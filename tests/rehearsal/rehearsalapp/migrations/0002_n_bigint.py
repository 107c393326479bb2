from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rehearsalapp", "0001_initial")]
    operations = [migrations.AlterField("big", "n", models.BigIntegerField())]
