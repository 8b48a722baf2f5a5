"""Headless Chromium for the browser tests: where it lives and how tests are marked."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("RETAILAI_SCREENSHOTS", ROOT / "var" / "screenshots"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PASSWORD = "pass-word-123"  # the factories' password

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="headless Chromium not installed (apt-get install chromium chromium-driver)",
    ),
]


def browser_test(fn):
    """Mark a test as a browser test, skipped where headless Chromium is not installed."""
    for mark in BROWSER_MARKS:
        fn = mark(fn)
    return fn
