"""The load-test harness: Locust traffic of citizens paying public-service fees, measured honestly.

Plain Locust runs closed-loop users and buckets its percentiles. This package adds what an engineer
stress-testing the payment path needs (issue 3):

- `profiles`    arrival-rate shapes over a run: constant, ramp, steps, spike, a compressed peak day;
- `arrivals`    the open workload model: Poisson (or deterministic) arrivals that start journeys whether
                or not earlier ones finished, timed from the *intended* start, with a concurrency cap whose
                refusals are counted as dropped arrivals;
- `percentiles` HDR and exact percentiles beside Locust's bucketed ones (nearest rank, `motcua.safety`'s rule);
- `callbacks`   the agency's event journal turned into ``CALLBACK`` samples (bank approval → IPN acknowledged),
                with a deadline after which a missing callback is a failure;
- `slo`, `junit` the SLO gates of the scenario's ``[slo]`` table and their JUnit XML;
- `runner`      `run_loadtest`: mocks, a Locust master and workers as real processes, then the reconciliation
                pass and the payment invariant of `motcua.safety` (the same as ``motcua mock --check``'s);
                a package: options, system under test, Locust processes, capacity search, console;
- `merchant`    a merchant system under test (VNPay), on the runner's plan, system under test and Locust processes;
                its file in `merchant_file`, its IPN verdicts (failed payments, races) and findings in `merchant_ipns`;
- `summary`     ``summary.json`` from Locust's CSV and the harness's own statistics, and the `Summary` handed back.

Nothing here imports Locust or gevent at module level except the modules the locustfile loads
(`plugin`), so the `motcua` process itself is never monkey-patched.
"""
