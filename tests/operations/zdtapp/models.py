"""Release 2 of the seed's Person, for the end-to-end migration test."""

from django.db import models


class Person(models.Model):
    first_name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    nickname = models.CharField(max_length=20, default="none")

    class Meta:
        app_label = "zdtapp"
