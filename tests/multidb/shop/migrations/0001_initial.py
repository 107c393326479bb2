from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("django_zero_downtime", "0002_backfill_control")]
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("amount", models.IntegerField()),
                ("total", models.IntegerField(null=True)),
            ],
        ),
    ]
