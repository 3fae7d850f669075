"""Background runs of the studio: cancel really stops the command and its worker processes, a failure is told
in Vietnamese while the server keeps serving, the queue holds jobs beyond its limit, ETA from the pace so far."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from helpers_studio import Studio

from motcua.studio.context import JOBS
from motcua.studio.jobs import DONE, RUNNING, Job, JobSpec, failure_message, manifest_key, run_key
from motcua.studio.workspace import Workspace

pytestmark = pytest.mark.timeout(240)
LANG_SON = Workspace.bundled_dir() / "lang-son-2024.toml"


def submit(studio: Studio, spec: JobSpec) -> Job:
    async def go() -> Job:
        return studio.server.app[JOBS].submit(spec)
    return studio.server.run(go())


def wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_cancel_stops_the_command_and_its_workers_and_queued_jobs_wait(tmp_path: Path):
    studio = Studio(tmp_path, max_jobs=1)
    try:
        long = submit(studio, JobSpec("simulate", (LANG_SON,), replications=8, seed=1))  # full horizon: minutes
        queued = submit(studio, JobSpec("simulate", (LANG_SON,), replications=8, seed=2))
        wait_for(lambda: long.state == RUNNING and long.total == 8)
        assert queued.state == "queued"  # one at a time: the second waits
        pgid = long.process.pid
        assert group_alive(pgid)
        page = studio.get(f"/jobs/{queued.id}")
        assert "đang chờ" in page.text
        r = studio.post(f"/jobs/{queued.id}/cancel", {})
        assert r.status_code == 200 and queued.state == "cancelled"
        r = studio.post(f"/jobs/{long.id}/cancel", {}, headers={"Accept": "application/json"})
        assert r.json()["state"] == "cancelled"
        wait_for(lambda: not group_alive(pgid), timeout=15)
        assert not list(studio.results.rglob("manifest.json"))  # no run folder, finished or not
        assert not [p for p in studio.results.rglob("*.partial")]
        assert studio.get("/scenarios").status_code == 200
    finally:
        studio.stop()


def test_a_failed_run_says_why_in_vietnamese_and_the_server_keeps_serving(tmp_path: Path):
    studio = Studio(tmp_path)
    try:
        broken = tmp_path / "broken.toml"
        broken.write_text(LANG_SON.read_text(encoding="utf-8").replace("horizon_days = 574", "horizon_days = 0"),
                          encoding="utf-8")
        job = submit(studio, JobSpec("simulate", (broken,), replications=2, seed=1, quick=True))
        wait_for(lambda: job.state not in ("queued", "running"), timeout=60)
        status = studio.get(f"/jobs/{job.id}/status").json()
        assert status["state"] == "failed"
        assert status["message"] == ("Lần chạy bị lỗi: broken.toml: simulation.horizon_days = 0: "
                                     "phải lớn hơn hoặc bằng 1")
        english = studio.get(f"/jobs/{job.id}/status?lang=en").json()
        assert english["message"].endswith("simulation.horizon_days = 0: must be >= 1")
        assert studio.get("/runs").status_code == 200
    finally:
        studio.stop()


def test_a_run_shows_progress_before_it_ends_and_its_key_matches_its_manifest(tmp_path: Path):
    from motcua.runs import list_runs

    studio = Studio(tmp_path)
    try:
        spec = JobSpec("simulate", (LANG_SON,), replications=2, seed=5, quick=True)
        job = submit(studio, spec)
        wait_for(lambda: job.state not in ("queued", "running"), timeout=120)
        assert job.state == DONE, job.error
        assert job.first_progress is not None and job.first_progress < job.finished
        [run] = list_runs(studio.results)
        assert run.path == job.run_dir
        assert manifest_key(dict(run.manifest)) == spec.key()
        assert run.manifest["command"][1:3] == ["simulate", str(LANG_SON)]
    finally:
        studio.stop()


def test_eta_from_the_pace_so_far():
    job = Job("1", JobSpec("simulate", (LANG_SON,), 10, 1), Path("."), state=RUNNING, done=2, total=10)
    job.first_progress = 100.0
    assert job.eta_s(now=110.0) == pytest.approx(40.0)


def test_keys_change_with_any_input():
    base = ("simulate", ["abc"], 20, 1, False, "0.1.0", "deadbeef")
    key = run_key(*base)
    for i, other in enumerate((("compare"), ["abd"], 21, 2, True, "0.1.1", "cafe")):
        changed = list(base)
        changed[i] = other
        assert run_key(*changed) != key


def test_failure_message_keeps_the_commands_own_line():
    stderr = "Traceback…\nmotcua simulate: error: a.toml: simulation.seed = -1: must be >= 0\n"
    assert failure_message(stderr, 2) == "a.toml: simulation.seed = -1: must be >= 0"
    assert failure_message("Traceback (most recent call last):\nValueError: boom\n", 1) == "ValueError: boom"
    assert failure_message("", 9) == "exit code 9"


def _slow_square(x: int) -> int:
    time.sleep(0.05 * x)
    return x * x


def test_the_progress_hook_reports_each_replication_as_it_finishes(tmp_path: Path, monkeypatch):
    from motcua.models.executor import PROGRESS_FILE_ENV, ExecutorSpec, map_replications

    progress = tmp_path / "progress"
    monkeypatch.setenv(PROGRESS_FILE_ENV, str(progress))
    results = map_replications(_slow_square, [(3,), (1,), (2,), (0,)], executor=ExecutorSpec(workers=2),
                               progress=False)
    assert results == [9, 1, 4, 0]  # task order, whatever the finishing order
    assert progress.read_text().splitlines() == ["0 4", "1 4", "2 4", "3 4", "4 4"]


def test_jobs_survive_a_restart_of_the_studio(tmp_path: Path):
    """Finished jobs stay listed, a job running when the studio stopped is marked interrupted, a waiting one starts
    again in the new studio."""
    studio = Studio(tmp_path, max_jobs=1)
    try:
        finished = submit(studio, JobSpec("simulate", (LANG_SON,), replications=2, seed=5, quick=True))
        wait_for(lambda: finished.state not in ("queued", "running"), timeout=180)
        assert finished.state == DONE, finished.error
        long = submit(studio, JobSpec("simulate", (LANG_SON,), replications=8, seed=1))  # full horizon: minutes
        waiting = submit(studio, JobSpec("simulate", (LANG_SON,), replications=2, seed=6, quick=True))
        wait_for(lambda: long.state == RUNNING and long.total == 8)
        pgid = long.process.pid
    finally:
        studio.stop()
    wait_for(lambda: not group_alive(pgid), timeout=15)  # stopping the studio stopped its command and workers
    again = Studio(tmp_path, max_jobs=1)
    try:
        jobs = again.server.app[JOBS].jobs
        assert list(jobs) == [finished.id, long.id, waiting.id]  # oldest first, as before
        assert jobs[finished.id].state == DONE and jobs[finished.id].run_dir == finished.run_dir
        assert jobs[long.id].state == "interrupted"
        assert "bị dừng khi tắt studio" in again.get(f"/jobs/{long.id}").text
        wait_for(lambda: jobs[waiting.id].state not in ("queued", "running"), timeout=180)
        assert jobs[waiting.id].state == DONE, jobs[waiting.id].error
        page = again.get("/runs").text
        assert f"/jobs/{finished.id}" in page and f"/jobs/{waiting.id}" in page
    finally:
        again.stop()
