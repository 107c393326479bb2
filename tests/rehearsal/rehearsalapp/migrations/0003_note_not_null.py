from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rehearsalapp", "0002_n_bigint")]
    operations = [migrations.AlterField("big", "note", models.CharField(max_length=50, default=""))]
