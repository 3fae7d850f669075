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
which the page shows in Vietnamese; the server keeps serving. A study (``motcua calibrate`` or ``motcua
sensitivity``) runs many batches of replications; its progress is the current batch's, and it writes into a run
folder the studio chose (``--out``), so the job knows where its results are.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import json
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motcua.atomic import write_text
from motcua.models.executor import PROGRESS_FILE_ENV
from motcua.runs import file_digest, git_commit, list_runs, new_run_id, package_versions

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
INTERRUPTED = "interrupted"
"""A job that was running when the studio stopped: its command was stopped with it (it left no run folder)."""
JOB_FILE = "job.json"
STUDY_KINDS = ("calibrate", "sensitivity")
"""Studies of one scenario: many batches of replications (the progress shows the current batch, no ETA)."""
QUICK_BOOTSTRAP = 50
CANCEL_GRACE_S = 5.0
"""How long a cancelled command may take to clean up after SIGINT before its process group is killed."""
POLL_S = 0.2
_RESULTS_LINE = re.compile(r"^Results: (.+)$", re.MULTILINE)
_ERROR_LINE = re.compile(r"^motcua [\w-]+: error: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class JobSpec:
    """What to run: ``simulate`` one scenario or ``compare`` two to five, with explicit replications and seed;
    or a study of one scenario, ``calibrate`` (fit to its observations) or ``sensitivity`` (which assumptions
    matter), written to a run folder the studio names (``<results>/<name>/<run-id>``)."""

    kind: str
    scenarios: tuple[Path, ...]
    replications: int
    seed: int
    quick: bool = False
    lang: str = "vi"
    name: str = ""
    """The scenario's ``scenario.name`` (a study's run folder is under it, as the command line's); default the
    file's stem. A study's ``replications`` of 0 leaves the command's own default."""

    def argv(self, results_root: Path, out: Path | None = None) -> list[str]:
        """The `motcua` command line of this job (what the manifest records); `out`: a study's run folder."""
        if self.kind in STUDY_KINDS:
            return study_argv(self, out or self.out_folder(results_root))
        argv = [self.kind, *map(str, self.scenarios), "--replications", str(self.replications), "--seed",
                str(self.seed), "--results-root", str(results_root), "--lang", self.lang, "--quiet"]
        return [*argv, "--quick"] if self.quick else argv

    def out_folder(self, results_root: Path) -> Path:
        """A new run folder for a study: ``<results>/<scenario name>/<run-id>``."""
        return Path(results_root) / (self.name or self.scenarios[0].stem) / new_run_id()

    def key(self) -> str:
        """Same inputs, settings and version ⇒ same key: the scenario files' SHA-256, replications, seed, quick,
        the motcua version and git commit."""
        return run_key(self.kind, [file_digest(p) for p in self.scenarios], self.replications, self.seed, self.quick,
                       package_versions(("motcua",)).get("motcua"), git_commit())


def study_argv(spec: JobSpec, out: Path) -> list[str]:
    """``calibrate`` (quick: the barrier-free mean field, 50 bootstrap refits) or ``sensitivity`` (quick: its
    ``--quick`` screening) of one scenario into `out`."""
    argv = [spec.kind, str(spec.scenarios[0]), "--out", str(out), "--seed", str(spec.seed)]
    if spec.kind == "calibrate":
        if spec.quick:
            return [*argv, "--model", "generalized", "--bootstrap", str(QUICK_BOOTSTRAP),
                    *earlier_origin(spec.scenarios[0])]
        return [*argv, "--replications", str(max(2, spec.replications))] if spec.replications else argv
    return [*argv, "--lang", spec.lang, *(["--quick"] if spec.quick else [])]


def earlier_origin(scenario_path: Path) -> list[str]:
    """``--origin FIRST --fit-initial`` when the scenario's observations start before its simulated period (as
    lang-son-2024's do: the shares to date when the campaign began), as the command asks; else nothing. Only the
    quick mean-field fit can start before ``simulation.start``; the full agent fit shows the command's reason."""
    from motcua.errors import InputError
    from motcua.models.calibration.observations import read_observed
    from motcua.scenario import load_scenario
    from motcua.studio.workspace import observed_beside

    observed = observed_beside(scenario_path, scenario_path.stem)
    if observed is None:
        return []
    try:
        scenario = load_scenario(scenario_path)
        first = min(o.start for o in read_observed(observed, scenario))
    except (InputError, ValueError):
        return []  # the command reports what is wrong with the file, in the job's own failure
    return ["--origin", first.isoformat(), "--fit-initial"] if first < scenario.simulation.start else []


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
    batch: int = 0
    """Batches of replications started so far (a study runs many; simulate and compare one)."""
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
        if (self.state != RUNNING or not self.done or self.first_progress is None or self.total <= self.done
                or self.batch > 1):
            return None
        elapsed = (now or time.time()) - self.first_progress
        return elapsed / self.done * (self.total - self.done)

    def status(self) -> dict[str, Any]:
        """What ``/jobs/<id>.json`` answers."""
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total, "batch": self.batch,
                "eta_s": self.eta_s(),
                "error": self.error, "run": str(self.run_dir) if self.run_dir else None,
                "kind": self.spec.kind, "scenarios": [p.stem for p in self.spec.scenarios]}


_SAVED = ("id", "state", "done", "total", "batch", "created", "started", "first_progress", "first_done", "finished",
          "error", "exit_code")


def job_record(job: Job) -> dict[str, Any]:
    """What ``job.json`` keeps of `job`: its spec and its state (not its process)."""
    spec = {**dataclasses.asdict(job.spec), "scenarios": [str(p) for p in job.spec.scenarios]}
    return {**{key: getattr(job, key) for key in _SAVED}, "spec": spec,
            "run_dir": str(job.run_dir) if job.run_dir else None}


def job_from_record(record: dict[str, Any], folder: Path) -> Job:
    """The job a ``job.json`` describes (the inverse of `job_record`)."""
    spec = JobSpec(**{**record["spec"], "scenarios": tuple(Path(p) for p in record["spec"]["scenarios"])})
    job = Job(record["id"], spec, folder, **{k: record[k] for k in _SAVED if k != "id" and k in record})
    job.run_dir = Path(record["run_dir"]) if record.get("run_dir") else None
    return job


class JobQueue:
    """The server's jobs, oldest first; at most `max_jobs` commands run at once.

    Each job keeps ``job.json`` in its folder, so the queue outlives the studio: on the next start, finished jobs
    are listed again, jobs still waiting start again, and a job that was running is marked `INTERRUPTED`
    (stopping the studio stops its commands)."""

    def __init__(self, folder: Path, results_root: Path, max_jobs: int | None = None) -> None:
        self.folder, self.results_root = Path(folder), Path(results_root).resolve()
        self.max_jobs = max_jobs or os.cpu_count() or 1
        self.jobs: dict[str, Job] = {}
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._closing = False
        self._load()

    def _load(self) -> None:
        """The jobs of an earlier studio on the same folder, oldest first; a running one is now interrupted."""
        records = []
        for path in self.folder.glob(f"*/{JOB_FILE}"):
            with contextlib.suppress(ValueError, KeyError, TypeError, OSError):
                records.append(job_from_record(json.loads(path.read_text(encoding="utf-8")), path.parent))
        for job in sorted(records, key=lambda j: j.created):
            if job.state == RUNNING:
                job.state, job.finished = INTERRUPTED, job.finished or time.time()
                self.save(job)
            self.jobs[job.id] = job

    async def resume(self) -> None:
        """Start again the jobs an earlier studio left waiting (call once the event loop runs)."""
        for job in self.jobs.values():
            if job.state == QUEUED:
                self._start(job)

    def submit(self, spec: JobSpec) -> Job:
        job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._ids)}"
        while job_id in self.jobs or (self.folder / job_id).exists():
            job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._ids)}"
        job = Job(job_id, spec, self.folder / job_id)
        self.jobs[job_id] = job
        self.save(job)
        self._start(job)
        return job

    def _start(self, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def save(self, job: Job) -> None:
        """Write the job's ``job.json`` (at each change of state)."""
        job.folder.mkdir(parents=True, exist_ok=True)
        write_text(job.folder / JOB_FILE, json.dumps(job_record(job), ensure_ascii=False, indent=1))

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    async def cancel(self, job: Job) -> None:
        if job.state == QUEUED:
            job.state, job.finished = CANCELLED, time.time()
            self.save(job)
        elif job.state == RUNNING and job.process is not None:
            job.state = CANCELLED
            await stop_group(job.process)
            self.save(job)

    async def close(self) -> None:
        """Stop every running command (the server is shutting down): those jobs are interrupted; waiting jobs
        stay queued in their ``job.json``, for the next studio to start."""
        self._closing = True
        for job in self.jobs.values():
            if job.state == RUNNING and job.process is not None:
                job.state, job.finished = INTERRUPTED, time.time()
                await stop_group(job.process)
                self.save(job)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, job: Job) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_jobs)
        async with self._slots:
            if job.state != QUEUED or self._closing:
                return
            await self._execute(job)
            self.save(job)

    async def _execute(self, job: Job) -> None:
        job.folder.mkdir(parents=True, exist_ok=True)
        progress = job.folder / "progress"
        progress.write_text("", encoding="utf-8")
        env = {**os.environ, PROGRESS_FILE_ENV: str(progress), "PYTHONUNBUFFERED": "1"}
        job.state, job.started = RUNNING, time.time()
        self.save(job)
        study_out = job.spec.out_folder(self.results_root) if job.spec.kind in STUDY_KINDS else None
        with open(job.folder / "stdout.txt", "wb") as out, open(job.folder / "stderr.txt", "wb") as err:
            job.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "motcua.cli", *job.spec.argv(self.results_root, study_out), stdout=out,
                stderr=err, env=env, start_new_session=True)
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
        if job.state in (CANCELLED, INTERRUPTED):
            return
        found = _RESULTS_LINE.search(stdout)
        if job.exit_code == 0 and study_out is not None and (study_out / "manifest.json").is_file():
            job.state, job.run_dir = DONE, study_out.resolve()
        elif job.exit_code == 0 and found:
            job.state, job.run_dir = DONE, Path(found.group(1).strip()).resolve()
        else:
            job.state, job.error = FAILED, failure_message(stderr, job.exit_code)


def read_progress(job: Job, path: Path) -> None:
    """Update `job` from the last line of its progress file (``<finished> <total>``); each batch of replications
    starts with a ``0 <total>`` line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    pairs = [line.split() for line in lines if len(line.split()) == 2]
    if pairs:
        now = time.time()
        job.first_progress = job.first_progress or now
        job.done, job.total = int(pairs[-1][0]), int(pairs[-1][1])
        job.batch = sum(1 for done, _ in pairs if done == "0")
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
