from django.db import models


class Entry(models.Model):
    author = models.CharField(max_length=50)
    copy = models.CharField(max_length=50, null=True)
