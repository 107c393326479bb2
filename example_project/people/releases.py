"""The four releases of the seed's rename, as four states of one app.

``RELEASE=1..4`` in the environment picks the release a process runs as (unset: the latest).
A real project ships each release as its own build; here one checkout holds all four so that
two releases can serve side by side (blue/green) from the same code tree.

======  ============================  ==================  ==========================
release reads the family name from    writes it to        schema it migrates to
======  ============================  ==================  ==========================
1       ``last_name``                 ``last_name``       ``0001_initial``
2       ``last_name``                 both columns        ``0002`` DualWriteRename
3       ``surname``                   ``surname``         none: the schema stays at 0002
4       ``surname``                   ``surname``         ``0003`` CompleteDualWriteRename
======  ============================  ==================  ==========================

``DualWriteRename`` copies the existing rows in batches itself, and
``CompleteDualWriteRename`` copies any straggler before it drops ``last_name`` (the
requirements' "final migration"), so release 3 changes no schema: its pre-step only records
its deploy cycle.

While both columns exist, the database trigger installed by ``DualWriteRename`` keeps them
equal whichever one a release writes, so every release can take traffic back from the next.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

ENV_VAR = "RELEASE"


@dataclass(frozen=True)
class Release:
    """What one release of the people app reads, writes and migrates to."""

    number: int
    reads: str
    writes: tuple[str, ...]
    migration: str
    """The people migration the schema must be at for this release (the pre-step's target)."""
    summary: str

    @property
    def label(self) -> str:
        """The deploy-cycle label given to ``safemigrate --release``."""
        return f"r{self.number}"

    @property
    def columns(self) -> frozenset[str]:
        """Family-name columns this release's model declares."""
        return frozenset((self.reads, *self.writes))


RELEASES: tuple[Release, ...] = (
    Release(1, "last_name", ("last_name",), "0001_initial", "reads and writes last_name"),
    Release(
        2,
        "last_name",
        ("last_name", "surname"),
        "0002_dual_write_surname",
        "writes both columns, reads last_name",
    ),
    Release(3, "surname", ("surname",), "0002_dual_write_surname", "reads and writes surname"),
    Release(4, "surname", ("surname",), "0003_drop_last_name", "surname only; last_name dropped"),
)
LATEST = RELEASES[-1]


def release(number: int) -> Release:
    """The release with this number; ``ImproperlyConfigured`` naming the valid ones if none."""
    for candidate in RELEASES:
        if candidate.number == number:
            return candidate
    valid = ", ".join(str(r.number) for r in RELEASES)
    raise ImproperlyConfigured(f"{ENV_VAR}={number} is not a release of the example: use {valid}.")


def parse_release(raw: str | None) -> Release:
    """Pure: the release named by the environment value ``raw`` (``None`` or empty: latest)."""
    if raw is None or not raw.strip():
        return LATEST
    try:
        number = int(raw.strip().removeprefix("r"))
    except ValueError:
        raise ImproperlyConfigured(
            f"{ENV_VAR}={raw!r} is not a release number: use 1, 2, 3 or 4."
        ) from None
    return release(number)


def current_release() -> Release:
    """The release this process runs as, from ``$RELEASE``."""
    return parse_release(os.environ.get(ENV_VAR))
