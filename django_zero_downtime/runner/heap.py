"""Fewer cyclic garbage collections while ``safemigrate`` plans and applies a history.

Replaying and rendering project states allocates millions of objects that live as long as
the run (model states, fields, rendered apps), and with CPython's default thresholds
(700, 10, 10) the cyclic collector runs thousands of times over them: on a 185-migration
history (wagtail + taggit + contrib, ``benchmarks/apply_history.py``) 1.9-2.2 s of a
7-8 s process, for Django's ``migrate`` as for us. With :data:`THRESHOLDS` during the run
the process spends about 1.1 s in it (384 collections instead of ~1,900, most of those
left in start-up, before the run). Reference counting still
frees everything at once; only garbage in reference cycles waits a little longer, a few
megabytes at most. The project's own thresholds are restored when the run ends (tests
call the command in-process).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (50_000, 20, 20)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds to :data:`THRESHOLDS` for the block (never lower)."""
    before = gc.get_threshold()
    gc.set_threshold(*(max(ours, theirs) for ours, theirs in zip(THRESHOLDS, before, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
