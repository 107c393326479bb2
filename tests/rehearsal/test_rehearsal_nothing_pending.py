"""Rehearsal with every migration applied (its own module: test_rehearsal installs an app
with pending migrations for the length of its module)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_nothing_pending_exits_0() -> None:
    out = StringIO()
    call_command("safemigrate", "--rehearse", stdout=out)
    assert "No migrations to rehearse." in out.getvalue()


def _start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
    return lambda data: None


@pytest.mark.django_db
def test_refused_in_a_web_process() -> None:
    """Rehearsal runs schema changes (rolled back), so the runtime guard applies to it too."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    from django_zero_downtime.guard import runtime as guard

    environ = RequestFactory().get("/no-such-page").environ
    WSGIHandler()(environ, _start_response)
    err = StringIO()
    try:
        with pytest.raises(SystemExit) as exit_info:
            call_command("safemigrate", "--rehearse", stderr=err)
    finally:
        guard._served.clear()
    assert exit_info.value.code == 3
    assert "safemigrate --rehearse" in err.getvalue()
