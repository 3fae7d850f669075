"""The coupled model: adoption empties the counters, counter guidance feeds adoption, seeds and CRN.

Runs the real adoption and counter models on the bundled Lạng Sơn 2024 units over short horizons.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from motcua.models.counters import CounterParams
from motcua.models.coupled import (
    PERIOD_DAYS,
    QUICK_PAST_DEADLINE_DAYS,
    ReplicationResult,
    keep_entries,
    periods_of,
    quick_scenario,
    run_replication,
)
from motcua.models.replications import paired_difference, run_comparison, run_replications
from scipy import stats

from motcua.scenario import load_scenario

DAYS = 35  # five whole weeks from Thursday 6 June 2024


@pytest.fixture(scope="module")
def lang_son():
    return load_scenario("lang-son-2024")


@pytest.fixture(scope="module")
def short(lang_son):
    """Lạng Sơn 2024 over five weeks, without the 45% target (which lies beyond them)."""
    return keep_entries(lang_son, "targets", [False]).with_overrides({"simulation.horizon_days": DAYS})


def without_campaign(scenario, name="no-campaign"):
    return keep_entries(scenario, "interventions", [False] * len(scenario.interventions)).with_overrides(
        {"scenario.name": name})


def for_every_unit(scenario, field, value):
    return scenario.with_overrides({f"region.units[{i}].{field}": value for i in range(len(scenario.units))})


def test_same_seed_gives_identical_arrays_that_pickle_small(short):
    seed = np.random.SeedSequence(42)
    first, again = run_replication(short, seed), run_replication(short, seed)
    other = run_replication(short, np.random.SeedSequence(43))
    for field in ("daily_share", "counter_visits", "guided", "waits", "officer_minutes", "told_unpaid"):
        assert np.array_equal(getattr(first, field), getattr(again, field), equal_nan=True), field
    assert not np.array_equal(first.counter_visits, other.counter_visits)
    assert first.daily_share.shape == first.counter_visits.shape == (DAYS, 5)
    assert first.months == ("2024-06", "2024-07") and first.officer_minutes.shape == (2, 5, 4)
    assert first.periods == ((0, 17), (18, 35))  # halves: five weeks are too short for two 28-day windows
    assert len(pickle.dumps(first)) < 50_000  # cheap to send back from a worker


def test_result_accounts_for_officer_time_and_open_days(short):
    result: ReplicationResult = run_replication(short, np.random.SeedSequence(1))
    assert result.activities == ("serving", "cash", "guidance", "idle")
    assert (result.officer_minutes >= 0).all()
    # Five weeks of Monday–Friday opening: 25 open days, none at weekends.
    weekend = [d for d in range(DAYS) if (result.start.toordinal() + d) % 7 in (6, 0)]
    assert result.counter_visits[weekend].sum() == 0
    # Windows: Thu 6 – Sat 22 June holds 12 open days, Mon 24 June – Wed 10 July 13.
    assert result.open_days.tolist() == [[12] * 5, [13] * 5]
    # Seats are held on duty 7.5 h per open day: busy + idle ≈ officers × 7.5 h minus breaks.
    on_duty_h = result.officer_minutes.sum(axis=(0, 2)) / 60
    officers = np.array([u.counters.officers for u in short.units])
    assert on_duty_h == pytest.approx(officers * 25 * 7.0, rel=0.05)
    waits = result.waits
    assert (waits[:, :, 1] >= waits[:, :, 0]).all() and (waits[:, :, 3] > 100).all()  # p90 ≥ p50; many waits


def share_predicted_drop(scenario, a, b):
    """Fee-bearing dossiers that should not come to the counters in run `b` compared with run `a`:
    dossiers/day × weekday and month factors × the difference of the two runs' online shares."""
    expected_drop = 0.0
    for u, unit in enumerate(scenario.units):
        params = CounterParams.from_unit(unit)
        weekday = np.array(params.weekday_factors) / np.mean([params.weekday_factors[d - 1] for d in params.weekdays])
        month = np.array(params.month_factors) / np.mean(params.month_factors)
        for d in range(a.days):
            date = a.start.fromordinal(a.start.toordinal() + d)
            if date.isoweekday() in params.weekdays:
                factor = weekday[date.isoweekday() - 1] * month[date.month - 1]
                expected_drop += params.fee_dossiers_per_day * factor * (b.daily_share[d, u] - a.daily_share[d, u])
    return expected_drop


def never_giving_up(scenario):
    """Citizens who never balk and whose patience outlasts the day."""
    return for_every_unit(for_every_unit(scenario, "counters.patience_minutes", 1e5), "counters.balk_queue_length",
                          10**5)


def low_and_high_adoption(scenario, seed):
    """Two runs under the same seed, starting at shares of 10% and 50%."""
    low = for_every_unit(scenario, "initial_share", 0.10)
    high = for_every_unit(scenario, "initial_share", 0.50)
    return run_replication(low, np.random.SeedSequence(seed)), run_replication(high, np.random.SeedSequence(seed))


def test_as_adoption_rises_fewer_people_come_to_the_counter(short):
    """Same seeds, starting shares 10% vs 50%: the drop in counter visits is what the shares predict."""
    a, b = low_and_high_adoption(short, 7)
    assert (b.daily_share > a.daily_share + 0.3).all()
    expected_drop = share_predicted_drop(short, a, b)
    served_drop = int(a.served.sum()) - int(b.served.sum())
    # Within three Poisson standard deviations of the two counts.
    assert abs(served_drop - expected_drop) < 3 * np.sqrt(a.served.sum() + b.served.sum())
    assert served_drop > 0.8 * expected_drop
    # Visits fall by more: in longer queues more citizens give up and come back another day.
    assert int(a.counter_visits.sum()) - int(b.counter_visits.sum()) > served_drop
    # Fewer people, shorter queues and less cash to count.
    assert b.officer_minutes[..., 1].sum() < 0.7 * a.officer_minutes[..., 1].sum()
    assert np.nanmean(b.waits[:, :, 1]) < np.nanmean(a.waits[:, :, 1])
    # The served drop falls a little short of the shares' prediction (2-3.5% over seeds): of those who give
    # up, a tenth never come back, and more give up in the busier low-share run. Without giving up
    # (next test) the same seed loses nobody, so the served drop is larger.
    patient = never_giving_up(short)
    c, d = low_and_high_adoption(patient, 7)
    assert served_drop < int(c.served.sum()) - int(d.served.sum())


def test_without_giving_up_the_served_drop_is_what_the_shares_predict(short):
    """Citizens who never balk or renege (only a few are sent home at closing): everyone who comes is
    served, so the served drop is the shares' prediction. Day counts by inverse transform pair the two
    runs' draws (common random numbers): over seeds the drop stays within about 1.5% of the prediction."""
    patient = never_giving_up(short)
    for seed in (7, 8):
        a, b = low_and_high_adoption(patient, seed)
        served_drop = int(a.served.sum()) - int(b.served.sum())
        assert served_drop == pytest.approx(share_predicted_drop(patient, a, b), rel=0.03), seed


def test_guidance_at_the_counter_raises_adoption(short):
    """Help seekers are always guided online at the counter; with the campaign off, they are the
    only way the counters act on adoption. 40 a day per unit must raise the share (paired CI > 0)."""
    quiet = for_every_unit(without_campaign(short), "counters.help_seekers_per_day", 0.0)
    helped = for_every_unit(quiet, "counters.help_seekers_per_day", 40.0).with_overrides(
        {"scenario.name": "helped"})
    sets = run_comparison([quiet, helped], 3, 11, progress=False)
    assert all(r.guided.sum() == 0 for r in sets[0].results)
    assert all(r.guided.sum() > 40 * 20 * 5 for r in sets[1].results)
    gain = paired_difference([r.daily_share[-1].mean() for r in sets[0].results],
                             [r.daily_share[-1].mean() for r in sets[1].results])
    assert gain.low > 0


def test_counter_guidance_stops_at_the_campaign_capacity(short):
    """The campaign guides cash payers (intensity 0.4) up to capacity_per_day = 8 a day per unit."""
    no_help = for_every_unit(short, "counters.help_seekers_per_day", 0.0)
    assert [i.capacity_per_day for i in no_help.interventions if i.kind == "counter_guidance"] == [8]
    result = run_replication(no_help, np.random.SeedSequence(3))
    assert result.guided.max() == 8
    open_days = result.counter_visits.sum(axis=1) > 0
    assert (result.guided[open_days] > 0).mean() > 0.9


def test_common_random_numbers_shrink_the_variance_of_differences(short):
    """The campaign in Cao Lộc only vs no campaign, three weeks. Under CRN (same seeds) the other units'
    counters stay in step, so paired differences of counter visits vary far less than differences of
    independent runs — F tests, one-sided — while the campaign's own effect is still measured."""
    n = 8
    three_weeks = short.with_overrides({"simulation.horizon_days": 21})
    cao_loc = three_weeks.with_overrides({f"interventions[{i}].units": ["cao-loc"]
                                          for i in range(len(three_weeks.interventions))})
    crn = run_comparison([without_campaign(three_weeks), cao_loc], n, 5, progress=False)
    independent = run_replications(cao_loc, n, 6, progress=False)

    def visits(rset, units):
        return np.array([r.counter_visits[:, units].sum() for r in rset.results], dtype=float)

    for units in (slice(1, None), slice(None)):  # the other units; all units
        a, b, c = visits(crn[0], units), visits(crn[1], units), visits(independent, units)
        f_stat = (c - a).var(ddof=1) / (b - a).var(ddof=1)
        assert stats.f.sf(f_stat, n - 1, n - 1) < 0.01, f"{units}: F = {f_stat:.2f}"
    # Officers in Cao Lộc guide citizens online: more guidance minutes there, paired CI above 0.
    guidance = paired_difference([r.officer_minutes[:, 0, 2].sum() for r in crn[0].results],
                                 [r.officer_minutes[:, 0, 2].sum() for r in crn[1].results])
    assert guidance.low > 0


def test_before_window_precedes_the_campaign_when_the_horizon_allows():
    assert periods_of(574) == ((0, 28), (546, 574))  # Lạng Sơn: the campaign starts on day 0
    assert periods_of(574, campaign_day=0) == ((0, 28), (546, 574))
    assert periods_of(1827, campaign_day=1100) == ((1072, 1100), (1799, 1827))  # four weeks before it
    assert periods_of(365, campaign_day=20) == ((0, 20), (337, 365))  # what the horizon holds of them
    assert periods_of(35) == ((0, 17), (18, 35))


def test_quick_horizon_keeps_the_first_target(lang_son):
    quick = quick_scenario(lang_son)
    # to six months past the 31 December 2024 deadline: the date the target is reached is answered
    assert quick.simulation.horizon_days == 209 + QUICK_PAST_DEADLINE_DAYS
    assert quick.simulation.end.isoformat() == "2025-07-02" and quick.targets == lang_son.targets
    assert quick_scenario(quick) is quick
    assert quick.provenance_of("targets[0]").startswith("observed: lang-son-2024")
    son_la = load_scenario("son-la-2020-2023")
    quick_son_la = quick_scenario(son_la)  # its 2023 target is four years out: half a year, no target
    assert quick_son_la.simulation.horizon_days == 182 and quick_son_la.targets == ()
    assert 2 * PERIOD_DAYS <= 182


def test_keep_entries_renumbers_provenance(lang_son):
    kept = keep_entries(lang_son, "interventions", [False, True, True])
    assert [i.kind for i in kept.interventions] == [i.kind for i in lang_son.interventions[1:]]
    assert kept.provenance_of("interventions[0]") == lang_son.provenance_of("interventions[1]")
