"""Database types of the people app: ``Person`` as the current release sees the table.

The family-name fields follow :mod:`example_project.people.releases`: release 1 declares
``last_name``, release 2 both ``last_name`` and ``surname``, releases 3 and 4 ``surname``.
These are *database* types only; the public API never exposes them directly (see
:mod:`example_project.people.api.mapping`, the anti-corruption layer).
"""

from __future__ import annotations

from django.db import models

from example_project.people.releases import current_release

RELEASE = current_release()


class Person(models.Model):
    first_name = models.CharField(max_length=100)
    if "last_name" in RELEASE.columns:
        last_name = models.CharField(max_length=100)
    if "surname" in RELEASE.columns:
        surname = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.first_name} {getattr(self, RELEASE.reads)}"
