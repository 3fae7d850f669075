"""Verdicts an engineer can trust (issue 18 items 1, 2, 4, 5; issue 19 items 5, 6), without a running stack.

- the bank's notification delay has a declared cap, and the default callback deadline follows it;
- lost and late callbacks are separate counts, reconciled with the agency's journal; censored percentiles are marked;
- a run with nothing to check fails; journey failures are a gate; the console names the top failure reasons;
- k6-style thresholds: parsed with clear errors, overriding the scenario, every verdict carrying its measured value;
- the capacity search's per-step verdicts with a Wilson interval.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from motcua.errors import InputError, SLOBreach
from motcua.loadtest import metrics, slo, thresholds
from motcua.loadtest.confidence import StepEvidence, knee, wilson
from motcua.loadtest.junit import write_junit
from motcua.loadtest.profiles import constant
from motcua.loadtest.runner import LoadtestOptions, default_deadline, plan_loadtest
from motcua.loadtest.runner.console import capacity_lines, print_report
from motcua.loadtest.summary import Summary, build_summary, callback_summaries, journey_summaries
from motcua.payment_platform import BankProfile, FieldProblem
from motcua.runs import PROJECT_ROOT
from motcua.scenario import load_scenario

PEAK_DAY = PROJECT_ROOT / "scenarios" / "peak-day.toml"


# ----------------------------------------------------------------------------- the bank's cap and the deadline


def test_a_banks_notification_cap_defaults_to_twice_its_p95_and_may_be_declared():
    bank = BankProfile(code="AGRIBANK", name="Agribank", p50_ms=450, p95_ms=2500, notify_p50_ms=1200,
                       notify_p95_ms=15000)
    assert bank.notify_cap_ms == 30000 and bank.public()["notify_max_ms"] == 30000
    declared = BankProfile(code="BIDV", name="BIDV", p50_ms=1, p95_ms=2, notify_p50_ms=700, notify_p95_ms=5000,
                           notify_max_ms=8000)
    assert declared.notify_cap_ms == 8000


def test_a_cap_below_the_p95_is_refused():
    bank = BankProfile(code="BIDV", name="BIDV", p50_ms=1, p95_ms=2, notify_p50_ms=700, notify_p95_ms=5000,
                       notify_max_ms=4000)
    with pytest.raises(FieldProblem, match="notify_max_ms"):
        bank.check()


def test_the_bank_mock_never_notifies_later_than_its_cap():
    from motcua.mock_services.common.faults import lognormal_ms

    bank = BankProfile(code="AGRIBANK", name="Agribank", p50_ms=1, p95_ms=2, notify_p50_ms=1200, notify_p95_ms=15000)
    rng = np.random.Generator(np.random.PCG64(3))
    draws = [min(lognormal_ms(rng, bank.notify_p50_ms, bank.notify_p95_ms), bank.notify_cap_ms) for _ in range(20000)]
    assert max(draws) == bank.notify_cap_ms  # the tail reaches the cap (about 2% of draws) and stops there
    assert 0.005 < sum(d == bank.notify_cap_ms for d in draws) / len(draws) < 0.04
    source = (PROJECT_ROOT / "mock_services" / "bank" / "app.py").read_text(encoding="utf-8")
    assert "profile.notify_cap_ms)" in source  # the service draws the same way


def test_a_banks_charge_latency_is_capped_like_its_notification_delay():
    from motcua.mock_services.bank.app import charge_latency_ms

    bank = BankProfile(code="AGRIBANK", name="Agribank", p50_ms=450, p95_ms=2500, notify_p50_ms=1, notify_p95_ms=2)
    assert bank.charge_cap_ms == 5000 and bank.public()["max_ms"] == 5000
    rng = np.random.Generator(np.random.PCG64(3))
    draws = [charge_latency_ms(rng, bank) for _ in range(20000)]
    assert max(draws) == bank.charge_cap_ms  # the tail reaches the cap (about 2% of draws) and stops there
    assert 0.005 < sum(d == bank.charge_cap_ms for d in draws) / len(draws) < 0.04
    assert sorted(draws)[len(draws) // 2] == pytest.approx(450, rel=0.05)  # below the cap: the declared lognormal
    declared = BankProfile(code="BIDV", name="BIDV", p50_ms=300, p95_ms=1200, max_ms=1500, notify_p50_ms=1,
                           notify_p95_ms=2)
    assert max(charge_latency_ms(rng, declared) for _ in range(5000)) == 1500
    with pytest.raises(FieldProblem, match=r"^max_ms: must be ≥ p95_ms"):
        BankProfile(code="BIDV", name="BIDV", p50_ms=300, p95_ms=1200, max_ms=1000, notify_p50_ms=1,
                    notify_p95_ms=2).check()


def test_the_default_deadline_is_the_slowest_cap_plus_a_margin():
    scenario = load_scenario(PEAK_DAY)
    slowest = max(b.notify_cap_ms for b in scenario.payment_system.banks) / 1000
    assert default_deadline(scenario, LoadtestOptions(rate_per_s=1)) == slowest + 15 == 45
    assert default_deadline(scenario, LoadtestOptions(rate_per_s=1, time_scale=0.01)) == 10  # the floor


# ----------------------------------------------------------------------------- lost, late, censored


def _row(pid: str, ms: float, ok: bool, bank: str = "AGRIBANK") -> list:
    return ["ipn_ack", pid, bank, "fee", ms, ok, 0.0]


def test_a_percentile_on_a_lost_callback_is_censored_at_the_deadline():
    rows = [_row(f"p{i}", 100.0 + i, True) for i in range(18)] + [_row("x", 45000, False), _row("y", 45000, False)]
    cb = callback_summaries(rows, deadline_ms=45000)["ipn_ack"]
    assert cb["p95"] == 45000 and "p95" in cb["censored"] and "max" in cb["censored"]
    assert "p50" not in cb["censored"] and cb["p50"] == 109
    assert cb["failures"] == 2 and cb["by_bank"]["AGRIBANK"]["censored"] == cb["censored"]


def test_nothing_censored_when_every_callback_arrived():
    cb = callback_summaries([_row("a", 10.0, True), _row("b", 20.0, True)], deadline_ms=45000)["ipn_ack"]
    assert cb["censored"] == [] and cb["max"] == 20.0


def _harness(*, approvals: int = 2, lost=(), late=(), journeys=None) -> dict:
    t0 = 1_800_000_000.0
    return {
        "hdr": {}, "http": {str(int(t0)): [10, 0]}, "arrivals": [[t0, 0.0]] * approvals, "drops": [],
        "journeys": journeys if journeys is not None else [["citizen paid", t0, 900.0, True]] * approvals,
        "callbacks": [_row(f"p{i}", 300.0, True) for i in range(approvals - len(lost))]
        + [_row(pid, 45000.0, False) for pid in lost],
        "officer": [], "approvals": [{"payment_id": f"p{i}", "approved_at": t0} for i in range(approvals)],
        "lost": sorted(lost), "late": sorted(late), "started_at": t0,
    }


def _summary(harness: dict, tmp_path: Path, **kw) -> dict:
    profile = constant(2.0, 10.0)

    class Shape:
        model, workers, users = "open", 0, None

    invariant = {"ok": True, "bank_approved": len(harness["approvals"]), "approved_vnd": 0, "marked_paid": 0,
                 "paid_by_ipn": 0, "paid_by_reconciliation": 0, "credited_vnd": 0}
    return build_summary(harness, tmp_path, scenario="peak-day", profile=profile, options=Shape(),
                         reconciliation=[], invariant=invariant, run_seconds=10.0, deadline_s=45.0, **kw)


def test_a_callback_the_harness_gave_up_on_that_the_journal_shows_paid_by_ipn_is_late_not_lost(tmp_path):
    harness = _harness(approvals=5, lost=("p3", "p4"))
    data = _summary(harness, tmp_path, ipn_confirmed=frozenset({"p4"}))
    assert data["lost_callbacks"] == 1 and data["late_callbacks"] == 1
    assert data["slo_censored"] == ["callback_p95_ms"]  # 2 of 5 censored: the p95 is only known to be ≥ 45 s


def test_late_is_counted_once_and_not_also_as_lost(tmp_path):
    data = _summary(_harness(approvals=3, lost=("p2",), late=("p2",)), tmp_path)
    assert data["lost_callbacks"] == 0 and data["late_callbacks"] == 1


def test_a_censored_p95_fails_its_gate_and_says_so(tmp_path):
    data = _summary(_harness(approvals=5, lost=("p3", "p4")), tmp_path)
    verdicts = {v.name: v for v in slo.judge(slo.plan_thresholds({"callback_p95_ms": 10**9}), data)}
    gate = verdicts["callback_p95_ms"]
    assert gate.censored and not gate.passed  # never a value under the limit, however high the limit
    assert gate.breach() == "measured ≥ 45,000.0 ms (censored at the deadline) > limit 1,000,000,000.0 ms"
    assert gate.as_dict()["censored"] is True


def test_the_console_marks_the_censored_maximum(tmp_path, capsys):
    data = _summary(_harness(approvals=5, lost=("p4",)), tmp_path)
    data["slo"] = [v.as_dict() for v in slo.judge(slo.plan_thresholds({"lost_callbacks": 0}), data)]
    print_report(Summary(data, tmp_path))
    out = capsys.readouterr().out
    assert "max=≥ 45,000.0 ms (censored at the deadline)" in out
    assert "lost 1 (never arrived), late 0" in out


# ----------------------------------------------------------------------------- no silent passes


def test_a_run_that_approved_nothing_fails_and_says_nothing_was_checked(tmp_path, capsys):
    harness = _harness(approvals=0, journeys=[["citizen failed at dossier", 1_800_000_000.0, 5.0, False]] * 42
                       + [["citizen paid", 1_800_000_000.0, 5.0, True]] * 5)
    data = _summary(harness, tmp_path)
    data["invariant"]["bank_approved"] = 0
    verdicts = slo.judge(slo.plan_thresholds({"error_rate": 0.01, "journey_failures": 0.01}), data)
    data["slo"] = [v.as_dict() for v in verdicts]
    by_name = {v.name: v for v in verdicts}
    assert by_name["error_rate"].passed  # every HTTP answer was a 200 …
    assert not by_name["journey_failures"].passed and by_name["journey_failures"].measured == pytest.approx(42 / 47)
    assert not by_name["nothing_checked"].passed
    with pytest.raises(SLOBreach, match="nothing to check: no payment was approved") as exc:
        slo.raise_if_failed(verdicts)
    assert exc.value.exit_code == 3
    print_report(Summary(data, tmp_path))
    out = capsys.readouterr().out
    assert "NOTHING TO CHECK" in out and "invariant: OK" not in out
    assert "finished 47, failed 42 (89.4%)" in out


def test_journey_failures_are_counted_by_step():
    rows = [["citizen failed at charge", 0, 1, False]] * 3 + [["citizen failed at dossier", 0, 1, False],
                                                               ["citizen paid", 0, 1, True]]
    summary = journey_summaries(rows)
    assert summary["failures"] == 4 and summary["failures_by_step"] == {"charge": 3, "dossier": 1}


def test_the_console_lists_the_top_failure_reasons_with_their_step(tmp_path, capsys):
    (tmp_path / "stats_failures.csv").write_text(
        "Method,Name,Error,Occurrences\n"
        "POST,/dossiers,\"KeyError('payment')\",3\n"
        "JOURNEY,citizen failed at dossier,\"RuntimeError(\"\"dossier: KeyError('payment')\"\")\",42\n",
        encoding="utf-8")
    data = _summary(_harness(approvals=2), tmp_path)
    data["slo"] = []
    print_report(Summary(data, tmp_path))
    out = capsys.readouterr().out
    first, second = out.index("42 × JOURNEY citizen failed at dossier"), out.index("3 × POST /dossiers")
    assert first < second


def _bare_harness(monkeypatch):
    """A `Harness` of a single Locust process with no payment journeys (no journal reader), outside Locust."""
    from types import SimpleNamespace

    monkeypatch.setenv("LOCUST_SKIP_MONKEY_PATCH", "1")  # importing Locust here must not patch pytest's process

    from motcua.loadtest.plugin import Harness

    options = SimpleNamespace(motcua_agency_url="", motcua_scenario="", motcua_merchant="")
    events = SimpleNamespace(request=SimpleNamespace(add_listener=lambda _f: None))
    return Harness(SimpleNamespace(parsed_options=options, runner=object(), events=events, host=""))


def test_status_polls_are_counted_apart_from_the_journeys_requests(monkeypatch):
    from motcua.loadtest.callbacks import POLL_CONTEXT

    harness = _bare_harness(monkeypatch)
    harness._on_request("POST", "/dossiers", 12.0, 10, exception=None, context={})
    harness._on_request("POST", "/charge", 30.0, 10, exception=RuntimeError("500"), context={})
    for _ in range(5):  # the officer waiting for "paid"; one of her polls met a 503
        harness._on_request("GET", "/dossiers/[code] (officer)", 3.0, 10, exception=None, context=POLL_CONTEXT)
    harness._on_request("GET", "/dossiers/[code] (officer)", 3.0, 10, exception=RuntimeError("503"),
                        context=POLL_CONTEXT)
    assert sum(ok + failed for ok, failed in harness.http.values()) == 2  # the journeys' requests only
    assert sum(failed for _ok, failed in harness.http.values()) == 1
    assert harness.polls == [5, 1]
    assert harness.hdr.summary()["GET /dossiers/[code] (officer)"]["count"] == 6  # its latency is still measured
    delta = harness._take_delta()
    assert delta["polls"] == [5, 1] and harness.polls == [0, 0]


def test_error_rate_is_the_journeys_and_status_polling_is_shown_apart(tmp_path, capsys):
    harness = _harness(approvals=2)  # 10 journey requests, none failed
    harness["polls"] = [70, 30]  # a status page answering 404 until paid: waiting, not an HTTP error
    data = _summary(harness, tmp_path)
    assert data["slo_measured"]["error_rate"] == 0.0 and data["throughput"]["http_requests"] == 10
    assert data["status_polling"] == {"requests": 100, "failures": 30, "failure_share": 0.3}
    assert data["journeys"]["failures"] == 0
    data["slo"] = []
    print_report(Summary(data, tmp_path))
    out = capsys.readouterr().out
    assert "status polling (waiting for \"paid\", not in the HTTP errors): 100 polls, 30 failed (30.0%)" in out
    assert "HTTP errors 0" in out and "finished 2, failed 0" in out
    assert _summary(_harness(approvals=2), tmp_path)["status_polling"]["requests"] == 0  # an older harness.json


# ----------------------------------------------------------------------------- thresholds


def test_a_tagged_threshold_parses_with_its_units():
    t = thresholds.parse("callback.p95{bank=AGRIBANK} < 20s")
    assert (t.metric, t.stat, t.tags, t.op, t.limit) == ("callback", "p95", (("bank", "AGRIBANK"),), "<", 20000)
    assert thresholds.parse("journey_failures.rate < 1%").limit == pytest.approx(0.01)
    route = thresholds.parse('http.p99{route="POST /payments"} < 800ms')
    assert route.tags == (("route", "POST /payments"),) and route.key == "http.p99{route=POST /payments}"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("calback.p95 < 20s", "unknown metric 'calback'; did you mean 'callback'?"),
        ("callback.p97 < 20s", "callback has no statistic 'p97'"),
        ("callback.p95{bnk=AGRIBANK} < 20s", "unknown tag 'bnk'; its tags are bank, group"),
        ("journey_failures.rate < 20s", "s is a time, but this statistic is a share"),
        ("callback.p95 is fast", "not a threshold"),
        ("eror_rate=0.01", "unknown gate 'eror_rate'; did you mean 'error_rate'?"),
        ("error_rate=fast", "error_rate takes a limit in share (0.01 or 1%), not 'fast'"),
        ("conformance=2s", "s is a time, but this statistic is a count"),
    ],
)
def test_a_bad_threshold_is_an_input_error_naming_it(expression, problem):
    with pytest.raises(InputError, match="--slo") as exc:
        thresholds.parse(expression)
    assert problem in str(exc.value) and repr(expression) in str(exc.value)
    assert exc.value.exit_code == 2


def test_slo_on_the_command_line_replaces_the_scenarios_gate_on_the_same_metric():
    options = LoadtestOptions(rate_per_s=5, duration_s=30,
                              thresholds=("callback.p95 < 20s", "callback.p95{bank=AGRIBANK} < 25s"))
    plan = plan_loadtest(PEAK_DAY, options)
    keys = {t.key: t for t in plan.thresholds}
    assert keys["callback.p95"].limit == 20000 and keys["callback.p95"].op == "<"  # replaced callback_p95_ms
    assert keys["callback.p95{bank=AGRIBANK}"].limit == 25000
    assert "http.p99{route=POST /dossiers}" in keys and "journey_failures.rate" in keys  # the others stay
    assert plan.parameters()["thresholds"] == ["callback.p95 < 20s", "callback.p95{bank=AGRIBANK} < 25s"]


def test_a_gate_limit_is_a_threshold_in_the_gates_unit():
    """``--slo GATE=N`` is parsed by thresholds.parse: ``GATE's metric <= N``, the verdict named after the gate."""
    rate = thresholds.parse("error_rate=0.02")
    assert (rate.metric, rate.stat, rate.op, rate.limit, rate.name) == ("http_errors", "rate", "<=", 0.02, "error_rate")
    assert thresholds.parse("error_rate = 2%").limit == pytest.approx(0.02)
    assert thresholds.parse("callback_p95_ms=20s").limit == 20000 == thresholds.parse("callback_p95_ms=20000").limit
    create = thresholds.parse("create_p99_ms=800ms")
    assert create.key == "http.p99{route=POST /dossiers}" and create.limit == 800
    assert thresholds.parse("conformance=0").key == "conformance.count"


def test_a_gate_limit_on_the_command_line_replaces_the_scenarios_gate_and_its_recorded_limit():
    plan = plan_loadtest(PEAK_DAY, LoadtestOptions(rate_per_s=5, duration_s=30, thresholds=("error_rate=0.02",)))
    gate = {t.key: t for t in plan.thresholds}["http_errors.rate"]
    assert (gate.limit, gate.name, gate.op) == (0.02, "error_rate", "<=")
    assert plan.limits["error_rate"] == 0.02 and plan.parameters()["slo"]["error_rate"] == 0.02
    assert sum(t.key == "http_errors.rate" for t in plan.thresholds) == 1


def test_a_bad_threshold_on_the_command_line_stops_the_plan():
    with pytest.raises(InputError, match=r"--slo 'calback.p95 < 1s': unknown metric"):
        plan_loadtest(PEAK_DAY, LoadtestOptions(rate_per_s=5, duration_s=30, thresholds=("calback.p95 < 1s",)))


def test_a_tagged_threshold_is_measured_on_its_bank(tmp_path):
    harness = _harness(approvals=4)
    harness["callbacks"] = [_row("a", 100.0, True, "BIDV"), _row("b", 25000.0, True, "AGRIBANK"),
                            _row("c", 200.0, True, "BIDV"), _row("d", 21000.0, True, "AGRIBANK")]
    data = _summary(harness, tmp_path)
    gates = [thresholds.parse("callback.p95{bank=AGRIBANK} < 20s"), thresholds.parse("callback.p95{bank=BIDV} < 20s")]
    agri, bidv = slo.judge(gates, data)
    assert (agri.measured, agri.passed, bidv.measured, bidv.passed) == (25000.0, False, 200.0, True)
    assert agri.breach() == "measured 25,000.0 ms ≥ limit 20,000.0 ms"


def test_passing_junit_cases_carry_the_measured_value(tmp_path):
    verdicts = slo.evaluate({"create_p99_ms": 100, "lost_callbacks": 0}, {"create_p99_ms": 50.0, "lost_callbacks": 0})
    path = write_junit(tmp_path / "j.xml", "peak-day", verdicts)
    case = ET.parse(path).getroot().find("testsuite/testcase[@name='slo.create_p99_ms']")
    assert case.find("failure") is None
    assert case.find("system-out").text.endswith("limit <= 100.0 ms, measured 50.0 ms")


def test_every_metric_has_a_prometheus_name():
    assert metrics.prometheus_name("callback", "p95") == "motcua_callback_p95"
    assert set(metrics.METRICS) >= {m for m, _s, _t in slo.GATE_METRICS.values()}


# ----------------------------------------------------------------------------- capacity with confidence


def test_wilson_interval():
    low, high = wilson(1, 1700)
    assert low == pytest.approx(0.0001, abs=1e-4) and high == pytest.approx(0.0033, abs=3e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def _step_data(failures: int, finished: int, lost: int = 0, latency_ok: bool = True) -> dict:
    return {
        "journeys": {"failures": failures}, "lost_callbacks": lost, "late_callbacks": 0, "approvals": finished,
        "throughput": {"journeys_finished": finished}, "invariant": {"ok": True},
        "slo": [{"name": "callback_p95_ms", "passed": latency_ok}, {"name": "lost_callbacks", "passed": lost == 0}],
    }


def test_one_lost_callback_does_not_make_a_knee_on_its_own():
    step = StepEvidence(40.0, limit=0.01)
    step.add(_step_data(0, 850, lost=1), "a")
    assert step.verdict == "held"  # 1 of 1,700 is clearly below 1%: not a broken step


def test_a_step_near_the_limit_is_unclear_until_enough_runs():
    step = StepEvidence(40.0, limit=0.01)
    step.add(_step_data(2, 100), "a")  # 2 of 200: the interval straddles 1%
    assert step.verdict == "unclear"
    for i in range(4):
        step.add(_step_data(1, 400), f"r{i}")
    assert step.verdict == "held" and step.runs == 5


def test_a_step_clearly_above_the_limit_broke_and_the_knee_is_below_it():
    broke = StepEvidence(60.0, limit=0.01)
    broke.add(_step_data(80, 900), "a")
    assert broke.verdict == "broke"
    steps = [{"rate_per_s": 20.0, "held": True}, {"rate_per_s": 40.0, "held": True}, broke.as_dict()]
    assert knee(steps) == 40.0
    text = "\n".join(capacity_lines({"steps": steps[2:], "knee_rate_per_s": 40.0, "broke": True}))
    assert "60/s  runs 1  failures 80/1800 [" in text and "BROKE (clear)" in text
    unclear = {**broke.as_dict(), "verdict": "unclear", "held": False}
    text = "\n".join(capacity_lines({"steps": [unclear], "knee_rate_per_s": None, "broke": True, "unclear_at": 60.0}))
    assert "UNCLEAR" in text and "capacity: unclear at 60/s after 1 runs" in text and "broke already" not in text


# ----------------------------------------------------------------------------- abort on fail


def test_the_abort_watch_stops_on_a_count_that_cannot_recover():
    from motcua.loadtest.abort import AbortWatch
    from motcua.loadtest.callbacks import Approval, CallbackCorrelator

    corr = CallbackCorrelator(fire=lambda *a: None, deadline_s=5)
    watch = AbortWatch.from_expressions(["lost_callbacks.count < 1", "callback.p95 < 1000"], 5)
    corr.approve(Approval("p1", "D1", "BIDV", "fee", 1, 100.0))
    assert watch.check(corr, now=101.0) is None
    corr.expire(now=106.0)
    assert watch.check(corr, now=101.5) is None  # at most once a second
    assert watch.check(corr, now=102.0) == "lost_callbacks.count < 1" == watch.failed


def test_a_callback_percentile_waits_for_enough_samples_before_aborting():
    from motcua.loadtest.abort import MIN_CALLBACKS, AbortWatch
    from motcua.loadtest.callbacks import Approval, CallbackCorrelator

    corr = CallbackCorrelator(fire=lambda *a: None, deadline_s=60)
    watch = AbortWatch.from_expressions(["callback.p95 < 1s"], 60)
    for i in range(MIN_CALLBACKS):
        corr.approve(Approval(f"p{i}", f"D{i}", "BIDV", "fee", 1, 100.0))
        corr.observe({"type": "payment_confirmed", "payment_id": f"p{i}", "bank_approved_at": 100.0,
                      "ipn_acked_at": 105.0})
        assert watch.check(corr, now=200.0 + i * 2) == (None if i < MIN_CALLBACKS - 1 else "callback.p95 < 1s")


def test_an_abort_on_a_metric_judged_only_at_the_end_is_refused():
    options = LoadtestOptions(rate_per_s=5, duration_s=30, thresholds=("journey_failures.rate < 1% abort",))
    with pytest.raises(InputError, match="only callback, lost_callbacks, late_callbacks are checked while"):
        plan_loadtest(PEAK_DAY, options)


def test_slo_abort_sends_every_live_threshold_to_locust():
    plan = plan_loadtest(PEAK_DAY, LoadtestOptions(rate_per_s=5, duration_s=30, slo_abort=True))
    assert set(plan.abort_expressions) == {"callback.p95 <= 30000.0", "lost_callbacks.count <= 0.0",
                                           "late_callbacks.count <= 0.0"}
    assert all(thresholds.parse(e) for e in plan.abort_expressions)


def test_time_limits_on_callbacks_move_to_the_mocks_clock_and_nothing_else_does():
    gates = slo.plan_thresholds({"callback_p95_ms": 30000, "create_p99_ms": 1000, "lost_callbacks": 0},
                                [thresholds.parse("officer.p99{bank=AGRIBANK} < 20s"),
                                 thresholds.parse("callback.count > 10")])
    assert slo.on_mock_clock(gates, 1.0) == gates
    scaled = {t.name or t.key: t for t in slo.on_mock_clock(gates, 0.01)}
    assert scaled["callback_p95_ms"].limit == 30000 * 0.01 + slo.UNCOMPRESSED_MS
    assert scaled["callback_p95_ms"].name == "callback_p95_ms"  # the verdict keeps the gate's name
    assert scaled["officer.p99{bank=AGRIBANK}"].limit == 20000 * 0.01 + slo.UNCOMPRESSED_MS
    assert scaled["create_p99_ms"].limit == 1000  # an HTTP request is not compressed by the mocks' schedules
    assert scaled["lost_callbacks"].limit == 0 and scaled["callback.count"].limit == 10  # counts keep their limits
    assert slo.on_mock_clock(gates, 0.5)[0].canonical() == "callback.p95 <= 15500.0"  # live abort reads this
