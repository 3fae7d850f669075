"""The studio's pages without a browser: a real server on a free loopback port, a client that keeps cookies.

Safety (access token, CSRF, request size, names from the page), offline assets, the editor's errors in place, a
comparison run as a background job through the same command as the command line, the answer and the paired
differences, the same-run offer, the run list (load tests read-only) and every export.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest
from helpers_studio import Studio

from motcua.run_layout import write_json
from motcua.studio.context import JOBS, plotly_js

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory):
    s = Studio(tmp_path_factory.mktemp("studio"))
    yield s
    s.stop()


def wait_job(studio: Studio, job_url: str, timeout: float = 240) -> dict:
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        status = studio.get(f"/jobs/{job_id}/status").json()
        seen.append((status["done"], status["total"]))
        if status["state"] not in ("queued", "running"):
            status["seen"] = seen
            return status
        time.sleep(0.5)
    raise TimeoutError(job_url)


@pytest.fixture(scope="module")
def comparison(studio: Studio) -> dict:
    """lang-son-2024 against a copy with QR at the counter from July, 2 replications each, quick."""
    r = studio.post("/scenarios/new", {"source": "lang-son-2024", "name": "ls-qr"})
    assert r.status_code == 200 and r.url.endswith("/scenarios/ls-qr/edit")
    r = studio.post("/scenarios/ls-qr/edit", {"action": "add_intervention", "new_kind": "qr_at_counter"})
    assert r.status_code == 200, r.text
    r = studio.post("/scenarios/ls-qr/edit", {"interventions[3].start": "2024-07-01",
                                              "interventions[3].cost_vnd": "80000000", "action": "save"})
    assert "Đã lưu" in r.text
    form = [("scenario", "lang-son-2024"), ("scenario", "ls-qr"), ("replications", "2"), ("quick", "1")]
    r = studio.post("/jobs", form)
    assert re.search(r"/jobs/[\w-]+$", r.url), r.text[:500]
    status = wait_job(studio, r.url)
    assert status["state"] == "done", status
    return {"status": status, "form": form, "job_url": r.url}


# --- safety -------------------------------------------------------------------------------------
def test_every_asset_comes_from_the_studio(studio: Studio):
    page = studio.get("/scenarios").text
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    plotly = studio.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and plotly.content == plotly_js().read_bytes()
    assert "script-src 'self'" in studio.get("/scenarios").headers["Content-Security-Policy"]
    assert studio.get("/static/../app.py").status_code == 404


def test_forms_need_the_session_csrf_token(studio: Studio):
    import requests

    stranger = requests.Session()
    r = stranger.post(studio.url + "/scenarios/new", data={"source": "lang-son-2024", "name": "x1"}, timeout=30)
    assert r.status_code == 403
    token = studio.csrf()
    r = stranger.post(studio.url + "/scenarios/new", data={"csrf": token, "source": "lang-son-2024", "name": "x2"},
                      timeout=30)
    assert r.status_code == 403  # another session's token
    r = studio.post("/scenarios/new", {"source": "lang-son-2024", "name": "x3"},
                    headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert not any((studio.workspace / f"x{i}.toml").exists() for i in (1, 2, 3))


def test_request_bodies_are_limited(studio: Studio):
    r = studio.post("/scenarios/new", {"source": "lang-son-2024", "name": "big", "pad": "x" * (2 << 20)})
    assert r.status_code == 413
    assert not (studio.workspace / "big.toml").exists()


@pytest.mark.parametrize("path", ["/scenarios/..%2F..%2Fetc%2Fpasswd/edit", "/scenarios/Lang Son/edit",
                                  "/runs/..%2F..%2F/x", "/runs/a/..", "/runs/x/y/chart/../../manifest.json"])
def test_names_from_the_page_never_reach_the_file_system_unchecked(studio: Studio, path: str):
    assert studio.get(path).status_code in (400, 404)


def test_new_from_refuses_a_path_as_name(studio: Studio):
    r = studio.post("/scenarios/new", {"source": "lang-son-2024", "name": "../outside"})
    assert r.status_code == 400
    assert not (studio.workspace.parent / "outside.toml").exists()


def test_an_office_network_studio_needs_its_token(tmp_path: Path):
    s = Studio(tmp_path, token="secret-token-123")
    try:
        assert s.get("/scenarios").status_code == 403
        assert s.get("/scenarios?token=wrong").status_code == 403
        first = s.get("/scenarios?token=secret-token-123")
        assert first.status_code == 200
        assert s.get("/runs").status_code == 200  # the cookie carries it from now on
        assert s.get("/static/studio.js").status_code == 200
    finally:
        s.stop()


# --- scenarios and editor -----------------------------------------------------------------------
def test_the_editor_shows_the_schema_error_in_place_in_vietnamese_then_english(studio: Studio):
    studio.post("/scenarios/new", {"source": "lang-son-2024", "name": "ls-dates"})
    before = (studio.workspace / "ls-dates.toml").read_text(encoding="utf-8")
    r = studio.post("/scenarios/ls-dates/edit", {"interventions[0].end": "2024-12-32", "action": "save"})
    assert r.status_code == 400
    field = re.search(r'data-field="interventions\[0\]\.end">.*?role="alert">([^<]+)<', r.text, re.S)
    assert field and field.group(1) == "2024-12-32: ngày không có thật: tháng 12/2024 có 31 ngày, không có ngày 32"
    assert 'value="2024-12-32"' in r.text  # what was typed stays in the field
    assert (studio.workspace / "ls-dates.toml").read_text(encoding="utf-8") == before
    r = studio.post("/scenarios/ls-dates/edit?lang=en", {"interventions[0].end": "2024-12-32"})
    assert "impossible date: December 2024 has 31 days, not 32" in r.text


def test_observations_upload_is_checked_by_the_calibration_reader(studio: Studio):
    from motcua.studio.workspace import MAX_OBSERVED_BYTES, Workspace

    assert studio.post("/scenarios/new", {"source": "lang-son-2024", "name": "ls-obs"}).status_code == 200
    kept = studio.workspace / "observed" / "ls-obs.csv"
    good = (Workspace.bundled_dir() / "observed" / "lang-son-2024.csv").read_text(encoding="utf-8")
    rows = len(good.strip().splitlines()) - 1
    r = studio.post("/scenarios/ls-obs/observed", files={"observed": ("mine.csv", good.encode("utf-8-sig"))})
    assert r.status_code == 200 and f"Đã nhận {rows} quan sát, lưu thành observed/ls-obs.csv." in r.text
    assert kept.read_text(encoding="utf-8") == good
    lines = good.splitlines()
    cells = lines[2].split(",")
    cells[1] = "2024-02-30"
    bad = "\n".join([*lines[:2], ",".join(cells), *lines[3:]])
    r = studio.post("/scenarios/ls-obs/observed", files={"observed": ("bad.csv", bad.encode())})
    assert r.status_code == 400
    error = re.search(r'id="upload-error"[^>]*>(.*?)</p>', r.text, re.S).group(1)
    assert ("dòng 3, cột period_start, giá trị &#39;2024-02-30&#39;: ngày không có thật: tháng 2/2024 có 29 ngày"
            in error), error
    assert kept.read_text(encoding="utf-8") == good  # the previous file is kept
    english = studio.post("/scenarios/ls-obs/observed?lang=en", files={"observed": ("bad.csv", bad.encode())})
    assert "line 3, column period_start, value &#39;2024-02-30&#39;: impossible date" in english.text
    big = good.encode() + b"x" * MAX_OBSERVED_BYTES
    r = studio.post("/scenarios/ls-obs/observed", files={"observed": ("big.csv", big)})
    assert r.status_code == 400 and "tệp quan sát quá lớn" in r.text
    r = studio.post("/scenarios/ls-obs/observed", files={"observed": ("x.csv", b"\xff\xfe,\x00")})
    assert r.status_code == 400 and "không phải văn bản UTF-8" in r.text
    assert studio.post("/scenarios/lang-son-2024/observed", files={"observed": ("a.csv", b"")}).status_code == 403
    assert not list((studio.workspace / "observed").glob(".*"))  # no upload left behind


def test_the_editor_adds_a_unit_through_the_page(studio: Studio):
    assert studio.post("/scenarios/new", {"source": "lang-son-2024", "name": "ls-unit"}).status_code == 200
    r = studio.post("/scenarios/ls-unit/edit", {"action": "add_unit"})
    assert r.status_code == 200 and "Đã lưu" in r.text
    assert 'name="region.units[5].population"' in r.text and 'name="region.units[5].counters.officers"' in r.text


def test_bundled_scenarios_are_read_only(studio: Studio):
    r = studio.post("/scenarios/lang-son-2024/edit", {"action": "save", "simulation.seed": "1"})
    assert r.status_code == 403


def test_the_scenarios_page_lists_bundled_and_own(studio: Studio, comparison):
    page = studio.get("/scenarios").text
    assert 'data-name="ls-qr"' in page and 'data-name="son-la-2020-2023"' in page
    assert "Kịch bản có sẵn" in page
    assert "Bundled scenarios" in studio.get("/scenarios?lang=en").text


# --- runs, results, compare ------------------------------------------------------------------------
def test_the_comparison_ran_as_the_command_line_would(studio: Studio, comparison):
    status = comparison["status"]
    assert status["total"] == 4 and status["done"] == 4
    assert (0, 4) in status["seen"] or status["seen"][0][0] < 4  # progress was seen before the end
    runs = list((studio.results).glob("compare-lang-son-2024-vs-ls-qr/*/manifest.json"))
    assert len(runs) == 1
    page = studio.get(status["results_url"]).text
    verdict = re.search(r'id="verdict">(.*?)</div>', page, re.S).group(1)
    assert "«ls-qr»" in verdict and "«lang-son-2024»" in verdict and "KTC 95%" in verdict
    assert "Chênh lệch theo cặp" in page and "Tỷ lệ cuối kỳ (điểm %)" in page
    assert 'id="figure-data-compare"' in page and 'id="figure-data-diffs"' in page
    assert "Tổng chi phí các giải pháp: 580.000.000 VND." in page


def test_the_same_run_is_offered_instead_of_redone(studio: Studio, comparison):
    jobs_before = len(studio.server.app[JOBS].jobs)
    r = studio.post("/jobs", comparison["form"])
    assert 'id="same-run"' in r.text and comparison["status"]["results_url"] in r.text
    assert len(studio.server.app[JOBS].jobs) == jobs_before


def test_exports(studio: Studio, comparison):
    from openpyxl import load_workbook
    from PIL import Image

    base = comparison["status"]["results_url"]
    png = studio.get(base + "/chart/compare_trajectories.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    dpi = Image.open(io.BytesIO(png.content)).info["dpi"]
    assert round(dpi[0]) == 300
    svg = studio.get(base + "/chart/compare_differences.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content[:2000]
    xlsx = studio.get(base + "/tables.xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["ls-qr"]
    assert [c.value for c in sheet[1]][:3] == ["Đơn vị", "Tỷ lệ quan sát ban đầu", "Cuối kỳ (KTC 95%)"]
    assert sheet["A3"].value == "Huyện Cao Lộc" and sheet["B3"].value == pytest.approx(0.149)
    assert 0 < sheet["C3"].value < 1 and sheet["C3"].number_format == "0.0%"
    raw = studio.get(base + "/table-1.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[2][0] == "Huyện Cao Lộc"
    assert studio.get(base + "/chart/nope.png").status_code == 404


def test_the_report_of_a_compared_scenario(studio: Studio, comparison):
    r = studio.get(comparison["status"]["results_url"] + "/report?scenario=1")
    assert r.status_code == 200
    assert "Báo cáo chiến dịch thanh toán trực tuyến" in r.text and "ls-qr" in r.text


def test_the_full_comparison_report_is_one_click_away(studio: Studio, comparison):
    base = comparison["status"]["results_url"]
    assert f'id="open-comparison" href="{base}/report"' in studio.get(base).text
    [run] = list(studio.results.glob("compare-lang-son-2024-vs-ls-qr/*/comparison.html"))
    r = studio.get(base + "/report")
    assert r.status_code == 200 and r.text == run.read_text(encoding="utf-8")  # the run's own page, as written
    assert "script-src 'unsafe-inline'" in r.headers["Content-Security-Policy"]
    english = studio.get(base + "/report?lang=en")
    assert english.status_code == 200 and english.text != r.text and 'lang="en"' in english.text
    assert (run.parent / "comparison.en.html").is_file()  # drawn once by the report package


def test_cost_per_point_of_each_added_intervention(studio: Studio, comparison):
    import json

    [summary] = list(studio.results.glob("compare-lang-son-2024-vs-ls-qr/*/summary.json"))
    diff = json.loads(summary.read_text(encoding="utf-8"))["differences"][0]
    found = diff["contributions"]
    assert found["computed"], found
    [row] = found["interventions"]
    page = studio.get(comparison["status"]["results_url"]).text
    table = re.search(r'id="contributions-ls-qr">.*?</table>', page, re.S).group(0)
    assert "Chi phí mỗi điểm % (VND)" in table and "80.000.000" in table
    expected = ("chưa phân biệt được mức tăng với 0" if not diff["decision"]["effect_distinguishable"]
                else f"{round(row['cost_vnd'] / row['shapley_points']):,}".replace(",", ".")
                if row["shapley_points"] > 0 else "không tăng")
    assert f">{expected}<" in table


def test_the_run_list_shows_every_run_with_verdicts_load_tests_read_only(studio: Studio, comparison):
    folder = studio.results / "peak-day" / "20260101-000000-abcd"
    (folder / "locust").mkdir(parents=True)
    (folder / "locust" / "report.html").write_text("<html>locust</html>", encoding="utf-8")
    write_json(folder / "manifest.json", {"run_id": folder.name, "kind": "loadtest", "scenario": "peak-day",
                                          "started_at": "2026-01-01T00:00:00.000+00:00", "inputs": []})
    write_json(folder / "summary.json", {"slo": [{"name": "callback_p95_ms", "passed": False}],
                                         "invariant": {"ok": True}})
    page = studio.get("/runs").text
    assert "compare-lang-son-2024-vs-ls-qr" in page
    row = re.search(r"peak-day / 20260101-000000-abcd.*?</tr>", page, re.S).group(0)
    assert "chỉ đọc" in row and "KHÔNG ĐẠT: callback_p95_ms" in row
    assert studio.get("/runs/peak-day/20260101-000000-abcd/report").text == "<html>locust</html>"
    assert not (folder / "report.html").exists()  # nothing written into an engineer's run


@pytest.mark.parametrize(("host", "needs_token"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_motcua_studio_prints_its_address_and_a_token_off_loopback(tmp_path: Path, host: str, needs_token: bool):
    import subprocess
    import sys

    import requests

    proc = subprocess.Popen([sys.executable, "-m", "motcua.cli", "studio", "--no-browser", "--host", host,
                             "--workspace", str(tmp_path / "ws"), "--results", str(tmp_path / "results")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        line = proc.stdout.readline()
        url = re.fullmatch(r"motcua studio: (http://127\.0\.0\.1:(\d+)/(\S*))\n", line)
        assert url, line
        assert int(url.group(2)) > 0
        assert ("?token=" in url.group(3)) is needs_token
        assert requests.get(url.group(1), timeout=30).status_code == 200
        if needs_token:
            bare = f"http://127.0.0.1:{url.group(2)}/scenarios"
            assert requests.get(bare, timeout=30).status_code == 403
            assert "needs the access token" in proc.stdout.readline()
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
