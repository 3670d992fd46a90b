"""A real Chromium for the report tests (Debian's package, driven by Playwright).

The Playwright wheel brings no browser and must not download one: it launches the
system's ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it).
Where it is missing the browser tests skip with the reason — except under CI, where
they fail. ``MEASURES_TEST_CHROMIUM`` points at another binary.

(The web app's branch brings a browser fixture of its own; the two are to be merged
into one when both land.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("MEASURES_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Screenshots and other files a person may want to look at after a run.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Chromium is required under CI: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def report_browser() -> Iterator[Any]:
    """A headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
