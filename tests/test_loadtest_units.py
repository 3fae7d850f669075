"""The harness's parts that need no server: profiles, arrival times, percentiles, correlator, SLO gates, JUnit."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.commands.loadtest import parse_duration
from motcua.errors import InputError, SLOBreach
from motcua.loadtest.arrivals import arrival_times
from motcua.loadtest.callbacks import CALLBACK, Approval, CallbackCorrelator
from motcua.loadtest.junit import write_junit
from motcua.loadtest.percentiles import HdrSet, exact_summary
from motcua.loadtest.profiles import constant, fit_profile, profile_from_scenario
from motcua.loadtest.runner import LoadtestOptions
from motcua.loadtest.slo import evaluate, raise_if_failed, table
from motcua.safety import nearest_rank
from motcua.scenario import Profile as ScenarioProfile
from motcua.scenario import load_scenario

PEAK_DAY = "scenarios/peak-day.toml"


# ----------------------------------------------------------------------------- profiles


def test_peak_day_is_compressed_into_the_run():
    scenario = load_scenario(PEAK_DAY)
    profile = profile_from_scenario(scenario, "peak_day", duration_s=24.0)
    hourly = scenario.load.profiles["peak_day"].hourly
    # one real second per scenario hour: second 9.5 is 09:30, the morning peak
    assert profile.time_compression == pytest.approx(3600)
    assert profile.rate(9.5) == pytest.approx(10 * hourly[9])
    assert profile.rate(2.5) == pytest.approx(10 * hourly[2])
    assert profile.rate(24.0) == 0.0
    assert profile.expected_arrivals() == pytest.approx(10 * sum(hourly), rel=1e-6)


def test_rate_flag_rescales_the_shape():
    scenario = load_scenario(PEAK_DAY)
    steps = profile_from_scenario(scenario, "steps", rate_per_s=320)
    assert steps.base_rate == pytest.approx(320)  # the highest step becomes 320/s
    assert steps.rate(0.0) == pytest.approx(20)  # 10/s × 2
    spike = profile_from_scenario(scenario, "spike", rate_per_s=40)
    assert spike.rate(5) == pytest.approx(40) and spike.rate(25) == pytest.approx(240)
    assert spike.scaled(0.5).rate(25) == pytest.approx(120)


def test_unknown_profile_names_the_defined_ones():
    scenario = load_scenario(PEAK_DAY)
    with pytest.raises(InputError, match=r"--profile 'rush': no such profile .* defined: smoke, constant"):
        profile_from_scenario(scenario, "rush")


def test_bad_rate_and_duration_are_refused_with_the_fix():
    shape = ScenarioProfile(kind="constant", rate_per_s=5, duration_s=10)
    with pytest.raises(InputError, match=r"--rate = -1: must be > 0"):
        fit_profile("c", shape, rate_per_s=-1)
    with pytest.raises(InputError, match=r"--duration 'soon': not a positive duration; write e.g. 60s"):
        parse_duration("soon")
    assert parse_duration("1.5m") == 90 and parse_duration("250ms") == 0.25 and parse_duration("20") == 20


# ----------------------------------------------------------------------------- arrivals


def test_poisson_arrivals_have_poisson_counts():
    """Counts in a window of a rate-λ Poisson process: mean λT and variance λT (index of dispersion 1)."""
    profile = constant(50.0, 10.0)
    counts = [sum(1 for _ in arrival_times(profile, np.random.default_rng(seed))) for seed in range(200)]
    mean, var = np.mean(counts), np.var(counts, ddof=1)
    assert mean == pytest.approx(500, rel=0.02)
    assert var / mean == pytest.approx(1.0, abs=0.25)


def test_interarrival_times_are_exponential():
    from scipy import stats

    times = np.array(list(arrival_times(constant(100.0, 60.0), np.random.default_rng(3))))
    gaps = np.diff(times)
    assert np.all(gaps >= 0)
    assert stats.kstest(gaps, "expon", args=(0, 1 / 100)).pvalue > 0.01


def test_deterministic_arrivals_are_evenly_spaced():
    times = list(arrival_times(constant(20.0, 5.0), np.random.default_rng(1), poisson=False))
    assert len(times) in (99, 100)
    assert np.allclose(np.diff(times), 0.05, atol=1e-9)


def test_generators_with_shares_add_up_to_the_rate():
    """Two workers at half the rate each: the superposition has the full rate."""
    scenario = load_scenario(PEAK_DAY)
    profile = profile_from_scenario(scenario, "spike", rate_per_s=40)
    total = [
        sum(1 for _ in arrival_times(profile, np.random.default_rng([seed, w]), share=0.5))
        for seed in range(40)
        for w in (0, 1)
    ]
    per_run = np.sum(np.reshape(total, (40, 2)), axis=1)
    assert np.mean(per_run) == pytest.approx(profile.expected_arrivals(), rel=0.03)


def test_non_homogeneous_arrivals_follow_the_profile():
    scenario = load_scenario(PEAK_DAY)
    profile = profile_from_scenario(scenario, "steps")  # 10, 20, 40, 80, 160 per s, 30 s each
    assert profile.duration_s == 150
    times = np.concatenate([list(arrival_times(profile, np.random.default_rng(s))) for s in range(4)])
    per_step = np.histogram(times, bins=[0, 30, 60, 90, 120, 150])[0] / 4 / 30
    assert per_step == pytest.approx([10, 20, 40, 80, 160], rel=0.06)


# ----------------------------------------------------------------------------- percentiles


def test_nearest_rank_percentiles():
    values = list(range(1, 101))
    assert nearest_rank(values, 50) == 50 and nearest_rank(values, 99) == 99 and nearest_rank(values, 100) == 100
    assert math.isnan(nearest_rank([], 50))
    summary = exact_summary([5.0, 1.0, 3.0])
    assert summary["count"] == 3 and summary["p50"] == 3.0 and summary["max"] == 5.0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=60_000), min_size=1, max_size=300))
def test_hdr_percentiles_are_within_three_digits_of_exact(values):
    hdr = HdrSet()
    for v in values:
        hdr.record("x", v)
    got = hdr.summary()["x"]
    want = exact_summary(values)
    for key in ("p50", "p99", "max"):
        assert got[key] == pytest.approx(want[key], rel=2e-3, abs=2e-3)


def test_hdr_uses_the_nearest_rank_rule():
    hdr = HdrSet()
    for v in range(1, 61):
        hdr.record("x", float(v))
    assert hdr.summary()["x"]["p99"] == pytest.approx(60, rel=1e-3)  # the 60th of 60 values, as exact_summary


def test_hdr_merged_across_workers_equals_one_histogram():
    rng = np.random.default_rng(1)
    a, b, both = HdrSet(), HdrSet(), HdrSet()
    for i, v in enumerate(rng.lognormal(3, 1, 5000)):
        (a if i % 2 else b).record("POST /charge", v)
        both.record("POST /charge", v)
    master = HdrSet()
    master.merge_encoded(a.encode())
    master.merge_encoded(b.encode())
    assert master.summary() == both.summary()


# ----------------------------------------------------------------------------- JOURNEY rows in Locust's statistics


def test_journey_batches_give_locust_the_same_statistics_as_one_event_per_journey(monkeypatch):
    import time

    monkeypatch.setenv("LOCUST_SKIP_MONKEY_PATCH", "1")  # importing Locust must not gevent-patch the test process
    from locust.stats import RequestStats

    from motcua.loadtest.journey_stats import JourneyBatch

    rng = np.random.default_rng(5)
    failed = RuntimeError("pay: bank refused")
    # 400 journeys over ~4 s, from 1 ms to 12 s (every Locust bucket width), one in ten failed, two names
    finished = 1_700_000_000.0 + np.sort(rng.uniform(0, 4, 400))
    rows = [
        ("citizen paid" if k % 3 else "citizen gave up", float(t), float(ms), failed if k % 10 == 0 else None)
        for k, (t, ms) in enumerate(zip(finished, np.exp(rng.uniform(0, np.log(12_000), 400)), strict=True))
    ]
    one_by_one, batched = RequestStats(), RequestStats()
    for name, t, ms, error in rows:  # what firing Locust's request event per journey records, at its finish time
        monkeypatch.setattr(time, "time", lambda t=t: t)
        one_by_one.log_request("JOURNEY", name, ms, 0)
        if error is not None:
            one_by_one.log_error("JOURNEY", name, error)
    monkeypatch.undo()
    batch = JourneyBatch("JOURNEY")
    for row in rows[:150]:
        batch.add(*row)
    assert batch.flush(batched) == 150
    for row in rows[150:]:
        batch.add(*row)
    assert batch.flush(batched) == 250 and batch.flush(batched) == 0

    def facts(entry):
        return (
            entry.num_requests,
            entry.num_failures,
            round(entry.total_response_time, 6),
            entry.min_response_time,
            entry.max_response_time,
            dict(entry.response_times),
            dict(entry.num_reqs_per_sec),
            dict(entry.num_fail_per_sec),
            entry.last_request_timestamp,
            entry.get_response_time_percentile(0.99),
        )

    assert (
        set(batched.entries) == set(one_by_one.entries) == {("citizen paid", "JOURNEY"), ("citizen gave up", "JOURNEY")}
    )
    for key, entry in one_by_one.entries.items():
        assert facts(batched.entries[key]) == facts(entry)
    assert batched.total.num_requests == batched.total.num_failures == 0  # not HTTP: outside "Aggregated"
    assert {k: e.occurrences for k, e in batched.errors.items()} == {
        k: e.occurrences for k, e in one_by_one.errors.items()
    }


def test_harness_samples_get_their_own_rows_outside_locusts_aggregated_row(monkeypatch):
    """CALLBACK and ARRIVAL samples: a row and an error entry each, as Locust logs a request, but no total."""
    monkeypatch.setenv("LOCUST_SKIP_MONKEY_PATCH", "1")
    from locust.stats import RequestStats

    from motcua.loadtest.journey_stats import log_outside_total

    stats = RequestStats()
    stats.log_request("POST", "/payments", 12, 100)  # one real HTTP request
    lost = RuntimeError("callback lost")
    log_outside_total(stats, CALLBACK, "ipn_ack bank:AGRIBANK", 360.0, None)
    log_outside_total(stats, CALLBACK, "ipn_ack bank:AGRIBANK", 5000.0, lost)
    log_outside_total(stats, "ARRIVAL", "dropped (concurrency cap)", 0, RuntimeError("dropped"))
    row = stats.entries[("ipn_ack bank:AGRIBANK", CALLBACK)]
    assert (row.num_requests, row.num_failures, row.max_response_time) == (2, 1, 5000.0)
    assert stats.entries[("dropped (concurrency cap)", "ARRIVAL")].num_failures == 1
    assert (stats.total.num_requests, stats.total.num_failures) == (1, 0)
    assert sorted(e.method for e in stats.errors.values()) == ["ARRIVAL", CALLBACK]


# ----------------------------------------------------------------------------- callbacks


class Fired(list):
    def __call__(self, request_type, name, ms, error):
        self.append((request_type, name, round(ms, 3), None if error is None else str(error)))


def _approval(pid: str, at: float) -> Approval:
    return Approval(pid, f"D-{pid}", "AGRIBANK", "fee", 200_000, at)


def test_confirmed_callback_is_timed_by_the_agencys_timestamps():
    fired = Fired()
    corr = CallbackCorrelator(fire=fired, deadline_s=5)
    corr.approve(_approval("p1", 100.0))
    corr.observe(
        {
            "type": "payment_confirmed",
            "payment_id": "p1",
            "bank_code": "AGRIBANK",
            "group": "fee",
            "bank_approved_at": 100.0,
            "ipn_acked_at": 100.36,
            "at": 100.36,
        }
    )
    assert fired == [
        (CALLBACK, "ipn_ack bank:AGRIBANK", 360.0, None),
        (CALLBACK, "ipn_ack group:fee", 360.0, None),
    ]
    assert corr.pending == {} and corr.lost == set()


def test_confirmation_before_the_approval_message_is_not_lost():
    fired = Fired()
    corr = CallbackCorrelator(fire=fired, deadline_s=5)
    corr.observe(
        {
            "type": "payment_confirmed",
            "payment_id": "p1",
            "bank_code": "BIDV",
            "group": "fine",
            "bank_approved_at": 10.0,
            "ipn_acked_at": 10.05,
        }
    )
    corr.approve(_approval("p1", 10.0))
    assert corr.expire(now=1e12) == 0 and len(fired) == 2


def test_missing_callback_fails_at_its_deadline_and_a_late_one_is_not_counted_twice():
    fired = Fired()
    corr = CallbackCorrelator(fire=fired, deadline_s=5)
    corr.approve(_approval("p1", 100.0))
    assert corr.expire(now=104.9) == 0
    assert corr.expire(now=105.0) == 1
    assert fired[0][:3] == (CALLBACK, "ipn_ack bank:AGRIBANK", 5000.0)
    assert "no IPN acknowledged within 5 s" in fired[0][3]
    corr.observe({"type": "payment_confirmed", "payment_id": "p1", "bank_approved_at": 100.0, "ipn_acked_at": 200.0})
    assert len(fired) == 2 and corr.late == {"p1"} and corr.lost == {"p1"}


def test_payment_found_only_by_reconciliation_is_a_lost_callback():
    fired = Fired()
    corr = CallbackCorrelator(fire=fired, deadline_s=60)
    corr.approve(_approval("p2", 100.0))
    corr.observe(
        {
            "type": "paid_by_reconciliation",
            "payment_id": "p2",
            "bank_code": "AGRIBANK",
            "group": "fee",
            "bank_approved_at": 100.0,
            "at": 101.0,
        }
    )
    assert corr.lost == set() and fired == []  # its IPN may still come: it waits for its deadline
    assert corr.expire(now=160.0) == 1
    assert corr.lost == {"p2"} and corr.pending == {}
    assert fired[0][3] == "no IPN acknowledged within 60 s of bank approval; the payment was found only by " \
                          "reconciliation (đối soát)"


def test_an_ipn_after_the_reconciliation_within_the_deadline_arrived():
    """The đối soát ran first; the IPN came 4 s after approval (the agency answered 02): not lost, not late."""
    fired = Fired()
    corr = CallbackCorrelator(fire=fired, deadline_s=60)
    corr.approve(_approval("p3", 100.0))
    corr.observe({"type": "paid_by_reconciliation", "payment_id": "p3", "bank_code": "AGRIBANK", "group": "fee",
                  "at": 101.0})
    corr.observe({"type": "ipn_duplicate", "payment_id": "p3", "bank_code": "AGRIBANK", "group": "fee", "at": 104.0})
    assert corr.expire(now=1e12) == 0
    assert corr.lost == set() and corr.late == set()
    assert fired == [(CALLBACK, "ipn_ack bank:AGRIBANK", 4000.0, None), (CALLBACK, "ipn_ack group:fee", 4000.0, None)]


# ----------------------------------------------------------------------------- SLO gates and JUnit


def test_slo_table_and_breach_message():
    verdicts = evaluate(
        {"callback_p95_ms": 500, "lost_callbacks": 0, "error_rate": 0.01},
        {"callback_p95_ms": 812.5, "lost_callbacks": 0, "error_rate": 0.002},
    )
    text = table(verdicts)
    assert "callback_p95_ms  500.0 ms  812.5 ms  FAIL" in text
    assert "error_rate       1.0000%   0.2000%   PASS" in text
    with pytest.raises(SLOBreach, match=r"callback_p95_ms: measured 812.5 ms > limit 500.0 ms") as exc:
        raise_if_failed(verdicts)
    assert exc.value.exit_code == 3


def test_an_slo_with_nothing_measured_fails():
    (verdict,) = evaluate({"callback_p95_ms": 500}, {"callback_p95_ms": None})
    assert not verdict.passed


def test_unknown_slo_gate_is_refused():
    with pytest.raises(InputError, match=r"\[slo\] p999_ms = 5: unknown gate; known gates: callback_p95_ms"):
        evaluate({"p999_ms": 5}, {})


def test_junit_xml_has_one_case_per_gate_and_the_invariant(tmp_path):
    verdicts = evaluate({"create_p99_ms": 100, "lost_callbacks": 0}, {"create_p99_ms": 150.0, "lost_callbacks": 0})
    path = write_junit(tmp_path / "j.xml", "peak-day", verdicts, invariant_ok=True, invariant_detail="12 approved")
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='slo.create_p99_ms']/failure")
    assert failure.get("message") == "measured 150.0 ms > limit 100.0 ms"


# ----------------------------------------------------------------------------- options


def test_non_loopback_targets_are_refused_without_the_flag():
    with pytest.raises(InputError, match=r"host '10.0.0.5' is not loopback; .* --allow-non-loopback"):
        LoadtestOptions(gateway_url="http://10.0.0.5:1", agency_url="http://127.0.0.1:2", bank_url="http://127.0.0.1:3")
    with pytest.raises(InputError, match=r"give all three or none"):
        LoadtestOptions(agency_url="http://127.0.0.1:2")
    with pytest.raises(InputError, match=r"--rate and --users exclude each other"):
        LoadtestOptions(rate_per_s=5, users=3)


def test_scenario_banks_become_the_bank_services_catalogue(tmp_path):
    from motcua.mock_services.bank import load_catalogue

    from motcua.loadtest.runner import write_bank_catalogue

    scenario = load_scenario("scenarios/national.toml")  # includes a pooled "OTHER_BANKS" the mock does not know
    path = write_bank_catalogue(scenario, tmp_path / "banks.toml")
    catalogue = load_catalogue(path)
    assert tuple(catalogue.values()) == scenario.payment_system.banks  # one BankProfile type, read back unchanged
    assert catalogue["OTHER_BANKS"].code == "OTHER_BANKS" and path.read_text().startswith("# Written by motcua")
    assert list(tmp_path.iterdir()) == [path]  # written atomically: no temporary file left behind


def test_journey_parameters_come_from_the_scenario():
    from motcua.loadtest.params import journey_params

    params = journey_params(load_scenario(PEAK_DAY))
    assert params.group_mix["insurance"] == pytest.approx(16_000 / 38_000, abs=1e-3)
    assert params.vneid_level2_share == 0.9 and params.officer_poll_s == 1
    assert all(p.fee_vnd > 0 and p.group == g for g, procs in params.procedures.items() for p in procs)
    rng = np.random.default_rng(1)
    groups = [params.choose_group(rng) for _ in range(20_000)]
    assert groups.count("insurance") / 20_000 == pytest.approx(0.421, abs=0.015)
    banks = [params.choose_bank(rng) for _ in range(20_000)]
    assert banks.count("VNPTPAY") / 20_000 == pytest.approx(0.10, abs=0.01)


def test_command_refuses_a_non_loopback_target_with_exit_2(capsys):
    from motcua.cli import main

    code = main(
        [
            "loadtest",
            PEAK_DAY,
            "--gateway-url",
            "http://192.0.2.7:8001",
            "--agency-url",
            "http://127.0.0.1:8003",
            "--bank-url",
            "http://127.0.0.1:8002",
        ]
    )
    assert code == 2
    assert "host '192.0.2.7' is not loopback" in capsys.readouterr().err


def test_command_names_a_missing_scenario(capsys):
    from motcua.cli import main

    assert main(["loadtest", "scenarios/no-such.toml"]) == 2
    assert "scenarios/no-such.toml: scenario file not found" in capsys.readouterr().err


def test_chart_language_is_checked():
    from motcua.report.loadtest_charts import labels

    assert labels("vi")["throughput_title"] == "Thông lượng theo thời gian"
    assert set(labels("vi")) == set(labels("en"))
    with pytest.raises(InputError, match=r"--lang 'fr': unknown language; choose one of vi, en"):
        labels("fr")


# ----------------------------------------------------------------------------- the runner's public names and seams


def test_runner_re_exports_its_public_names():
    import motcua.loadtest.runner as runner

    assert runner.__all__ == [
        "ChartWriter", "LoadtestOptions", "LoadtestPlan", "LocustJob", "Summary", "check_reachable",
        "default_deadline", "find_capacity", "harness_charges", "locust_commands", "measure_run", "plan_loadtest",
        "print_report", "run_loadtest", "run_locust", "system_under_test", "verdicts_of", "write_bank_catalogue",
    ]  # fmt: skip
    assert all(getattr(runner, name, None) is not None for name in runner.__all__)


def test_plan_settles_the_deadline_and_the_limits_before_anything_starts():
    from motcua.loadtest.runner import default_deadline, plan_loadtest

    scenario = load_scenario(PEAK_DAY)
    options = LoadtestOptions(rate_per_s=5, duration_s=30, time_scale=0.5, slo={"lost_callbacks": 3})
    plan = plan_loadtest(Path(PEAK_DAY), options)
    assert plan.options.callback_deadline_s == plan.deadline_s == default_deadline(scenario, options) >= 10
    assert plan.limits["lost_callbacks"] == 3 and plan.limits["callback_p95_ms"] == scenario.slo.callback_p95_ms
    assert plan.profile.base_rate == pytest.approx(5) and plan.profile.duration_s == 30
    assert list(plan.parameters()) == ["model", "profile", "workers", "users", "slo", "time_scale",
                                       "callback_deadline_s", "thresholds"]
    assert plan.parameters()["time_scale"] == 0.5


def test_locust_commands_of_a_master_and_two_workers(tmp_path):
    from motcua.loadtest.runner import LocustJob, locust_commands

    urls = {"gateway": "http://127.0.0.1:1", "bank": "http://127.0.0.1:2", "agency": "http://127.0.0.1:3"}
    options = LoadtestOptions(workers=2, callback_deadline_s=12.0, quiet=True)
    job = LocustJob(scenario_path=Path(PEAK_DAY), profile=constant(5.0, 30.0), options=options, urls=urls,
                    folder=tmp_path, since=7)
    master, *workers = locust_commands(job)

    def value(argv: list[str], flag: str) -> str:
        return argv[argv.index(flag) + 1]

    assert len(workers) == 2 and workers[0] == workers[1]
    assert value(master, "-u") == "3" and value(master, "--expect-workers") == "2"  # 2 generators + the reconciler
    assert value(master, "--stop-timeout") == "82" and value(master, "--run-time") == "142s"  # 12 + 6×10 + 10
    assert value(master, "--csv") == str(tmp_path / "locust" / "stats") and "--headless" in master
    assert value(master, "--motcua-journal-since") == "7" and value(master, "--host") == urls["agency"]
    assert workers[0][-7:] == ["--worker", "--master-host", "127.0.0.1", "--master-port",
                               value(master, "--master-bind-port"), "OpenArrivals", "ReconcilerUser"]
    unsettled = LocustJob(scenario_path=Path(PEAK_DAY), profile=constant(5.0, 30.0), options=LoadtestOptions(),
                          urls=urls, folder=tmp_path, since=7)
    with pytest.raises(InputError, match=r"LoadtestOptions.callback_deadline_s is not set"):
        locust_commands(unsettled)
