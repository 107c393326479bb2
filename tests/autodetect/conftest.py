from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.autodetect.harness import Project, make_project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    yield from make_project(tmp_path, "acc")


@pytest.fixture
def int_project(tmp_path: Path) -> Iterator[Project]:
    """A project whose primary keys are 32-bit integers (the widening scenario)."""
    yield from make_project(tmp_path, "acc")
