#!/bin/sh
# Fine: the deploy pre-step migrates on its own and starts no server.
set -e
python manage.py safemigrate --release "$RELEASE"
