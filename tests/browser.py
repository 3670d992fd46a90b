"""A real Chromium for the browser tests (Debian's package, driven by Playwright).

The Playwright wheel brings no browser and must not download one: it launches the
system's ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it).
Where it is missing the browser tests skip with the reason — except under CI, where
they fail. ``MEASURES_TEST_CHROMIUM`` points at another binary.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.reports.render.pdf import CHROMIUM_FLAGS
from tests.conftest import missing

CHROMIUM = Path(os.environ.get("MEASURES_TEST_CHROMIUM", "/usr/bin/chromium"))
#: Screenshots and other files a person may want to look at after a run.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def unavailable(reason: str) -> None:
    missing("Chromium", reason)


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium for one test.

    Not shared across the session: Playwright's sync API keeps an event loop running in
    the main thread while it is open, and later tests call ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()
