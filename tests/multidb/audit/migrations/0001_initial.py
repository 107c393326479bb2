from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("django_zero_downtime", "0002_backfill_control")]
    operations = [
        migrations.CreateModel(
            name="Entry",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("who", models.CharField(max_length=50)),
                ("copy", models.CharField(max_length=50, null=True)),
            ],
        ),
    ]
