"""Calibrate and sensitivity from the studio's pages: the same commands as `motcua calibrate` / `motcua
sensitivity`, run as background jobs into an ordinary run folder, listed in the run list, and a results page that
answers first, in Vietnamese. Also the command lines they run and how their many batches show as progress."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from helpers_studio import Studio

from motcua.run_layout import write_json
from motcua.studio.jobs import RUNNING, Job, JobSpec, read_progress, study_argv
from motcua.studio.workspace import Workspace

pytestmark = pytest.mark.timeout(300)
SON_LA = Workspace.bundled_dir() / "son-la-2020-2023.toml"


def wait_job(studio: Studio, job_url: str, timeout: float = 240) -> dict:
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = studio.get(f"/jobs/{job_id}/status").json()
        if status["state"] not in ("queued", "running"):
            return status
        time.sleep(0.5)
    raise TimeoutError(job_url)


def test_a_study_runs_the_commands_own_options_into_the_folder_the_studio_names(tmp_path: Path):
    out = tmp_path / "son-la-2020-2023" / "20260101-000000-abcd"
    quick = JobSpec("calibrate", (SON_LA,), 0, 7, quick=True, name="son-la-2020-2023")
    assert study_argv(quick, out) == ["calibrate", str(SON_LA), "--out", str(out), "--seed", "7", "--model",
                                      "generalized", "--bootstrap", "50"]
    full = JobSpec("calibrate", (SON_LA,), 4, 7, name="son-la-2020-2023")
    assert study_argv(full, out)[-2:] == ["--replications", "4"]
    lang_son = JobSpec("calibrate", (SON_LA.parent / "lang-son-2024.toml",), 0, 7, quick=True)
    # its observations are the shares to date when the campaign began (2024-01-01 – 06-05): the fit starts there
    assert study_argv(lang_son, out)[-3:] == ["--origin", "2024-01-01", "--fit-initial"]
    assert "--replications" not in study_argv(JobSpec("calibrate", (SON_LA,), 0, 7), out)  # the command's default
    sens = JobSpec("sensitivity", (SON_LA,), 0, 3, quick=True, lang="en")
    assert study_argv(sens, out)[-3:] == ["--lang", "en", "--quick"]
    folder = full.out_folder(tmp_path)
    assert folder.parent == tmp_path / "son-la-2020-2023" and re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", folder.name)


def test_each_batch_of_a_study_restarts_the_progress_and_leaves_no_eta(tmp_path: Path):
    progress = tmp_path / "progress"
    job = Job("1", JobSpec("sensitivity", (SON_LA,), 0, 1), tmp_path, state=RUNNING)
    progress.write_text("0 8\n1 8\n2 8\n", encoding="utf-8")
    read_progress(job, progress)
    assert (job.batch, job.done, job.total) == (1, 2, 8) and job.eta_s(now=job.first_progress + 10) is not None
    progress.write_text("0 8\n1 8\n8 8\n0 16\n3 16\n", encoding="utf-8")
    read_progress(job, progress)
    assert (job.batch, job.done, job.total) == (2, 3, 16)
    assert job.eta_s(now=job.first_progress + 10) is None  # the pace of one batch says nothing of the next


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory):
    s = Studio(tmp_path_factory.mktemp("studies"))
    yield s
    s.stop()


def test_calibrate_from_the_page_answers_first_in_vietnamese(studio: Studio):
    page = studio.get("/scenarios").text
    form = re.search(r'<form[^>]*id="study-son-la-2020-2023".*?</form>', page, re.S).group(0)
    assert 'value="calibrate"' in form and 'value="sensitivity"' in form
    peak = re.search(r'<form[^>]*id="study-peak-day".*?</form>', page, re.S).group(0)
    assert 'value="calibrate"' not in peak  # no observations beside it: nothing to calibrate to
    r = studio.post("/jobs", {"scenario": "son-la-2020-2023", "kind": "calibrate", "quick": "1"})
    assert re.search(r"/jobs/[\w-]+$", r.url), r.text[:500]
    assert "Hiệu chỉnh" in r.text or "hiệu chỉnh" in r.text
    status = wait_job(studio, r.url)
    assert status["state"] == "done", status
    [run] = list(studio.results.glob("son-la-2020-2023/*/manifest.json"))
    assert status["results_url"] == f"/runs/son-la-2020-2023/{run.parent.name}"
    assert (run.parent / "summary.json").is_file() and (run.parent / "charts" / "fit.png").is_file()
    page = studio.get(status["results_url"]).text
    answer = re.search(r'id="study-answer">(.*?)</div>', page, re.S).group(1)
    assert "Tham số ước lượng:" in answer and "RMSE" in answer
    assert page.index('id="study-answer"') < page.index("Hiệu chỉnh theo số liệu quan sát")  # answer first
    assert 'id="study-chart"' in page and 'src="data:image/png;base64,' in page
    assert "Fitted parameters:" in studio.get(status["results_url"] + "?lang=en").text
    runs = studio.get("/runs").text
    row = re.search(rf"son-la-2020-2023 / {run.parent.name}.*?</tr>", runs, re.S).group(0)
    assert "hiệu chỉnh" in row and "RMSE" in row


@pytest.mark.slow  # `motcua sensitivity --quick` takes minutes (about 7 on a busy 2-core machine)
def test_sensitivity_from_the_page_names_the_assumptions_that_matter(studio: Studio):
    r = studio.post("/jobs", {"scenario": "son-la-2020-2023", "kind": "sensitivity", "quick": "1"})
    job_id = r.url.rsplit("/", 1)[1]
    seen = []
    deadline = time.monotonic() + 1500
    while time.monotonic() < deadline:
        status = studio.get(f"/jobs/{job_id}/status").json()
        seen.append(status)
        if status["state"] not in ("queued", "running"):
            break
        time.sleep(1)
    assert status["state"] == "done", status
    assert any(s["total"] for s in seen) and max(s["batch"] for s in seen) >= 2  # Morris, then Sobol'
    page = studio.get(status["results_url"]).text
    answer = re.search(r'id="study-answer">(.*?)</div>', page, re.S).group(1)
    assert "Câu trả lời phụ thuộc nhiều nhất vào: «" in answer
    assert "Số liệu cần để xác định" in page and 'id="study-chart"' in page


def test_the_sensitivity_page_puts_the_top_assumptions_first_in_plain_words(studio: Studio):
    groups = ["adoption.behaviour.qr_counter_uptake", "region.units[*].population", "adoption.effort_weight"]
    folder = studio.results / "son-la-2020-2023" / "20260101-000000-5e75"
    (folder / "charts").mkdir(parents=True)
    write_json(folder / "manifest.json", {"run_id": folder.name, "kind": "sensitivity", "scenario": "son-la-2020-2023",
                                          "started_at": "2026-01-01T00:00:00.000+00:00", "inputs": [],
                                          "command_line": "motcua sensitivity son-la-2020-2023 --quick"})
    sobol = {"ST": [0.6, 0.3], "S1": [0.5, 0.2], "ST_conf": [0.1, 0.1]}
    write_json(folder / "summary.json", {"kind": "sensitivity", "groups": groups, "top": groups[:2],
                                         "ranking": groups[:2], "runs": 85, "outputs": ["final_share"],
                                         "sobol": {"final_share": sobol}})
    page = studio.get(f"/runs/son-la-2020-2023/{folder.name}").text
    answer = re.search(r'id="study-answer">(.*?)</div>', page, re.S).group(1)
    assert ("Câu trả lời phụ thuộc nhiều nhất vào: «Tỷ lệ người trả bằng QR khi quầy có mã QR», «Dân số — mọi "
            "đơn vị» (trong 3 nhóm giả định).") in answer
    assert page.index('id="study-answer"') < page.index("Các giả định quan trọng nhất")
    row = re.search(rf"son-la-2020-2023 / {folder.name}.*?</tr>", studio.get("/runs").text, re.S).group(0)
    assert "độ nhạy" in row and "quan trọng nhất: Tỷ lệ người trả bằng QR khi quầy có mã QR" in row


def test_a_study_needs_exactly_one_scenario(studio: Studio):
    r = studio.post("/jobs", [("scenario", "son-la-2020-2023"), ("scenario", "lang-son-2024"),
                              ("kind", "sensitivity")])
    assert r.status_code == 400 and "one scenario" in r.text
    assert studio.post("/jobs", {"scenario": "son-la-2020-2023", "kind": "optimise"}).status_code == 400
