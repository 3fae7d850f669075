"""Citizens paying public-service fees online: the main locustfile of the motcua workbench.

    locust -f locustfiles/locustfile.py --headless --host http://127.0.0.1:8003 \\
        --motcua-scenario scenarios/peak-day.toml --motcua-gateway-url … --motcua-bank-url … \\
        --motcua-rate 20 --motcua-duration 60 -u 2 -r 100 --run-time 75s  OpenArrivals ReconcilerUser

(`motcua loadtest` writes that command for you, starts the mocks and collects the results.)

Across machines, with Locust's own distribution (every process gets the same ``--motcua-*`` options and
the same scenario file; the master reads the agency's journal, so only it needs ``--motcua-out``)::

    master$  locust -f locustfiles/locustfile.py --master --expect-workers 4 --headless --host AGENCY_URL \
               --motcua-generators 4 --motcua-out results/manual … -u 5 -r 100  OpenArrivals ReconcilerUser
    worker$  locust -f locustfiles/locustfile.py --worker --master-host MASTER_IP --host AGENCY_URL \
               --motcua-generators 4 …  OpenArrivals ReconcilerUser       (four times, on any machines)

``-u`` is the number of generators plus one reconciler; each generator runs 1/``--motcua-generators`` of the
arrival rate. (`motcua loadtest` itself refuses non-loopback targets unless ``--allow-non-loopback``.)

Two workload models, chosen by the user classes named on the command line:

- **open** — ``OpenArrivals``: one arrival generator per Locust user (one per worker) starts citizens'
  journeys at Poisson times that follow the scenario's profile, whether or not earlier citizens have
  finished; each journey is timed from its *intended* start (`motcua.loadtest.arrivals`);
- **closed** — ``CitizenUser``: ordinary Locust users, each paying one fee after another.

Both come with ``ReconcilerUser`` (the agency's scheduled đối soát) and, in every process, an
`OfficerDesk` watching the dossiers its citizens paid. The harness (`motcua.loadtest.plugin`) adds
``JOURNEY``, ``CALLBACK`` and ``ARRIVAL`` entries to Locust's statistics. All parameters come from the
scenario file and the ``--motcua-*`` options, never from edits here.
"""

from __future__ import annotations

import gc
import ipaddress
import itertools
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
from locust import FastHttpUser, between, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import StopUser
from motcua.locustfiles.citizen import CitizenVisit
from motcua.locustfiles.officer import OfficerDesk
from motcua.locustfiles.reconciler import ReconcilerUser

from motcua.loadtest import plugin
from motcua.loadtest.arrivals import OpenModelEngine, arrival_times

if TYPE_CHECKING:
    from motcua.mock_services.common.people import PeopleGenerator

__all__ = ["CitizenUser", "OpenArrivals", "PlainUser", "ReconcilerUser"]

_generator_numbers = itertools.count()
_generators_running: list = []  # [gc threshold before the first, then one entry per generator running]


@events.init.add_listener
def _read_scenario(environment, **_kw) -> None:
    """Every process reads the scenario once: journey parameters, profile, service URLs."""
    from motcua.loadtest.params import journey_params
    from motcua.loadtest.profiles import constant, profile_from_scenario
    from motcua.scenario import load_scenario

    opts = environment.parsed_options
    agency = opts.motcua_agency_url or environment.host or ""
    environment.motcua_urls = {"agency": agency, "gateway": opts.motcua_gateway_url, "bank": opts.motcua_bank_url}
    environment.motcua_desk = None
    duration = opts.motcua_duration or None
    rate = opts.motcua_rate or None
    if opts.motcua_scenario:
        scenario = load_scenario(opts.motcua_scenario)
        environment.motcua_params = journey_params(scenario)
        environment.motcua_profile = profile_from_scenario(
            scenario, opts.motcua_profile or None, duration_s=duration, rate_per_s=rate
        )
        from motcua.mock_services.common.people import PeopleGenerator

        PeopleGenerator(0)  # Faker loads its vi_VN providers (≈0.2 s CPU) now, not in the test at the first arrival
    else:  # a bare run (benchmarks): a constant rate and no citizens' parameters
        environment.motcua_params = None
        environment.motcua_profile = constant(rate or 1.0, duration or 10.0)
    environment.motcua_merchant = None
    if opts.motcua_merchant:  # a merchant system under test (motcua loadtest --merchant)
        from motcua.loadtest.merchant import load_merchant

        environment.motcua_merchant = load_merchant(opts.motcua_merchant, allow_non_loopback=True)


@events.test_stop.add_listener
def _officer_goes_home(environment, **_kw) -> None:
    """Before the harness writes its results, the officer finishes watching (bounded by the deadline)."""
    desk = getattr(environment, "motcua_desk", None)
    if desk is not None and not environment.motcua.interrupted:  # Ctrl-C: no waiting for callbacks still due
        desk.drain()


plugin.install()  # after the officer's listener: the harness's test_stop must run last


def _resolve_ip_addresses_once() -> None:
    """A new HTTP connection to an IP address reuses the address's resolution instead of asking again.

    geventhttpclient calls ``getaddrinfo`` for every new connection, and gevent's default resolver runs
    it on a thread: a lock hand-off and a GIL switch per connection — costly exactly when the open model
    opens lanes (each with its own connection) because it has fallen behind. The answer for an IP
    literal such as 127.0.0.1 cannot change, so it is kept for the process; host names resolve as before.
    """
    from geventhttpclient.connectionpool import ConnectionPool

    resolve = ConnectionPool._resolve
    if getattr(resolve, "motcua_cached", False):
        return
    known: dict[tuple, list] = {}

    def _resolve(pool):
        try:
            ipaddress.ip_address(pool._connection_host)
        except ValueError:
            return resolve(pool)
        key = (pool._connection_host, pool._connection_port, pool.disable_ipv6)
        if key not in known:
            known[key] = resolve(pool)
        return known[key]

    _resolve.motcua_cached = True  # type: ignore[attr-defined]
    ConnectionPool._resolve = _resolve  # type: ignore[method-assign]


_resolve_ip_addresses_once()


def officer_desk(environment) -> OfficerDesk:
    """The process's officer, created on first use with her own HTTP client."""
    if environment.motcua_desk is None:
        opts = environment.parsed_options
        client = FastHttpSession(
            base_url=environment.motcua_urls["agency"],
            request_event=environment.events.request,
            user=None,
            concurrency=50,
            network_timeout=opts.motcua_request_timeout,
            connection_timeout=opts.motcua_request_timeout,
        )
        environment.motcua_desk = OfficerDesk(
            client,
            environment.motcua_urls["agency"],
            environment.motcua,
            poll_s=environment.motcua_params.officer_poll_s,
            deadline_s=opts.motcua_callback_deadline,
        )
    return environment.motcua_desk


def status_desk(environment):
    """The process's citizen watching the merchant's status page (None when the merchant file has none)."""
    if environment.motcua_merchant.status is None:
        return None
    if environment.motcua_desk is None:
        from motcua.locustfiles.merchant import StatusDesk

        environment.motcua_desk = StatusDesk(
            _session(environment, environment.motcua_urls["gateway"]), environment.motcua_merchant,
            environment.motcua, poll_s=min(environment.motcua_params.officer_poll_s, 0.5),
            deadline_s=environment.parsed_options.motcua_callback_deadline,
        )
    return environment.motcua_desk


def _session(environment, base_url: str) -> FastHttpSession:
    timeout = environment.parsed_options.motcua_request_timeout
    return FastHttpSession(base_url=base_url, request_event=environment.events.request, user=None, concurrency=50,
                           network_timeout=timeout, connection_timeout=timeout)


def _generator_seed(environment) -> list[int]:
    runner = environment.runner
    worker = max(0, getattr(runner, "worker_index", 0))
    return [environment.parsed_options.motcua_seed, worker, next(_generator_numbers)]


class _PayingUser(FastHttpUser):
    abstract = True
    concurrency = 200

    def __init__(self, environment) -> None:
        # FastHttpUser reads these in __init__: the HTTP timeouts come from --motcua-request-timeout
        self.network_timeout = self.connection_timeout = environment.parsed_options.motcua_request_timeout
        super().__init__(environment)

    def on_start(self) -> None:
        seed = _generator_seed(self.environment)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._people: PeopleGenerator | None = None
        self.harness = self.environment.motcua
        self.ref_prefix = f"MC{int(time.time()) % 10**7}{seed[1]:02d}{seed[2]:02d}"
        self.refs = itertools.count(1)

    @property
    def people(self) -> PeopleGenerator:
        """The payers (Faker ``vi_VN``), made at the first journey that needs one: the trivial journey never does."""
        if self._people is None:
            from motcua.mock_services.common.people import PeopleGenerator

            self._people = PeopleGenerator(int(np.random.SeedSequence(self.seed).generate_state(1)[0]))
        return self._people

    def citizen_visit(self, intended_at: float) -> None:
        """One citizen's visit, timed from `intended_at`; a JOURNEY sample named by its outcome."""
        env = self.environment
        visit = CitizenVisit(
            self.client,
            env.motcua_params,
            self.rng,
            self.people.person(),
            env.motcua_urls,
            self.harness,
            officer_desk(env),
        )
        self._run_visit(visit, intended_at, "citizen")

    def _run_visit(self, visit, intended_at: float, who: str) -> None:
        """Run one visit and record it as a JOURNEY named by its outcome (``who`` names the payer)."""
        try:
            outcome = visit.run()
        except Exception as exc:  # a bug or a broken connection: still a measured, failed journey
            self.harness.journey_done(f"{who} failed at unexpected error", intended_at, False, exc)
            return
        error = RuntimeError(f"{outcome.step}: {outcome.detail}") if outcome.result == "failed" else None
        self.harness.journey_done(outcome.name.replace("citizen", who, 1), intended_at, error is None, error)

    def merchant_visit(self, intended_at: float) -> None:
        """One citizen paying at the merchant under test (`locustfiles.merchant`), timed from `intended_at`."""
        from motcua.locustfiles.merchant import MerchantVisit

        env = self.environment
        ref = f"{self.ref_prefix}{next(self.refs)}"
        visit = MerchantVisit(self.client, env.motcua_params, self.rng, self.people.person(), env.motcua_urls,
                              env.motcua_merchant, status_desk(env), ref)
        self._run_visit(visit, intended_at, "merchant citizen")

    def journey(self):
        """The journey of ``--motcua-journey``: citizen (the agency), merchant (a merchant under test), trivial."""
        name = self.environment.parsed_options.motcua_journey
        return {"merchant": self.merchant_visit, "trivial": self.trivial_visit}.get(name, self.citizen_visit)

    def trivial_visit(self, intended_at: float) -> None:
        """The benchmark's journey: one GET of the host's root, timed from the intended start."""
        resp = self.client.get("/", name="/ (open model)")
        self.harness.journey_done("trivial", intended_at, resp.status_code == 200)


class OpenArrivals(_PayingUser):
    """An open-model arrival generator: starts journeys at the profile's Poisson times (its share of them)."""

    def __init__(self, environment) -> None:
        # one HTTP connection per journey in flight, up to the cap (FastHttpUser reads this in __init__)
        self.concurrency = environment.parsed_options.motcua_max_concurrency
        super().__init__(environment)

    @task
    def arrive(self) -> None:
        opts = self.environment.parsed_options
        share = 1.0 / max(1, opts.motcua_generators)
        # arrivals draw from their own stream: drawn lazily, they would otherwise interleave with the journeys'
        # draws in an order set by timing, and the same seed would not give the same arrival times
        arrivals_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(1)[0])
        times = self.harness.until_aborted(arrival_times(  # --slo-abort may cut them short
            self.environment.motcua_profile, arrivals_rng, share=share, poisson=opts.motcua_arrivals == "poisson"
        ))
        journey = self.journey()
        engine = OpenModelEngine(
            times,
            journey,
            max_concurrency=opts.motcua_max_concurrency,
            on_start=self.harness.arrival_started,
            on_drop=self.harness.arrival_dropped,
        )
        with _collector_out_of_the_way():
            engine.run()
        if self.environment.motcua_desk is not None:
            self.environment.motcua_desk.drain()
        self.harness.generator_done()
        raise StopUser()



@contextmanager
def _collector_out_of_the_way():
    """Keep Python's cyclic garbage collector from eating the generator's time while arrivals run.

    Locust, the scenario and the HTTP clients are loaded for good: `gc.freeze` moves them out of the
    collector's sight, or its full passes (which rescan them as the harness's records pile up) stall every
    lane for tens of milliseconds — late starts the open model would blame on the server. Each request
    allocates ~100 tracked objects, so the default young-generation threshold (700) runs a collection every
    few requests; at 100,000 it runs every thousand or so (measured: ~10 % more requests/s near saturation).
    """
    if not _generators_running:
        _generators_running.append(gc.get_threshold())  # the process's own setting, restored by the last one
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
    _generators_running.append(None)
    try:
        yield
    finally:
        _generators_running.pop()
        if len(_generators_running) == 1:
            gc.set_threshold(*_generators_running.pop())
            gc.unfreeze()


class CitizenUser(_PayingUser):
    """The closed model: a citizen pays, thinks a little, and the next one comes only then."""

    wait_time = between(0.5, 2.0)

    @task
    def pay_a_fee(self) -> None:
        self.journey()(time.time())


class PlainUser(FastHttpUser):
    """The benchmark's baseline: plain Locust, GET of the host's root as fast as it answers."""

    @task
    def get_root(self) -> None:
        self.client.get("/", name="/ (plain)")
