from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(
            "Big",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("n", models.IntegerField()),
                ("name", models.CharField(max_length=100)),
                ("note", models.CharField(max_length=50, null=True)),
            ],
        ),
    ]
