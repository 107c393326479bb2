"""The ledger: what safemigrate remembers between deploys.

- :class:`DeployCycle`: one row per release label (``safemigrate --release``, or seen serving).
  The rows that count (``not_counted`` empty) are the deploy-cycle counter that gates drops.
- :class:`ServingProcess`: a web process seen serving a release (its heartbeat).
- :class:`Deprecation`: a column or table taken out of use, and the cycle in which it was.
- :class:`BackfillProgress`: where a batched backfill got to, so a crash resumes, not restarts.

The tables are created by this app's own migrations, which are written to be safe
themselves (new tables only).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

from django_zero_downtime.conf import RELEASE_MAX_LENGTH


class DeployCycle(models.Model):
    """A release label seen by ``safemigrate --release`` or seen serving; a deploy cycle
    unless ``not_counted`` says why not (docs/deploy.md#deploy-cycles)."""

    release = models.CharField(max_length=RELEASE_MAX_LENGTH, unique=True)
    started_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)
    report = models.JSONField(null=True, blank=True)
    not_counted = models.TextField(
        null=True, blank=True, help_text="Why this release is not (yet) a deploy cycle."
    )
    served_at = models.DateTimeField(
        null=True, blank=True, help_text="When it counted as a release seen serving."
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"cycle {self.pk}: {self.release}"


class ServingProcess(models.Model):
    """A web process seen serving a release: written at its start and on its heartbeat."""

    release = models.CharField(max_length=RELEASE_MAX_LENGTH)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    first_seen = models.DateTimeField(db_default=Now())
    last_seen = models.DateTimeField(db_default=Now())
    maps = models.JSONField(
        null=True, blank=True, help_text="{table: [columns]} the release's models map."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "host", "pid"], name="zdt_serving_uniq")
        ]

    def __str__(self) -> str:
        return f"release {self.release} on {self.host} pid {self.pid}"


class Deprecation(models.Model):
    """A column (or a whole table) that code no longer uses and that will be dropped later."""

    class Kind(models.TextChoices):
        COLUMN = "column"
        TABLE = "table"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    table = models.CharField(max_length=63, help_text="Table name as in the database.")
    column = models.CharField(max_length=63, blank=True, default="", db_default="")
    app_label = models.CharField(max_length=100)
    migration = models.CharField(max_length=255)
    deprecated_in_cycle = models.IntegerField(
        help_text="Value of the deploy-cycle counter when the deprecation was applied."
    )
    deprecated_at = models.DateTimeField(db_default=Now())
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "table", "column"], name="zdt_deprecation_uniq")
        ]

    def __str__(self) -> str:
        target = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.kind} {target} (deprecated in cycle {self.deprecated_in_cycle})"


class BackfillProgress(models.Model):
    """Progress of one batched backfill, keyed by a stable name of the operation."""

    key = models.CharField(max_length=255, unique=True)
    table = models.CharField(max_length=63)
    last_pk = models.JSONField(null=True, blank=True, help_text="Last primary key done.")
    max_pk = models.JSONField(null=True, blank=True, help_text="Highest key when started.")
    rows_done = models.BigIntegerField(default=0, db_default=0)
    started_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.BigIntegerField(
        null=True, blank=True, help_text="Rows to visit, counted when the run started."
    )
    pause_requested = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Set by `manage.py backfill pause`: the run waits after its current batch.",
    )
    target_ms = models.IntegerField(
        null=True, blank=True, help_text="Batch time target set by `manage.py backfill target`."
    )

    def __str__(self) -> str:
        state = "done" if self.finished_at else f"at {self.last_pk}"
        return f"backfill {self.key}: {self.rows_done} rows, {state}"
