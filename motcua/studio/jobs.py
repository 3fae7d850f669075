"""Runs started from the pages: a queue of `motcua` commands run in the background, with progress and cancel.

*Scenario.* A planner presses "Run the comparison" and closes the laptop lid; an hour later she opens the page
again and finds the run finished in the run list. A job is the very command she could have typed
(``python -m motcua.cli compare A.toml B.toml --replications 20 --seed S --results-root R``), run as a child
process in its own process group, so the run folder, the manifest and the report are exactly the command line's.
Progress comes from the replication machinery's hook (`motcua.models.executor.PROGRESS_FILE_ENV`: one
``<finished> <total>`` line per replication); the ETA is the mean time per finished replication times those left.
Cancelling sends SIGINT to the whole group (the command cleans its partial folder up, the pool's worker processes
stop), then SIGKILL if anything is still alive after a grace period. At most `max_jobs` run at once (by default
one per core); the others wait in order. A failure keeps the command's own message (file, field, value, problem),
which the page shows in Vietnamese; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motcua.models.executor import PROGRESS_FILE_ENV
from motcua.runs import file_digest, git_commit, list_runs, package_versions

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
CANCEL_GRACE_S = 5.0
"""How long a cancelled command may take to clean up after SIGINT before its process group is killed."""
POLL_S = 0.2
_RESULTS_LINE = re.compile(r"^Results: (.+)$", re.MULTILINE)
_ERROR_LINE = re.compile(r"^motcua [\w-]+: error: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class JobSpec:
    """What to run: ``simulate`` one scenario or ``compare`` two to five, with explicit replications and seed."""

    kind: str
    scenarios: tuple[Path, ...]
    replications: int
    seed: int
    quick: bool = False
    lang: str = "vi"

    def argv(self, results_root: Path) -> list[str]:
        """The `motcua` command line of this job (what the manifest records)."""
        argv = [self.kind, *map(str, self.scenarios), "--replications", str(self.replications), "--seed",
                str(self.seed), "--results-root", str(results_root), "--lang", self.lang, "--quiet"]
        return [*argv, "--quick"] if self.quick else argv

    def key(self) -> str:
        """Same inputs, settings and version ⇒ same key: the scenario files' SHA-256, replications, seed, quick,
        the motcua version and git commit."""
        return run_key(self.kind, [file_digest(p) for p in self.scenarios], self.replications, self.seed, self.quick,
                       package_versions(("motcua",)).get("motcua"), git_commit())


def run_key(kind: str, digests: Sequence[str], replications: Any, seed: Any, quick: Any, version: Any,
            commit: Any) -> str:
    text = "|".join(map(str, (kind, *digests, replications, seed, bool(quick), version, commit)))
    return hashlib.sha256(text.encode()).hexdigest()


def manifest_key(manifest: dict[str, Any]) -> str | None:
    """The key of a finished simulate or compare run, from what its ``manifest.json`` records."""
    if manifest.get("kind") not in ("simulate", "compare"):
        return None
    params = manifest.get("parameters", {})
    return run_key(manifest["kind"], [i["sha256"] for i in manifest.get("inputs", [])], params.get("replications"),
                   manifest.get("seed"), params.get("quick"), manifest.get("versions", {}).get("motcua"),
                   manifest.get("git_commit"))


def find_same_run(spec: JobSpec, results_root: Path) -> Path | None:
    """The newest finished run (from the studio or the command line) with the same key as `spec`, if any."""
    key = spec.key()
    for run in reversed(list_runs(results_root)):
        if manifest_key(dict(run.manifest)) == key:
            return run.path
    return None


@dataclass
class Job:
    """One queued or running command and what the pages show of it."""

    id: str
    spec: JobSpec
    folder: Path
    """The job's own folder (its progress file and the command's output)."""
    state: str = QUEUED
    done: int = 0
    total: int = 0
    created: float = field(default_factory=time.time)
    started: float | None = None
    first_progress: float | None = None
    """When the progress hook first wrote (the pool started): what "time to first progress" measures."""
    first_done: float | None = None
    finished: float | None = None
    run_dir: Path | None = None
    error: str | None = None
    """The command's own message when it failed (English; the page translates it)."""
    exit_code: int | None = None
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds left at the pace of the replications finished so far."""
        if self.state != RUNNING or not self.done or self.first_progress is None or self.total <= self.done:
            return None
        elapsed = (now or time.time()) - self.first_progress
        return elapsed / self.done * (self.total - self.done)

    def status(self) -> dict[str, Any]:
        """What ``/jobs/<id>.json`` answers."""
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total, "eta_s": self.eta_s(),
                "error": self.error, "run": str(self.run_dir) if self.run_dir else None,
                "kind": self.spec.kind, "scenarios": [p.stem for p in self.spec.scenarios]}


class JobQueue:
    """The server's jobs, oldest first; at most `max_jobs` commands run at once."""

    def __init__(self, folder: Path, results_root: Path, max_jobs: int | None = None) -> None:
        self.folder, self.results_root = Path(folder), Path(results_root).resolve()
        self.max_jobs = max_jobs or os.cpu_count() or 1
        self.jobs: dict[str, Job] = {}
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)

    def submit(self, spec: JobSpec) -> Job:
        job_id = f"{time.strftime('%H%M%S')}-{next(self._ids)}"
        job = Job(job_id, spec, self.folder / job_id)
        self.jobs[job_id] = job
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    async def cancel(self, job: Job) -> None:
        if job.state == QUEUED:
            job.state, job.finished = CANCELLED, time.time()
        elif job.state == RUNNING and job.process is not None:
            job.state = CANCELLED
            await stop_group(job.process)

    async def close(self) -> None:
        """Stop every running command (the server is shutting down)."""
        for job in self.jobs.values():
            await self.cancel(job)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, job: Job) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_jobs)
        async with self._slots:
            if job.state != QUEUED:
                return
            await self._execute(job)

    async def _execute(self, job: Job) -> None:
        job.folder.mkdir(parents=True, exist_ok=True)
        progress = job.folder / "progress"
        progress.write_text("", encoding="utf-8")
        env = {**os.environ, PROGRESS_FILE_ENV: str(progress), "PYTHONUNBUFFERED": "1"}
        job.state, job.started = RUNNING, time.time()
        with open(job.folder / "stdout.txt", "wb") as out, open(job.folder / "stderr.txt", "wb") as err:
            job.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "motcua.cli", *job.spec.argv(self.results_root), stdout=out, stderr=err,
                env=env, start_new_session=True)
            while True:
                try:
                    await asyncio.wait_for(job.process.wait(), POLL_S)
                    break
                except TimeoutError:
                    read_progress(job, progress)
        read_progress(job, progress)
        job.exit_code, job.finished = job.process.returncode, time.time()
        stdout = (job.folder / "stdout.txt").read_text(encoding="utf-8", errors="replace")
        stderr = (job.folder / "stderr.txt").read_text(encoding="utf-8", errors="replace")
        if job.state == CANCELLED:
            return
        found = _RESULTS_LINE.search(stdout)
        if job.exit_code == 0 and found:
            job.state, job.run_dir = DONE, Path(found.group(1).strip()).resolve()
        else:
            job.state, job.error = FAILED, failure_message(stderr, job.exit_code)


def read_progress(job: Job, path: Path) -> None:
    """Update `job` from the last line of its progress file (``<finished> <total>``)."""
    try:
        lines = path.read_text(encoding="utf-8").split()
    except OSError:
        return
    if len(lines) >= 2:
        now = time.time()
        job.first_progress = job.first_progress or now
        job.done, job.total = int(lines[-2]), int(lines[-1])
        if job.done and job.first_done is None:
            job.first_done = now


def failure_message(stderr: str, code: int | None) -> str:
    """The command's own error line, else the last line of a traceback, else its exit code."""
    found = _ERROR_LINE.findall(stderr)
    if found:
        return found[-1].strip()
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {code}"


async def stop_group(process: asyncio.subprocess.Process, grace_s: float = CANCEL_GRACE_S) -> None:
    """SIGINT to the process group of `process` (the command and its worker processes), SIGKILL after `grace_s`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
