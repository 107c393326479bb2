"""pytest plugin (entry point ``pytest11``): fixtures for testing migrations.

Registered for every project that installs django-zero-downtime; it defines fixtures
only and does nothing unless a test asks for one of them.
"""
