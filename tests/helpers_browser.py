"""Headless Chromium for the browser tests, driven by Playwright for Python.

Debian's chromium (``/usr/lib/chromium/chromium``; `.ci/run` installs the package) is launched through Playwright's
``executable_path``, so Playwright never downloads a browser (``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1``). `page_errors`
collects console errors and uncaught exceptions as they happen.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/lib/chromium/chromium")
ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"chromium is not installed at {CHROMIUM} (apt-get install -y "
                                  "--no-install-recommends chromium; .ci/run does it in CI)")


@contextlib.contextmanager
def chromium(**context: Any) -> Iterator[Any]:
    """A fresh browser context of headless Chromium (closed afterwards)."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(ARGS))
        try:
            ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context})
            yield ctx
            ctx.close()
        finally:
            browser.close()


def page_errors(page: Any) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text[:300]) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)[:300]))
    return errors
