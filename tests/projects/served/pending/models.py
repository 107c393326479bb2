from django.db import models


class Thing(models.Model):
    """Its migration is left unapplied: the web process must not be able to apply it."""

    name = models.CharField(max_length=50)
