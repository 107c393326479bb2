"""``shop`` on ``default``, ``audit`` on ``other``, the ledger (and the rest) everywhere."""

from __future__ import annotations

from typing import Any

HOME = {"shop": "default", "audit": "other"}


class Router:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return HOME.get(model._meta.app_label)

    db_for_write = db_for_read

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        home = HOME.get(app_label)
        return None if home is None else db == home
