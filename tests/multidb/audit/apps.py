from django.apps import AppConfig


class Config(AppConfig):
    name = "tests.multidb.audit"
    label = "audit"
