"""The lifecycle demo: the seed's four-release rename rehearsed under live traffic.

``python manage.py lifecycle_demo`` drives it; the logic lives in these plain modules:

- :mod:`.plan`: the steps and phases (pure data);
- :mod:`.database`: the demo's own database and the consistency check;
- :mod:`.migrations`: ``safemigrate`` as the deploy pre-step, and its report;
- :mod:`.servers`: releases as real gunicorn processes on loopback ports;
- :mod:`.traffic`: the bounded traffic driver and its latency statistics;
- :mod:`.table`: the per-step tables;
- :mod:`.runner`: the orchestration.
"""
