"""The harness inside each Locust process: exact statistics, the callback correlator, the run watched live.

Loaded by the locustfile (so gevent is already in charge here). One `Harness` per Locust process,
attached to the environment as ``environment.motcua``:

- every process records HTTP samples into HDR histograms, journeys (from their *intended* start)
  and arrivals exactly, and counts requests per second for the throughput chart;
- a worker sends what it recorded since its last report to the master with Locust's own
  ``report_to_master`` (every 3 s and once more when it quits), and tells the master of every bank
  approval with a custom message (``motcua_approval``);
- the master — or the single process of a local run — merges them, reads the agency's event journal
  (`motcua.loadtest.callbacks`), logs the ``CALLBACK`` samples into Locust's statistics (their own rows, outside
  its "Aggregated" row: `motcua.loadtest.journey_stats`), waits at the
  end for callbacks still due, and writes ``harness.json`` into ``--motcua-out``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.runners import STATE_STOPPED, MasterRunner, WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

from motcua.atomic import write_text
from motcua.loadtest.abort import AbortWatch
from motcua.loadtest.callbacks import CALLBACK, IPN_ACK, STATUS_POLL, Approval, CallbackCorrelator
from motcua.loadtest.journey_stats import FLUSH_S, JourneyBatch, log_outside_total
from motcua.loadtest.live import CALLBACK_QUANTILES, LiveSnapshot, LiveWatch, nearest_rank_ms, requests_per_s
from motcua.loadtest.locust_options import add_arguments  # plugin.add_arguments stays importable, as before
from motcua.loadtest.percentiles import HdrSet
from motcua.run_layout import HARNESS
from motcua.safety import JournalReader

JOURNEY = "JOURNEY"
ARRIVAL = "ARRIVAL"
HARNESS_TYPES = (CALLBACK, JOURNEY, ARRIVAL)
APPROVAL_MESSAGE = "motcua_approval"
DECLINE_MESSAGE = "motcua_decline"
DONE_MESSAGE = "motcua_generator_done"
ABORT_MESSAGE = "motcua_abort"
INTERRUPT_MESSAGE = "motcua_interrupt"
WORKER_REPORT_S = 1.0  # replaces Locust's WORKER_REPORT_INTERVAL (3 s): the end of a run waits for one report
JOURNAL_POLL_S = 0.05
DROPPED = RuntimeError("arrival dropped: max concurrency reached (--max-concurrency)")
JOURNEY_FAILED = RuntimeError("journey failed")
REPLAY_REFUSED = ("motcua: this run's arrival profile has finished and its results are written; Locust's start "
                  "button cannot replay it — start a new run with `motcua loadtest … --ui`")


class Harness:
    """What the harness records in one Locust process (see the module docstring)."""

    def __init__(self, environment) -> None:
        self.environment = environment
        self.options = environment.parsed_options
        runner = environment.runner
        self.role = "master" if isinstance(runner, MasterRunner) else "local"
        if isinstance(runner, WorkerRunner):
            self.role = "worker"
        self.hdr = HdrSet()
        self.journeys: list[list[Any]] = []  # [name, intended_at, latency_ms, ok]
        self.arrivals: list[list[float]] = []  # [intended_at, start lag s]
        self.drops: list[float] = []
        self.http: dict[int, list[int]] = {}  # epoch second -> [ok, failed]
        self._second = -1  # the second `_second_counts` counts (the entry of `http` requests go to now)
        self._second_counts = [0, 0]
        self.polls = [0, 0]  # status polls (POLL_CONTEXT): [answered, failed] — the waiting, apart from `http`
        self.officer: list[list[Any]] = []  # [dossier, bank, group, latency_ms, ok]
        self.journey_stats = JourneyBatch(JOURNEY)  # journeys not yet in Locust's statistics
        self._flusher = None
        self.stopped_workers: set[str] = set()
        self.generators_done = 0
        self.finished = False
        self.interrupted = False
        self.written = False
        self._ending = False
        self.abort_watch: AbortWatch | None = None
        self.aborting = False
        self.web_ui = None
        self.correlator: CallbackCorrelator | None = None
        self.reader: JournalReader | None = None
        self._reader_greenlet = None
        self.started_at = time.time()
        self._live_seen = [0, 0]  # journeys and callback samples already counted for the snapshot
        self._live_totals = [0, 0, 0]  # journeys failed, http requests, http failures
        self._callback_ms: list[float] = []
        self.live = LiveWatch(self.snapshot)  # live.json and the metrics endpoint (master or local process)
        self.cpu_at_start = time.process_time()
        self.cpu_s: float | None = None  # this process's CPU seconds from test_start to test_stop
        environment.events.request.add_listener(self._on_request)
        if self.role == "worker":
            environment.events.report_to_master.add_listener(self._on_report_to_master)
            runner.register_message(ABORT_MESSAGE, lambda *_a, **_kw: self.stop_arrivals())
            runner.register_message(INTERRUPT_MESSAGE, lambda **_kw: self._stop_without_waiting())
        else:
            self._setup_correlator()
            if self.role == "master":
                environment.events.worker_report.add_listener(self._on_worker_report)
                runner.register_message(APPROVAL_MESSAGE, self._on_approval_message)
                runner.register_message(DECLINE_MESSAGE, self._on_decline_message)
                runner.register_message(DONE_MESSAGE, lambda **_kw: self._on_generator_done())

    # ----------------------------------------------------------------- recording (every process)

    def _on_request(self, request_type, name, response_time, response_length, exception=None, context=None,
                    **_kw) -> None:
        """Every HTTP request of this process: its HDR histogram and this second's count, nothing else.

        A status poll (`motcua.loadtest.callbacks.POLL_CONTEXT`) is counted in `polls` instead: polling until
        "paid" is waiting, not the journey's traffic, and its answers do not drive ``error_rate``.
        The live status line and the metrics endpoint compute their rates and percentiles from these when
        they ask (`snapshot`); nothing here allocates once the route and the second are known."""
        if request_type in HARNESS_TYPES:
            return
        self.hdr.record_request(request_type, name, response_time)
        if context and STATUS_POLL in context:
            self.polls[1 if exception else 0] += 1
            return
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._second_counts = self.http.setdefault(second, [0, 0])
        self._second_counts[1 if exception else 0] += 1

    def journey_done(self, name: str, intended_at: float, ok: bool, error: Exception | None = None) -> float:
        """Record one finished journey, timed from its intended start; a JOURNEY sample within `FLUSH_S`."""
        now = time.time()
        latency_ms = (now - intended_at) * 1000
        self.journeys.append([name, intended_at, latency_ms, ok])
        if error is None and not ok:
            error = JOURNEY_FAILED
        self.journey_stats.add(name, now, latency_ms, error)
        return latency_ms

    def start_flushing(self) -> None:
        """Feed finished journeys into Locust's statistics every `FLUSH_S` while the test runs."""
        if self._flusher is None:
            self._flusher = gevent.spawn(self._flush_loop)

    def _flush_loop(self) -> None:
        while True:
            gevent.sleep(FLUSH_S)
            self.journey_stats.flush(self.environment.stats)

    def stop_flushing(self) -> None:
        """The last journeys into Locust's statistics (before a worker's last report, or the CSV)."""
        if self._flusher is not None:
            self._flusher.kill(block=False)
            self._flusher = None
        self.journey_stats.flush(self.environment.stats)

    def arrival_started(self, intended_at: float, lag_s: float) -> None:
        self.arrivals.append([intended_at, lag_s])

    def arrival_dropped(self, intended_at: float) -> None:
        self.drops.append(intended_at)
        log_outside_total(self.environment.stats, ARRIVAL, "dropped (concurrency cap)", 0, DROPPED)

    def officer_saw(self, dossier: str, bank: str, group: str, latency_ms: float, ok: bool) -> None:
        self.officer.append([dossier, bank, group, latency_ms, ok])

    def approve(self, approval: Approval) -> None:
        """The bank approved a payment; the correlator (here or on the master) starts its deadline."""
        if self.role == "worker":
            self.environment.runner.send_message(APPROVAL_MESSAGE, dataclasses.asdict(approval))
        elif self.correlator is not None:
            self.correlator.approve(approval)

    def decline(self, payment_id: str, dossier_code: str) -> None:
        """The bank declined a payment; the invariant checks that the agency never marks it paid."""
        if self.role == "worker":
            self.environment.runner.send_message(DECLINE_MESSAGE, [payment_id, dossier_code])
        elif self.correlator is not None:
            self.correlator.decline(payment_id, dossier_code)

    # ----------------------------------------------------------------- the end of the test

    def generator_done(self) -> None:
        """An open-model generator has started its last arrival and seen its journeys finish."""
        if self.role == "worker":
            self.environment.runner.send_message(DONE_MESSAGE, {})
        else:
            self._on_generator_done()

    def _on_generator_done(self) -> None:
        self.generators_done += 1
        if self.generators_done >= self.options.motcua_generators:
            gevent.spawn(self.end_test)

    def interrupt(self) -> None:
        """Ctrl-C in ``motcua loadtest`` (SIGINT from it): stop now, keep what was recorded, mark it partial.

        Journeys in flight are cut, not waited for: Locust's ``--stop-timeout`` (which lets a user finish its
        task — an open-model generator's task is the whole profile) is set to 0 here and in every worker."""
        if self.interrupted:
            return
        self._stop_without_waiting()
        if self.role == "master":
            self.environment.runner.send_message(INTERRUPT_MESSAGE, {})  # before runner.stop()'s "stop"
        gevent.spawn(self.end_test)

    def _stop_without_waiting(self) -> None:
        self.interrupted = True
        self.environment.stop_timeout = 0

    def stop_arrivals(self) -> None:
        """Abort on fail (`motcua.loadtest.abort`): this process's generator and every worker's start no new arrival;
        the run then ends as at the end of its profile."""
        self.aborting = True
        if self.role == "master":
            self.environment.runner.send_message(ABORT_MESSAGE, {})

    def until_aborted(self, times: Iterator[float]) -> Iterator[float]:
        """The arrival times, cut short once the run is aborted (the open-model generator draws them lazily)."""
        for offset in times:
            if self.aborting:
                return
            yield offset

    def end_test(self) -> None:
        """Stop the users (master: every worker's, and wait for them), which fires test_stop; then quit.

        The harness ends the test itself instead of Locust's ``--run-time``: in a headless master/worker run,
        Locust's timer quits the workers without waiting for journeys in flight, which would lose them.
        """
        if self._ending:
            return
        self._ending = True
        runner = self.environment.runner
        runner.stop()
        if self.web_ui is not None:  # --ui: keep the page up for --autoquit seconds (or until Ctrl-C)
            linger = getattr(self.options, "autoquit", -1)
            if linger < 0:
                return
            gevent.sleep(linger)
            runner.quit()
            self.web_ui.stop()
            return
        runner.quit()

    # ----------------------------------------------------------------- the run so far (master or local)

    def snapshot(self) -> LiveSnapshot:
        """What the run has recorded so far (`motcua.loadtest.live`); counts new records only."""
        seen, totals = self._live_seen, self._live_totals
        new_journeys = self.journeys[seen[0]:]
        totals[0] += sum(1 for j in new_journeys if not j[3])
        seen[0] = len(self.journeys)
        now = time.time()
        totals[1] = sum(ok + failed for ok, failed in self.http.values())  # a few hundred seconds: cheap
        totals[2] = sum(failed for _ok, failed in self.http.values())
        corr = self.correlator
        if corr is not None:
            self._callback_ms.extend(s.latency_ms for s in corr.samples[seen[1]:] if s.kind == IPN_ACK and s.ok)
            seen[1] = len(corr.samples)
            self._callback_ms.sort()
        return LiveSnapshot(
            elapsed_s=now - self.started_at,
            duration_s=self.options.motcua_duration,
            arrivals_started=len(self.arrivals),
            arrivals_dropped=len(self.drops),
            http_requests=totals[1],
            http_failures=totals[2],
            requests_per_s=requests_per_s(self.http, now),
            journeys_finished=len(self.journeys),
            journeys_failed=totals[0],
            callbacks=len(self._callback_ms),
            callback_ms={str(q): nearest_rank_ms(self._callback_ms, q) for q in CALLBACK_QUANTILES},
            lost_callbacks=len(corr.lost) if corr else 0,
            late_callbacks=len(corr.late) if corr else 0,
            finished=self._ending,
        )

    def start_live(self) -> None:
        """The live snapshot every 2 s into ``live.json`` (unless ``--motcua-live 0``), and the metrics endpoint."""
        self.live.start(self._live_folder(), getattr(self.options, "motcua_metrics_port", 0))

    def stop_live(self) -> None:
        self.live.stop(self._live_folder())

    def _live_folder(self) -> Path | None:
        opts = self.options
        return Path(opts.motcua_out) if opts.motcua_out and getattr(opts, "motcua_live", 1) else None

    # ----------------------------------------------------------------- worker → master

    def _take_delta(self) -> dict[str, Any]:
        delta = {
            "hdr": self.hdr.encode(),
            "journeys": self.journeys,
            "arrivals": self.arrivals,
            "drops": self.drops,
            "http": self.http,
            "officer": self.officer,
            "polls": self.polls,
        }
        self.hdr.reset()
        self.journeys, self.arrivals, self.drops, self.http, self.officer = [], [], [], {}, []
        self.polls = [0, 0]
        self._second = -1  # the next request starts a new entry of the new `http`
        return delta

    def _on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        data["motcua"] = self._take_delta()
        # once this worker's users have stopped and its officer has finished watching (test_stop ran), this
        # report holds every sample it will ever record
        data["motcua"]["stopped"] = self.finished and self.environment.runner.state == STATE_STOPPED

    def _on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        delta = data.get("motcua")
        if not delta:
            return
        if delta.get("stopped"):
            self.stopped_workers.add(client_id)
        self.hdr.merge_encoded(delta["hdr"])
        self.journeys.extend(delta["journeys"])
        self.arrivals.extend(delta["arrivals"])
        self.drops.extend(delta["drops"])
        self.officer.extend(delta["officer"])
        for i, count in enumerate(delta.get("polls", ())):
            self.polls[i] += count
        for sec, (ok, failed) in delta["http"].items():
            counts = self.http.setdefault(int(sec), [0, 0])
            counts[0] += ok
            counts[1] += failed

    def _on_approval_message(self, environment, msg, **_kw) -> None:
        if self.correlator is not None:
            self.correlator.approve(Approval(**msg.data))

    def _on_decline_message(self, environment, msg, **_kw) -> None:
        if self.correlator is not None:
            self.correlator.decline(*msg.data)

    # ----------------------------------------------------------------- callbacks (master or local)

    def _setup_correlator(self) -> None:
        agency = self.options.motcua_agency_url or self.environment.host or ""
        if not agency or not self.options.motcua_scenario or self.options.motcua_merchant:
            # no payment journeys (the benchmark's trivial journey), or a merchant under test, whose callbacks
            # are measured from the gateway's records after the run (motcua.loadtest.merchant)
            return

        def fire(request_type: str, name: str, ms: float, error: Exception | None) -> None:
            log_outside_total(self.environment.stats, request_type, name, ms, error)

        self.correlator = CallbackCorrelator(fire=fire, deadline_s=self.options.motcua_callback_deadline)
        if self.options.motcua_abort:
            self.abort_watch = AbortWatch.from_expressions(self.options.motcua_abort,
                                                           self.options.motcua_callback_deadline)
        self.reader = JournalReader(agency)
        if self.options.motcua_journal_since >= 0:
            self.reader.since = self.options.motcua_journal_since
        else:
            self.reader.skip_to_end()

    def start_reading(self) -> None:
        if self.correlator is not None and self._reader_greenlet is None:
            self._reader_greenlet = gevent.spawn(self._read_loop)

    def _read_loop(self) -> None:
        while True:
            self.poll_once()
            gevent.sleep(JOURNAL_POLL_S)

    def poll_once(self) -> None:
        if self.reader is None or self.correlator is None:  # only the master reads the journal, once set up
            return
        for event in self.reader.fetch():
            self.correlator.observe(event)
        self.correlator.expire()
        if self.abort_watch is not None and self.abort_watch.check(self.correlator):
            self.stop_arrivals()  # a threshold has already failed: no more arrivals; journeys in flight finish

    def drain(self) -> None:
        """At the end: keep reading until every approved payment is confirmed or past its deadline."""
        if self.correlator is None:
            return
        while not self.interrupted:  # interrupted: no waiting for callbacks still due
            self.poll_once()
            latest = self.correlator.latest_deadline()
            if latest is None or time.time() > latest + 1:
                break
            gevent.sleep(JOURNAL_POLL_S)
        if self._reader_greenlet is not None:
            self._reader_greenlet.kill(block=False)
            self._reader_greenlet = None
        self.poll_once()

    def wait_for_final_reports(self, limit_s: float = 4 * WORKER_REPORT_S) -> None:
        """Wait until every worker sent a report made after its users stopped (so no journey is missing)."""
        # Locust forgets a worker once it reports "stopped", so count the workers the run was started with
        end = time.time() + limit_s
        while len(self.stopped_workers) < self.options.motcua_generators and time.time() < end:
            gevent.sleep(0.1)

    def write(self) -> Path | None:
        """``harness.json``: everything the summary needs beside Locust's CSV."""
        out = self.options.motcua_out
        if not out or self.role == "worker":
            return None
        corr = self.correlator
        data = {
            "role": self.role,
            "interrupted": self.interrupted,
            "started_at": self.started_at,
            "written_at": time.time(),
            "cpu_s": self.cpu_s,
            "live_cpu_s": self.live.cpu_s,
            "hdr": self.hdr.encode(),
            "journeys": self.journeys,
            "arrivals": self.arrivals,
            "drops": self.drops,
            "http": {str(k): v for k, v in sorted(self.http.items())},
            "officer": self.officer,
            "polls": self.polls,
            "journal_since": self.options.motcua_journal_since,
            "journal_cursor": self.reader.since if self.reader else None,
            "journal_errors": self.reader.errors if self.reader else None,
            "approvals": [dataclasses.asdict(a) for a in corr.approvals.values()] if corr else [],
            "declined": sorted(corr.declined.items()) if corr else [],
            "callbacks": [s.as_row() for s in corr.samples] if corr else [],
            "lost": sorted(corr.lost) if corr else [],
            "late": sorted(corr.late) if corr else [],
            "confirmed_via": corr.confirmed_via if corr else {},
            "aborted": self.abort_watch.failed if self.abort_watch else None,
        }
        self.written = True
        return write_text(Path(out) / HARNESS, json.dumps(data))


def install() -> None:
    """Hook the harness into Locust's events (call once, from the locustfile)."""
    import locust.runners

    locust.runners.WORKER_REPORT_INTERVAL = WORKER_REPORT_S  # read by the workers' report loop on every turn

    @events.init_command_line_parser.add_listener
    def _args(parser, **_kw) -> None:
        add_arguments(parser)

    @events.init.add_listener
    def _init(environment, web_ui=None, **_kw) -> None:
        environment.motcua = Harness(environment)
        environment.motcua.web_ui = web_ui
        if environment.motcua.role != "worker" and environment.parsed_options.motcua_out:
            import signal

            gevent.signal_handler(signal.SIGINT, environment.motcua.interrupt)

    @events.test_start.add_listener
    def _start(environment, **_kw) -> None:
        harness: Harness = environment.motcua
        if harness._ending:  # --ui: the start button pressed again after the profile played
            logging.getLogger("motcua").error(REPLAY_REFUSED)
            gevent.spawn(environment.runner.stop)
            return
        harness.started_at = time.time()
        harness.cpu_at_start = time.process_time()
        harness.stopped_workers.clear()
        harness.finished = False
        harness.start_reading()
        harness.start_flushing()
        if harness.role != "worker":
            harness.start_live()
        opts = environment.parsed_options
        if harness.role != "worker" and opts.motcua_model == "closed" and opts.motcua_duration > 0:
            gevent.spawn_later(opts.motcua_duration, harness.end_test)

    @events.test_stop.add_listener
    def _stop(environment, **_kw) -> None:
        harness: Harness = environment.motcua
        if harness.written:  # --ui: a refused replay stops again; the run's files stay as written
            return
        harness.cpu_s = time.process_time() - harness.cpu_at_start
        harness.stop_flushing()  # the officer's listener has run: every journey of this process has finished
        if harness.role == "worker":
            harness.finished = True  # the officer's listener, registered before this one, has drained
            if environment.parsed_options.motcua_out:  # a run driven by `motcua loadtest`: leave after reporting
                gevent.spawn_later(WORKER_REPORT_S + 0.5, environment.runner.quit)
            return
        if harness.role == "master":
            harness.wait_for_final_reports()
        harness.drain()
        harness.stop_live()
        harness.write()
        # Locust writes its CSV every CSV_STATS_INTERVAL_SEC and does not rewrite it at shutdown: let it catch
        # the last CALLBACK samples, so its CSV and harness.json agree
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.3)
