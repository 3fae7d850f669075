"""Peak-day online-payment demand: from the adoption simulation to a load profile for the load test.

*Scenario.* The campaign works: by December more citizens of Lạng Sơn pay their fees online. On the
busiest day of the horizon, how many payments reach the national payment platform, in which hours,
of which payment group, through which bank — and what load test reproduces that day?

1. **Fees.** The coupled model reports, per replication, day and unit, the citizens who paid a fee
   online (`ReplicationResult.online_payments`). Summed over units this is the day's fee payments.
2. **Busiest day.** The day whose mean over replications is highest. Its value in each replication
   gives the uncertainty band (mean with the 95% Student-t CI, and the range over replications).
3. **Other groups.** The platform also carries taxes, insurance, fines and electricity bills, which
   the adoption model does not simulate; they are added in the proportions of the scenario's
   ``payment_system.groups`` (fees are the ``fee`` share of all platform payments).
4. **Hours and banks.** The day is spread over 24 hours by the ``hourly`` multipliers of the
   scenario's peak-day load profile (the counters' rhythm), and over banks by their ``share``.
5. **Load profile.** The 24 hours are compressed into the load test's duration D: the documented
   factor is ``compression = 86,400 s / D``. Every payment of the day happens once in the test, so
   the arrival rate is ``payments per real second × compression``, divided by the share of
   simulated citizens' journeys that reach the charge (level-2 VNeID × not abandoning any step,
   from the scenario's ``[load]``), because the load test's citizens start journeys, not payments.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from motcua.errors import InputError

DAY_S = 86_400.0
HOURS = 24
PROFILE_NAME = "derived-peak-day"
"""Name of the load profile `motcua run` adds to the scenario it gives the load test."""
STEPS = ("identity", "dossier", "payment_page", "bank_choice", "charge")


# ---------------------------------------------------------------------------------------------
# Shapes from the scenario
# ---------------------------------------------------------------------------------------------
def hourly_shape(scenario: Any) -> tuple[np.ndarray, str]:
    """Share of a day's payments in each hour (sums to 1), and where the shape comes from.

    The scenario's default load profile if it is a peak day, else its first peak-day profile, else
    flat over the first unit's counter opening hours.
    """
    profiles = scenario.load.profiles
    names = [scenario.load.profile] + [n for n in profiles if n != scenario.load.profile]
    for name in names:
        profile = profiles.get(name)
        if profile is not None and profile.kind == "peak_day" and sum(profile.hourly) > 0:
            weights = np.asarray(profile.hourly, dtype=float)
            return weights / weights.sum(), f"load.profiles.{name}.hourly"
    weights = np.zeros(HOURS)
    unit = next((u for u in scenario.units if u.counters is not None), None)
    periods = unit.counters.opening_minutes if unit else ((450, 1020),)
    for start, end in periods:
        for minute in range(start, end):
            weights[min(minute // 60, HOURS - 1)] += 1
    return weights / weights.sum(), "opening hours of the counters (no peak_day profile in the scenario)"


def group_mix(scenario: Any) -> dict[str, float]:
    """The scenario's payment-group mix (fee, tax, insurance, fine, electricity)."""
    from motcua.payment_platform import PAYMENT_GROUPS

    return {g: float(getattr(scenario.payment_system.groups, g)) for g in PAYMENT_GROUPS}


def bank_mix(scenario: Any) -> dict[str, float]:
    return scenario.payment_system.bank_shares()


def journey_completion(scenario: Any) -> float:
    """Share of the load test's citizen journeys that reach the charge step (level-2 VNeID, no abandoning)."""
    load = scenario.load
    share = float(load.vneid_level2_share)
    for step in STEPS:
        share *= 1.0 - float(getattr(load.abandon, step))
    return share


# ---------------------------------------------------------------------------------------------
# The busiest day
# ---------------------------------------------------------------------------------------------
def _band(values: np.ndarray) -> dict[str, Any]:
    """Mean, 95% CI and range over replications of one figure (first axis = replication)."""
    from motcua.models.replications import json_number, mean_ci

    est = mean_ci(values)
    return {**est.to_json(3), "min": json_number(np.min(values, axis=0), 3),
            "max": json_number(np.max(values, axis=0), 3)}


def peak_day_demand(online_payments: np.ndarray, start: dt.date, scenario: Any) -> dict[str, Any]:
    """The busiest day's demand (JSON-ready) from fee payments per replication, day and unit.

    `online_payments` is (replications, days, units), as stacked from `ReplicationResult.online_payments`.
    """
    fees = np.asarray(online_payments, dtype=float)
    if fees.ndim != 3 or fees.shape[1] == 0:
        raise InputError(f"online payments: expected (replications, days, units), got shape {fees.shape}")
    daily = fees.sum(axis=2)  # (R, days)
    peak = int(np.argmax(daily.mean(axis=0)))
    fee_day = daily[:, peak]  # (R,)
    mix = group_mix(scenario)
    if mix["fee"] <= 0:
        raise InputError(f"{scenario.file}: payment_system.groups.fee = 0: the platform demand is scaled from fee "
                         "payments, so the fee share must be above 0")
    platform = fee_day / mix["fee"]
    shape, shape_source = hourly_shape(scenario)
    banks = bank_mix(scenario)
    groups = list(mix)
    by_group_hour = platform[:, None, None] * np.array([mix[g] for g in groups])[None, None, :] * shape[None, :, None]
    by_bank_hour = platform[:, None, None] * np.array(list(banks.values()))[None, None, :] * shape[None, :, None]
    total_hour = platform[:, None] * shape[None, :]
    peak_hour = int(np.argmax(shape))
    return {
        "date": (start + dt.timedelta(days=peak)).isoformat(),
        "day_index": peak,
        "replications": int(fees.shape[0]),
        "busiest_day_per_replication": [(start + dt.timedelta(days=int(d))).isoformat()
                                        for d in np.argmax(daily, axis=1)],
        "fee_payments": _band(fee_day),
        "platform_payments": _band(platform),
        "by_group": {g: _band(platform * mix[g]) for g in groups},
        "by_bank": {b: _band(platform * s) for b, s in banks.items()},
        "hourly": {
            "shape": [round(float(x), 6) for x in shape],
            "shape_source": shape_source,
            "peak_hour": peak_hour,
            "total": _band(total_hour),
            "by_group": {g: _band(by_group_hour[:, :, j]) for j, g in enumerate(groups)},
            "by_bank": {b: _band(by_bank_hour[:, :, j]) for j, b in enumerate(banks)},
        },
        "daily_mean": [round(float(x), 3) for x in daily.mean(axis=0)],
        "method": {
            "fees": "sum over units of ReplicationResult.online_payments (citizens paying a fee online that day)",
            "busiest_day": "the day with the highest mean over replications; bands are over replications",
            "other_groups": "fee payments / payment_system.groups.fee × each group's share",
            "hours": f"spread by {shape_source}",
            "banks": "payment_system.banks[].share",
        },
    }


# ---------------------------------------------------------------------------------------------
# The load profile
# ---------------------------------------------------------------------------------------------
def load_profile(demand: dict[str, Any], scenario: Any, duration_s: float) -> dict[str, Any]:
    """The peak day compressed into `duration_s` seconds of load test (see the module docstring)."""
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise InputError(f"--duration {duration_s!r} s: must be > 0, e.g. --duration 60s")
    completion = journey_completion(scenario)
    if completion <= 0:
        raise InputError(f"{scenario.file}: load.vneid_level2_share or load.abandon leave no journey that reaches "
                         "the charge; the peak day cannot be replayed")
    compression = DAY_S / duration_s
    shape = np.asarray(demand["hourly"]["shape"], dtype=float)
    payments = float(demand["platform_payments"]["mean"])
    mean_rate = payments / DAY_S * compression / completion  # journeys per second of the test, day mean
    multipliers = shape * HOURS  # mean 1, so rate_per_s is the day's mean rate
    return {
        "name": PROFILE_NAME,
        "kind": "peak_day",
        "duration_s": float(duration_s),
        "compression": compression,
        "completion": completion,
        "payments": payments,
        "expected_journeys": mean_rate * duration_s,
        "rate_per_s": mean_rate,
        "peak_rate_per_s": mean_rate * float(multipliers.max()),
        "hourly": [round(float(m), 6) for m in multipliers],
        "formula": "rate_per_s = platform payments on the busiest day / 86400 s × compression / completion; "
                   "compression = 86400 s / duration_s; hourly = 24 × the day's hourly shares",
    }


def load_scenario_data(scenario: Any, profile: dict[str, Any]) -> dict[str, Any]:
    """The scenario as plain data with the derived profile as the default load profile.

    The fee catalogue is made absolute, so the file can live in the run folder.
    """
    data = scenario.to_dict()
    load = data["load"]
    load["profiles"][PROFILE_NAME] = {"kind": "peak_day", "rate_per_s": round(profile["rate_per_s"], 6),
                                      "hourly": profile["hourly"]}
    load["profile"] = PROFILE_NAME
    load["time_compression"] = profile["compression"]
    catalogue = scenario.fee_catalogue_path().resolve()
    data["payment_system"]["fee_catalogue"] = str(catalogue)
    data.setdefault("provenance", {})[f"load.profiles.{PROFILE_NAME}"] = (
        "derived: peak-day demand of the adoption simulation (motcua.demand), compressed in time")
    return data


def write_load_scenario(scenario: Any, profile: dict[str, Any], path: Path) -> Path:
    """Write the scenario with the derived load profile as TOML (what the Locust processes read), checked."""
    import tomli_w

    from motcua.scenario import load_scenario

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Derived by motcua run from {scenario.file}: the load profile '{PROFILE_NAME}' replays the busiest "
              "day of the simulation (see motcua/demand.py).\n")
    path.write_text(header + tomli_w.dumps(load_scenario_data(scenario, profile)), encoding="utf-8")
    load_scenario(path)
    return path


def hourly_rows(demand: dict[str, Any]) -> list[list[Any]]:
    """CSV rows: hour, series kind (total/group/bank), series, mean, low, high."""
    hourly = demand["hourly"]
    rows: list[list[Any]] = []
    series: Sequence[tuple[str, str, dict[str, Any]]] = (
        [("total", "all", hourly["total"])]
        + [("group", g, est) for g, est in hourly["by_group"].items()]
        + [("bank", b, est) for b, est in hourly["by_bank"].items()]
    )
    for hour in range(HOURS):
        for kind, name, est in series:
            rows.append([hour, kind, name, est["mean"][hour], est["low"][hour], est["high"][hour]])
    return rows


HOURLY_HEADER = ("hour", "kind", "series", "payments_mean", "payments_low", "payments_high")
