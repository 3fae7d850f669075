"""The one-stop-shop counter model: Erlang C in its M/M/c mode, Little's law, a whole trace, and the
realism (opening hours, breaks, balking, reneging, online share, guidance)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import pytest
import simpy
from motcua.models.counters import (
    FEE_CASH,
    FREE,
    CounterParams,
    OneStopShop,
    Visit,
    citizen_at_counter,
    parse_window,
    simulate_mmc,
)
from motcua.models.theory import erlang_c, mmc_mean_wait, mmc_utilisation

MONDAY = dt.date(2024, 1, 1)
ROOT = Path(__file__).resolve().parent.parent


@functools.cache  # the M/M/1 sample serves the mean test and the distribution test alike
def pooled_mmc(servers, arrival_rate, service_rate, customers, replications, seed):
    runs = [simulate_mmc(servers, arrival_rate, service_rate, customers, np.random.default_rng(child))
            for child in np.random.SeedSequence(seed).spawn(replications)]
    return np.concatenate([run.waits for run in runs]), runs


# -- Erlang C -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("servers", "arrival_rate", "service_rate"),
    [
        (1, 0.5, 1.0),  # M/M/1: Wq = ρ/(μ − λ) = 1
        (2, 1.0, 1.0),
        (4, 2.0, 0.8),
    ],
)
def test_mmc_mode_matches_erlang_c_within_2_percent(servers, arrival_rate, service_rate):
    waits, runs = pooled_mmc(servers, arrival_rate, service_rate, 100_000, 4, seed=20241)
    theory = mmc_mean_wait(servers, arrival_rate, service_rate)
    assert waits.mean() == pytest.approx(theory, rel=0.02)
    assert (waits > 0).mean() == pytest.approx(erlang_c(servers, arrival_rate, service_rate), rel=0.02)
    utilisation = np.mean([run.utilisation for run in runs])
    assert utilisation == pytest.approx(mmc_utilisation(servers, arrival_rate, service_rate), rel=0.01)


@pytest.mark.parametrize("t", [0.0, 1.0, 2.0, 4.0])
def test_mm1_waiting_time_distribution_matches_its_closed_form(t):
    """M/M/1 (FIFO): P(Wq > t) = ρ·e^(−(μ−λ)t) — the whole distribution, not only the mean, from the same
    400,000 simulated citizens as the mean test above (λ = 0.5, μ = 1: ρ = 0.5)."""
    waits, _runs = pooled_mmc(1, 0.5, 1.0, 100_000, 4, seed=20241)
    assert (waits > t).mean() == pytest.approx(0.5 * np.exp(-0.5 * t), rel=0.04)


def test_heavier_load_within_its_confidence_interval():
    # ρ = 0.8 on five officers: waits are strongly autocorrelated, so 400,000 customers only pin the
    # mean to a few percent; the 2% gate at this load is the slow test below.
    waits, runs = pooled_mmc(5, 4.0, 1.0, 100_000, 4, seed=7)
    means = np.array([run.mean_wait for run in runs])
    halfwidth = 3.18 * means.std(ddof=1) / 2  # t(0.975, 3) × s/√4
    theory = mmc_mean_wait(5, 4.0, 1.0)
    assert abs(waits.mean() - theory) <= max(halfwidth, 0.02 * theory)
    assert abs(waits.mean() / theory - 1) < 0.08
    assert (waits > 0).mean() == pytest.approx(erlang_c(5, 4.0, 1.0), rel=0.03)


@pytest.mark.slow
def test_heavier_load_matches_erlang_c_within_2_percent():
    waits, _ = pooled_mmc(5, 4.0, 1.0, 500_000, 8, seed=11)
    assert waits.mean() == pytest.approx(mmc_mean_wait(5, 4.0, 1.0), rel=0.02)


def test_same_seed_same_numbers_and_other_seed_other_numbers():
    first = simulate_mmc(2, 1.5, 1.0, 2_000, np.random.default_rng(np.random.SeedSequence(5)))
    again = simulate_mmc(2, 1.5, 1.0, 2_000, np.random.default_rng(np.random.SeedSequence(5)))
    other = simulate_mmc(2, 1.5, 1.0, 2_000, np.random.default_rng(np.random.SeedSequence(6)))
    assert np.array_equal(first.waits, again.waits)
    assert not np.array_equal(first.waits, other.waits)
    assert first.customers == 2_000


def test_mmc_refuses_an_unstable_queue():
    with pytest.raises(ValueError, match=r'queue is unstable: "arrival_rate" 3\.0 >= "servers" × "service_rate" = 3'):
        simulate_mmc(3, 3.0, 1.0, 100, np.random.default_rng(1))
    with pytest.raises(ValueError, match=r'"service_rate" must be > 0, got -1'):
        CounterParams.mmc(1, 0.5, -1.0)


# -- a whole trace ---------------------------------------------------------------------------------------
def arrive_at(env, shop, minute, visit):
    yield env.timeout(minute)
    yield from citizen_at_counter(env, shop, visit)


def visit(number, minutes, patience=None):
    return Visit(number, FREE, minutes, 0.0, 0.0, patience, 1.0)


def test_whole_trace_one_officer_six_citizens():
    """One officer, one window 07:30–11:30, a 15-minute break due at 09:22:30, fixed service times."""
    params = CounterParams(officers=1, opening=((450.0, 690.0),), weekdays=(1, 2, 3, 4, 5, 6, 7),
                           fee_dossiers_per_day=0, free_dossiers_per_day=0, break_minutes=15.0,
                           balk_queue=None, patience_minutes=None, return_share=1.0)
    env = simpy.Environment()
    trace: list[tuple[str, str, float]] = []
    shop = OneStopShop(env, params, np.random.default_rng(0), start=MONDAY, trace=trace)
    for minute, v in [(460, visit(1, 30)), (470, visit(2, 30)), (555, visit(3, 15)), (575, visit(4, 5)),
                      (680, visit(5, 20)), (685, visit(6, 5, patience=100.0))]:
        env.process(arrive_at(env, shop, minute, v))
    env.run(until=1440)
    assert trace == [
        ("officer 0", "sits down", 450),
        ("citizen 1", "arrives", 460), ("citizen 1", "called", 460),
        ("citizen 2", "arrives", 470),
        ("citizen 1", "leaves served", 490), ("citizen 2", "called", 490),
        ("citizen 2", "leaves served", 520),
        ("citizen 3", "arrives", 555), ("citizen 3", "called", 555),
        # the break was due at 562.5: the officer finishes citizen 3 first
        ("citizen 3", "leaves served", 570), ("officer 0", "goes on break", 570),
        ("citizen 4", "arrives", 575),
        ("officer 0", "back from break", 585), ("citizen 4", "called", 585),
        ("citizen 4", "leaves served", 590),
        ("citizen 5", "arrives", 680), ("citizen 5", "called", 680),
        ("citizen 6", "arrives", 685),
        ("citizen 6", "sent home", 690),  # doors close at 11:30; citizen 6 comes back another day
        ("citizen 5", "leaves served", 700), ("officer 0", "leaves", 700),
    ]
    assert list(shop.waits) == [0, 20, 0, 10, 0]
    minutes = shop.officer_minutes
    assert minutes == {"serving": 100, "cash": 0, "guidance": 0, "idle": (570 - 450) + (700 - 585) - 100}
    assert (shop.sent_home, shop.returned, shop.lost) == (1, 1, 0)


# -- the realistic model ---------------------------------------------------------------------------------
def busy_params(**changes):
    values = dict(officers=2, fee_dossiers_per_day=45.0, free_dossiers_per_day=15.0, help_seekers_per_day=4.0,
                  receive_minutes=8.0, cash_minutes=4.0, qr_minutes=1.0, guidance_minutes=15.0)
    values.update(changes)
    return CounterParams(**values)


def run_shop(params, days, seed=3, **kwargs):
    env = simpy.Environment()
    shop = OneStopShop(env, params, np.random.default_rng(seed), start=MONDAY, **kwargs)
    env.run(until=days * 1440)
    return shop


def test_littles_law_on_the_realistic_model():
    shop = run_shop(busy_params(), days=28)
    horizon = 28 * 1440.0  # every queue is empty at midnight (those left at closing were sent home)
    assert shop.waiting == 0
    queue_length = shop.queue_area / horizon
    arrival_rate = shop.joined / horizon
    mean_time_in_queue = (sum(shop.waits) + sum(shop.abandoned_waits)) / shop.joined
    assert queue_length == pytest.approx(arrival_rate * mean_time_in_queue, rel=1e-9)
    assert shop.joined == shop.served + shop.reneged + shop.sent_home
    # The hourly profile adds up to the same citizen-minutes.
    summary = shop.summary()
    assert summary.queue_by_hour.sum() * 60 * shop.open_days == pytest.approx(shop.queue_area)
    # The daily ledger adds up to the totals.
    shop.finish()
    daily = shop.daily_table()
    assert daily.shape == (28, 12)
    assert daily[:, 6].sum() == shop.served
    assert daily[:, 11].sum() == pytest.approx(shop.queue_area)


def test_service_only_within_opening_hours_on_open_days_and_breaks_taken():
    trace: list[tuple[str, str, float]] = []
    params = busy_params()
    shop = run_shop(params, days=14, trace=trace)
    windows = params.opening
    called = [minute for actor, action, minute in trace if action == "called"]
    assert len(called) == shop.served > 300
    for minute in called:
        day, clock = divmod(minute, 1440)
        assert (MONDAY + dt.timedelta(days=int(day))).isoweekday() <= 5
        assert any(opens <= clock <= closes for opens, closes in windows), clock
    # Each officer takes one 15-minute break per window on each of the 10 open days.
    for officer in ("officer 0", "officer 1"):
        away = [m for a, act, m in trace if a == officer and act == "goes on break"]
        back = [m for a, act, m in trace if a == officer and act == "back from break"]
        assert len(away) == len(back) == 2 * 10
        assert np.allclose(np.subtract(back, away), 15.0)
    # The arrival profile has its morning rush: the queue is longest between 08:00 and 10:00.
    assert int(np.argmax(shop.summary().queue_by_hour)) in (8, 9)


def test_no_service_on_a_weekend_and_lunch_leaves_the_counter_empty():
    trace: list[tuple[str, str, float]] = []
    run_shop(busy_params(), days=7, trace=trace)
    for actor, action, minute in trace:
        clock = minute % 1440
        if action == "called":
            assert not 690 < clock < 810, f"{actor} called during lunch at {clock}"
    weekend = [m for _, _, m in trace if m >= 5 * 1440]
    assert weekend == []


def test_balking_and_reneging_are_counted_and_most_come_back():
    trace: list[tuple[str, str, float]] = []
    params = busy_params(officers=1, balk_queue=6, patience_minutes=30.0, return_share=0.8)
    shop = run_shop(params, days=10, trace=trace)
    counts = shop.summary().counts
    assert counts["balked"] > 20 and counts["reneged"] > 20
    assert counts["balked"] == sum(1 for _, action, _ in trace if action == "balks")
    assert counts["reneged"] == sum(1 for _, action, _ in trace if action == "gives up")
    assert counts["returned"] + counts["lost"] == counts["balked"] + counts["reneged"] + counts["sent_home"]
    assert 0.7 < counts["returned"] / (counts["returned"] + counts["lost"]) < 0.9
    # Those who come back arrive again with the same number on a later day.
    arrivals: dict[str, list[float]] = {}
    for actor, action, minute in trace:
        if action == "arrives":
            arrivals.setdefault(actor, []).append(minute)
    again = [times for times in arrivals.values() if len(times) > 1]
    assert again and all(times[1] // 1440 > times[0] // 1440 for times in again)


def test_more_online_payment_means_shorter_waits_and_fewer_cash_minutes():
    low = run_shop(busy_params(), days=20, online_share=lambda: 0.0)
    high = run_shop(busy_params(), days=20, online_share=lambda: 0.6)
    assert high.summary().wait_mean < 0.7 * low.summary().wait_mean
    assert high.cash_minutes < 0.6 * low.cash_minutes
    assert high.joined + high.balked < low.joined + low.balked


def test_guidance_costs_officer_minutes_and_feeds_adoption():
    guided: list[int] = []
    params = busy_params(officers=3, guide_share=1.0, guide_max_queue=100)
    shop = run_shop(params, days=10, on_guided=guided.append)
    assert sum(guided) == shop.guided > 0
    assert shop.cash_minutes == 0  # every cash payer was walked through paying online instead
    plain = run_shop(busy_params(officers=3), days=10)
    assert shop.guidance_minutes > plain.guidance_minutes > 0  # help seekers are guided in both
    assert 0 < plain.guided < shop.guided


def test_qr_at_the_counter_replaces_cash_minutes():
    cash = run_shop(busy_params(), days=10)
    qr = run_shop(busy_params(qr_share=1.0), days=10)
    assert cash.cash_minutes > 0 and qr.cash_minutes == 0
    assert qr.summary().wait_mean < cash.summary().wait_mean


def test_a_long_queue_keeps_officers_from_guiding():
    # "It takes too long": with guide_max_queue=0 officers only guide when nobody is waiting.
    eager = run_shop(busy_params(guide_share=1.0, guide_max_queue=100), days=10)
    reluctant = run_shop(busy_params(guide_share=1.0, guide_max_queue=0), days=10)
    assert reluctant.guided < eager.guided
    assert reluctant.cash_minutes > 0


def test_utilisation_and_officer_hours_add_up():
    shop = run_shop(busy_params(), days=14)
    summary = shop.summary()
    hours = summary.officer_hours
    assert set(hours) == {"serving", "cash", "guidance", "idle"}
    on_duty = sum(hours.values())
    assert on_duty * 60 == pytest.approx(shop.on_duty_minutes)
    # Two officers, 450 minutes a day minus two 15-minute breaks, ten open days, plus some overtime.
    assert 2 * 10 * (450 - 30) <= shop.on_duty_minutes <= 2 * 10 * (450 - 30) + 2 * 10 * 60
    assert summary.utilisation == pytest.approx((on_duty - hours["idle"]) / on_duty)
    assert 0.3 < summary.utilisation < 1.0
    assert summary.wait_p50 <= summary.wait_p90


# -- parameters --------------------------------------------------------------------------------------------
def test_parameters_from_the_lang_son_scenario():
    scenario_module = pytest.importorskip("motcua.scenario")
    scenario = scenario_module.load_scenario(ROOT / "scenarios" / "lang-son-2024.toml")
    unit = next(u for u in scenario.region.units if u.counters is not None)
    params = CounterParams.from_unit(unit)
    service = unit.counters.service_minutes
    assert params.receive_minutes + params.cash_minutes == pytest.approx(service.cash)
    assert params.receive_minutes + params.qr_minutes == pytest.approx(service.qr)
    assert params.guidance_minutes == service.guidance
    assert params.opening[0][0] == parse_window(unit.counters.opening[0])[0]
    assert params.fee_dossiers_per_day == pytest.approx(unit.fee_dossiers_per_year / (365.25 / 7 * 5))
    shop = run_shop(params, days=7, online_share=lambda: unit.start_share)
    assert shop.served > 0


def test_bad_parameters_name_the_field_and_value():
    with pytest.raises(ValueError, match=r'"officers" must be >= 1, got 0'):
        CounterParams(officers=0)
    with pytest.raises(ValueError, match=r'"guide_share" must be a share within \[0, 1\], got 1.5'):
        CounterParams(guide_share=1.5)
    with pytest.raises(ValueError, match=r"opening window '7h30-11h30' is not \"HH:MM-HH:MM\""):
        parse_window("7h30-11h30")
    with pytest.raises(ValueError, match=r"opening window '11:30-07:30' closes before it opens"):
        parse_window("11:30-07:30")
    with pytest.raises(ValueError, match=r'"hourly" is zero in every opening hour'):
        CounterParams(hourly=(1.0,) * 6 + (0.0,) * 18)


def test_cash_payer_visit_kind_constant_is_used():
    # A cash payer with no guidance offered pays cash: its payment minutes land in `cash`.
    params = CounterParams(officers=1, opening=((0.0, 1440.0),), weekdays=(1,), fee_dossiers_per_day=0,
                           free_dossiers_per_day=0, break_minutes=0, balk_queue=None, patience_minutes=None)
    env = simpy.Environment()
    shop = OneStopShop(env, params, np.random.default_rng(0), start=MONDAY)
    env.process(arrive_at(env, shop, 10, Visit(1, FEE_CASH, 8.0, 4.0, 15.0, None, 0.5)))
    env.run(until=100)
    assert (shop.serving_minutes, shop.cash_minutes, shop.guidance_minutes) == (8.0, 4.0, 0.0)


def test_a_unit_without_counters_is_refused_by_name():
    class Unit:
        id = "so-tu-phap"
        counters = None

    with pytest.raises(ValueError, match=r"unit 'so-tu-phap' has no \[region.units.counters\] table"):
        CounterParams.from_unit(Unit())


# -- properties over many parameter sets -------------------------------------------------------------------
hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.settings(max_examples=25, deadline=None, derandomize=True)
@hypothesis.given(
    officers=st.integers(1, 4),
    demand=st.floats(5.0, 120.0),
    online=st.floats(0.0, 1.0),
    patience=st.one_of(st.none(), st.floats(5.0, 200.0)),
    balk=st.one_of(st.none(), st.integers(1, 30)),
    return_share=st.floats(0.0, 1.0),
    guide_share=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_citizen_is_accounted_for_and_served_only_when_open(officers, demand, online, patience, balk,
                                                                   return_share, guide_share, seed):
    params = busy_params(officers=officers, fee_dossiers_per_day=demand, patience_minutes=patience, balk_queue=balk,
                         return_share=return_share, guide_share=guide_share)
    trace: list[tuple[str, str, float]] = []
    guided: list[int] = []
    shop = run_shop(params, days=7, seed=seed, trace=trace, online_share=lambda: online, on_guided=guided.append)
    shop.finish()
    # Everyone who came was served, gave up, was sent home at closing, or balked; the queue is empty at midnight.
    assert shop.waiting == 0
    assert shop.joined == shop.served + shop.reneged + shop.sent_home
    assert shop.returned + shop.lost == shop.balked + shop.reneged + shop.sent_home
    assert sum(guided) == shop.guided
    if patience is None:
        assert shop.reneged == 0
    if balk is None:
        assert shop.balked == 0
    # Service starts only within the opening windows of weekdays.
    for _, action, minute in trace:
        if action == "called":
            day, clock = divmod(minute, 1440)
            assert day < 5 and any(opens <= clock <= closes for opens, closes in params.opening)
    # The books balance: daily rows add up to the totals, busy time never exceeds seated time.
    daily = shop.daily_table()
    assert daily.shape == (7, 12)
    assert daily[:, 6].sum() == shop.served
    minutes = shop.officer_minutes
    assert minutes["serving"] + minutes["cash"] + minutes["guidance"] <= shop.on_duty_minutes + 1e-6
    waits = np.asarray(shop.waits)
    assert (waits >= 0).all()
    # Without a trace, arrivals are no events (`OneStopShop.expect`): the same numbers (times to rounding).
    quiet = run_shop(params, days=7, seed=seed, online_share=lambda: online)
    assert quiet.summary().counts == shop.summary().counts
    assert np.allclose(quiet.waits, shop.waits, rtol=1e-9, atol=1e-9)
    if patience is not None and waits.size:
        # Nobody served waited past closing time of the day they came.
        arrived = np.asarray(shop.waits_arrived)
        assert ((arrived + waits) // 1440 == arrived // 1440).all()


def test_window_officers_and_closed_dates():
    trace: list[tuple[str, str, float]] = []
    holiday = MONDAY + dt.timedelta(days=1)  # a Tuesday off
    params = busy_params(officers=3, window_officers=(3, 1), closed_dates=frozenset({holiday}))
    shop = run_shop(params, days=7, trace=trace)
    sat_down = [(actor, minute) for actor, action, minute in trace if action == "sits down"]
    # Four open days (Mon, Wed, Thu, Fri); mornings three officers, afternoons only officer 0.
    assert sorted({int(minute // 1440) for _, minute in sat_down}) == [0, 2, 3, 4]
    afternoons = [actor for actor, minute in sat_down if minute % 1440 == 810]
    assert afternoons == ["officer 0"] * 4
    assert len(sat_down) == 4 * (3 + 1)
    assert not any(1440 <= minute < 2880 for _, _, minute in trace)
    assert shop.open_days == 4
    with pytest.raises(ValueError, match=r'"window_officers" needs one count per opening window, each within 0..3'):
        busy_params(officers=3, window_officers=(3,))


def test_realistic_model_same_seed_same_numbers():
    first, again, other = (run_shop(busy_params(), days=5, seed=s) for s in (8, 8, 9))
    assert list(first.waits) == list(again.waits) and first.daily == again.daily
    assert list(first.waits) != list(other.waits)


def test_arrivals_without_events_change_nothing():
    """Without a trace, arrivals are no events: an officer with nobody to serve calls the next citizen ahead
    of time, and those who come while all are busy join the queue at their minute when it is next looked
    at (`OneStopShop.expect`); with a trace, every arrival is an event. Same seed, same numbers (officer minutes to
    rounding: a wake-up due at "arrival + service" lands within a few ulps of "arrival", then "+ service")."""
    params = busy_params(officers=3, balk_queue=8, patience_minutes=40.0, qr_share=0.2, guide_share=0.3,
                         window_officers=(3, 2))
    fast, traced = run_shop(params, days=10, seed=4), run_shop(params, days=10, seed=4, trace=[])
    assert list(fast.waits) == list(traced.waits) and list(fast.waits_arrived) == list(traced.waits_arrived)
    assert np.allclose(fast.daily, traced.daily, rtol=1e-12, atol=0) and fast.daily[0][6] > 50
    assert fast.summary().counts == traced.summary().counts
    assert list(fast.abandoned_waits) == list(traced.abandoned_waits) and fast.reneged > 0 and fast.balked > 0


EXPECTED_EXAMPLE = """\
One-stop shop, 3 officers, 5 days from 2024-01-01, seed 1
wait (minutes): mean 5.8, p50 1.4, p90 19.3; 55% waited at all
people waiting, by hour: 07h 0.4 | 08h 3.1 | 09h 2.4 | 10h 0.5 | 11h 0.1 | 12h 0.2 | 14h 0.5 | 15h 0.5 | 16h 0.1
officers: utilisation 68%; hours serving 58.2, cash 14.0, guidance 0.0, idle 34.6
citizens: arrivals 381, joined 381, served 342, balked 0, reneged 39, sent home 0, returned 34, lost 5, guided 0
"""


def test_the_runnable_example_prints_its_expected_output(capsys):
    from motcua.models.counters import main

    assert main(["5", "1"]) == 0
    assert capsys.readouterr().out == EXPECTED_EXAMPLE
