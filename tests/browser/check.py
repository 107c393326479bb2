"""What the browser tests assert about an HTML report page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import Page, chromium

BARS = "document.querySelectorAll('#timeline .barlayer .trace .point').length"
TRACES = "document.getElementById('timeline').data.map(t => [t.type, t.name, t.x.length])"


def open_report(path: Path) -> dict[str, Any]:
    """Load ``path`` in headless Chromium: console errors, bars drawn, traces plotted."""
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (`apt-get install chromium`; .ci/run does it)")
    page = Page(binary)
    try:
        page.open(path)
        bars = page.evaluate(BARS)
        traces = page.evaluate(TRACES)
        verdict = page.evaluate("document.getElementById('verdict').textContent")
        return {"errors": list(page.errors), "bars": bars, "traces": traces, "verdict": verdict}
    finally:
        page.close()
