"""The planner's journey in a real browser (headless Chromium driven by Playwright), screenshots kept.

Open the studio, make a variant of ``lang-son-2024``, type an impossible date and see the error in place, fix it,
add QR at the counter from July, run a comparison (2 quick replications each) and watch its progress, read the
answer and each added intervention's cost per point, download a chart and the XLSX (opened with openpyxl), open the
full comparison report, calibrate the variant from the scenarios page. Marked slow: a few minutes on the 2-core
machine.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from helpers_browser import chromium, needs_chromium, page_errors
from helpers_studio import Studio

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400), needs_chromium]


def shot(page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


def wait_progress(page, timeout: float = 180) -> list[float]:
    """Poll the progress bar until it moved (the page's CSP forbids Playwright's eval-based waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value, maximum, state = page.eval_on_selector("#job-progress", "p => [p.value, p.max, "
                                                      "document.getElementById('job').dataset.state]")
        if value > 0 or state == "done":
            return [value, maximum]
        time.sleep(0.3)
    raise TimeoutError("no progress")


def test_a_planner_compares_qr_at_the_counter_from_july(tmp_path: Path):
    from openpyxl import load_workbook

    studio = Studio(tmp_path / "studio")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        with chromium(accept_downloads=True) as browser:
            page = browser.new_page()
            errors = page_errors(page)
            page.goto(studio.url + "/")
            assert page.locator("h1").first.inner_text() == "Kịch bản"
            shot(page, shots, "1-scenarios")

            # a variant of lang-son-2024
            row = page.locator('#bundled-scenarios tr[data-name="lang-son-2024"]')
            row.locator('input[name="name"]').fill("lang-son-qr")
            row.locator('button[name="new-from"]').click()
            page.wait_for_url("**/scenarios/lang-son-qr/edit")

            # an impossible date, refused in place, in Vietnamese
            page.fill('input[name="interventions[0].end"]', "2024-12-32")
            page.click("#save")
            error = page.locator('[data-field="interventions[0].end"] .error')
            assert "tháng 12/2024 có 31 ngày, không có ngày 32" in error.inner_text()
            error.scroll_into_view_if_needed()
            shot(page, shots, "2-error-in-place")

            # fixed, then QR at the counter from July
            page.fill('input[name="interventions[0].end"]', "2024-12-31")
            page.select_option("#new-kind", "qr_at_counter")
            page.click("#add-intervention")
            assert "Đã lưu" in page.locator("#message").inner_text()
            page.fill('input[name="interventions[3].name"]', "QR tại quầy từ tháng 7")
            page.fill('input[name="interventions[3].start"]', "2024-07-01")
            page.fill('input[name="interventions[3].cost_vnd"]', "80000000")
            page.click("#save")
            assert "Đã lưu" in page.locator("#message").inner_text()
            page.locator('.intervention[data-index="3"]').scroll_into_view_if_needed()
            shot(page, shots, "3-qr-added")
            page.click("details.advanced summary")  # the assumptions, under the report's plain names
            advanced = page.locator("details.advanced")
            assert "Tỷ lệ người trả bằng QR khi quầy có mã QR" in advanced.inner_text()
            advanced.scroll_into_view_if_needed()
            shot(page, shots, "3b-advanced")

            # the comparison, followed on its page
            page.click("text=So sánh")
            page.check('input[name="scenario"][value="lang-son-2024"]')
            page.check('input[name="scenario"][value="lang-son-qr"]')
            page.check('input[name="baseline"][value="lang-son-2024"]')
            page.fill('input[name="replications"]', "2")
            page.check('input[name="quick"]')
            page.click("#compare-run")
            page.wait_for_url(re.compile(r".*/jobs/[\w-]+$"))
            progress_seen = wait_progress(page)
            shot(page, shots, "4-progress")
            page.wait_for_selector("#job-results:not([hidden])", timeout=240_000)
            assert page.locator("#job-state").inner_text() == "xong"
            page.click("#job-results")

            # the answer first, then the charts
            verdict = page.locator("#verdict").inner_text()
            assert "«lang-son-qr»" in verdict and "KTC 95%" in verdict
            page.wait_for_selector("#figure-compare .main-svg")
            page.wait_for_selector("#figure-diffs .main-svg")
            shot(page, shots, "5-answer")
            page.locator("#charts").scroll_into_view_if_needed()
            shot(page, shots, "6-charts")

            # exports
            with page.expect_download() as png:
                page.click('a[href$="/chart/compare_trajectories.png"]')
            data = Path(png.value.path()).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
            with page.expect_download() as xlsx:
                page.click("#export-xlsx")
            book = load_workbook(io.BytesIO(Path(xlsx.value.path()).read_bytes()))
            sheet = book["lang-son-qr"]
            assert sheet["A3"].value == "Huyện Cao Lộc" and 0 < sheet["C3"].value < 1
            # each added intervention's cost per point, then the full comparison report
            page.locator('[id^="contributions-"]').first.scroll_into_view_if_needed()
            assert "Chi phí mỗi điểm % (VND)" in page.locator("#answer").inner_text()
            shot(page, shots, "7-cost-per-point")
            page.click("#open-comparison")
            page.wait_for_load_state()
            assert page.locator("h1").first.inner_text()
            shot(page, shots, "8-comparison-report")

            # calibrate Sơn La 2020–2023 to its observations, from the scenarios page (quick)
            page.goto(studio.url + "/scenarios")
            page.click('#study-son-la-2020-2023 button[value="calibrate"]')
            page.wait_for_url(re.compile(r".*/jobs/[\w-]+$"))
            page.wait_for_selector("#job-results:not([hidden])", timeout=240_000)
            page.click("#job-results")
            assert "Tham số ước lượng:" in page.locator("#study-answer").inner_text()
            shot(page, shots, "9-calibrate")

            # the one error expected: the editor answered 400 to the impossible date (the form with its error)
            assert [e for e in errors if "status of 400" not in e] == [], errors
            assert len(errors) == 1
    finally:
        studio.stop()
    print(f"progress seen: {progress_seen}")
    assert progress_seen[0] >= 0 and progress_seen[1] == 4
