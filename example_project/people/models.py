"""Release 1 of the seed's scenario: a person with ``first_name`` and ``last_name``."""

from django.db import models


class Person(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"
