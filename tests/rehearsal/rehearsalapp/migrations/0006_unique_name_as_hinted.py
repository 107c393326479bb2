# What the ZDT110 hint recommends: build the unique index concurrently, then attach it.
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("rehearsalapp", "0005_index_name")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    "big", models.UniqueConstraint(fields=["n"], name="big_n_uniq")
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    'CREATE UNIQUE INDEX CONCURRENTLY "big_n_uniq" ON "rehearsalapp_big" ("n")',
                    'DROP INDEX IF EXISTS "big_n_uniq"',
                ),
                migrations.RunSQL(
                    'ALTER TABLE "rehearsalapp_big" ADD CONSTRAINT "big_n_uniq" UNIQUE '
                    'USING INDEX "big_n_uniq"',
                    'ALTER TABLE "rehearsalapp_big" DROP CONSTRAINT IF EXISTS "big_n_uniq"',
                ),
            ],
        ),
        migrations.RunSQL(
            'CREATE UNIQUE INDEX CONCURRENTLY "big_id_note" ON ONLY rehearsalapp_big (id, note)',
            'DROP INDEX IF EXISTS "big_id_note"',
        ),
        migrations.RunSQL(
            'ALTER TABLE "rehearsalapp_big" ADD CONSTRAINT "big_id_note" UNIQUE '
            'USING INDEX "big_id_note"',
            'ALTER TABLE "rehearsalapp_big" DROP CONSTRAINT IF EXISTS "big_id_note"',
        ),
    ]
