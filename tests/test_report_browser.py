"""Read the campaign report as a reader would: headless Chromium opens report.html.

Playwright drives Debian's Chromium (`helpers_browser`): open the file, wait for the load event, then ask the page
whether every chart image decoded (``naturalWidth > 0``), collect console errors and uncaught exceptions, and keep a
screenshot in the test's temporary folder. Skipped only when Chromium is absent (`.ci/run` installs Debian's
chromium package).
"""

from __future__ import annotations

import pytest
from helpers_browser import chromium, needs_chromium, page_errors
from helpers_run import shared_run

IMAGES_JS = """() => ({
  lang: document.documentElement.lang,
  title: document.title,
  images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth}))
})"""

pytestmark = [pytest.mark.timeout(600), needs_chromium]


def test_report_opens_in_chromium_with_every_chart_and_no_console_error(tmp_path_factory, tmp_path):
    run_dir = shared_run(tmp_path_factory)
    report = run_dir / "report.html"
    with chromium(viewport={"width": 1280, "height": 2000}) as browser:
        page = browser.new_page()
        errors = page_errors(page)
        page.goto(report.resolve().as_uri(), wait_until="load")
        seen = page.evaluate(IMAGES_JS)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'report.png'}")
    assert seen["lang"] == "vi"
    assert "Báo cáo chiến dịch" in seen["title"]
    charts = sorted(p.name for p in (run_dir / "charts").glob("*.png"))
    assert len(seen["images"]) == len(charts) >= 10
    broken = [img["alt"] for img in seen["images"] if not img["complete"] or img["width"] <= 0]
    assert broken == []
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
