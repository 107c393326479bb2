from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("django_zero_downtime", "0001_initial")]
    operations = [
        migrations.CreateModel(
            "Person",
            [
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("last_name", models.CharField(max_length=50)),
            ],
        ),
        migrations.CreateModel(
            "Legacy", [("id", models.BigAutoField(primary_key=True, serialize=False))]
        ),
    ]
