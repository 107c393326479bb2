"""Runtime guard: migrations never run inside a process that serves web requests.

:func:`refuse_if_web_process` is called by ``safemigrate`` and ``migrate`` before they touch
the schema. (Stub until the guard lands: it allows everything.)
"""

from __future__ import annotations


def refuse_if_web_process(command: str = "migrate") -> None:
    """Raise ``MigrationInWebProcessError`` when this process serves web requests."""
    return None
