"""The wsgi.py anti-pattern, for real: migrate when gunicorn imports the application."""

import os

from django.core.management import call_command
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")
application = get_wsgi_application()
call_command("migrate", interactive=False, verbosity=0)
