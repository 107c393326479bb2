#!/bin/sh
# Anti-pattern: the container's entrypoint migrates, then starts the web server.
set -e
until pg_isready -h "$DB_HOST"; do sleep 1; done
python manage.py migrate --noinput && gunicorn site_conf.wsgi --bind 0.0.0.0:8000  # ANTI-PATTERN
