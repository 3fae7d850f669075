"""``[region]``: the province (or country), its units (sở, huyện, xã) and each unit's one-stop-shop counters.

*Scenario.* Huyện Cao Lộc (80,000 people, 14,000 fee-bearing dossiers a year, assumed) paid 14.9% of its
dossiers online in the first half of 2024 (observed, with its source); its one-stop shop (bộ phận một cửa)
has four counters and four officers, and an officer takes 12 minutes for a dossier paid in cash, 4 for one
filed and paid online.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from motcua.scenario.common import SLUG, check_period
from motcua.typed_config import FieldProblem, check_unique, spec

UnitKind = Literal["department", "district", "city", "commune", "ward", "province"]
Levels = Literal["three-level", "two-level"]
"""``three-level``: province → district (huyện) → commune, as before 1 July 2025 (history, backtests);
``two-level``: province → commune-level units (xã, phường), Resolution 202/2025/QH15 and the 2025 arrangement."""
CentreModel = Literal["commune-centres", "provincial-centre"]
"""Decree 118/2025/NĐ-CP: a public administration service centre in each commune-level unit, or a single
provincial centre with branches (then no commune-level centres)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceMinutes:
    """Mean service time at a counter by what the officer does, in minutes."""

    cash: float = spec("receiving an in-person dossier and collecting the fee in cash", 12.0, unit="minutes", gt=0)
    qr: float = spec("receiving an in-person dossier paid by QR code at the counter", 9.0, unit="minutes", gt=0)
    online_filed: float = spec("handling a dossier filed and paid online", 4.0, unit="minutes", gt=0)
    guidance: float = spec("guiding one citizen through online filing and payment", 15.0, unit="minutes", gt=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Counters:
    """The one-stop-shop (bộ phận một cửa) of a unit: counters, officers, opening hours, service times."""

    counters: int = spec("counter desks", ge=1)
    officers: int = spec("officers on duty at the counters", ge=1)
    opening: tuple[str, ...] = spec("opening periods, 'HH:MM-HH:MM' local time",
                                    ("07:30-11:30", "13:30-17:00"),
                                    pattern=r"\d\d:\d\d-\d\d:\d\d", pattern_hint="e.g. '07:30-11:30'")
    weekdays: tuple[int, ...] = spec("open weekdays, 1 = Monday … 7 = Sunday", (1, 2, 3, 4, 5), ge=1, le=7)
    service_minutes: ServiceMinutes = spec("mean service times", default_factory=ServiceMinutes)
    help_seekers_per_day: float = spec("people who come only to ask for help", 0.0, unit="per day", ge=0)
    patience_minutes: float = spec("mean wait a citizen tolerates before leaving to come back another day",
                                   60.0, unit="minutes", gt=0)
    balk_queue_length: int = spec("queue length at which an arriving citizen turns back", 40, ge=1)
    balking: bool = spec("whether citizens turn back at a long queue (false: everyone joins)", True)
    reneging: bool = spec("whether waiting citizens give up when their patience runs out (false: never)", True)
    join_theta: float | None = spec("joining that falls with the queue: a citizen who finds n waiting joins with "
                                    "probability exp(−n/θ), below balk_queue_length", None, gt=0)
    join_table: tuple[float, ...] | None = spec("joining by a declared table: entry n is the probability of "
                                                "joining when n wait (the first must be 1; the last holds beyond)",
                                                None, ge=0, le=1)
    patience_distribution: Literal["exponential", "lognormal", "weibull"] = spec(
        "law of a citizen's patience, of mean patience_minutes", "exponential")
    patience_cv: float = spec("coefficient of variation of patience (lognormal, weibull)", 1.0, ge=0.05, le=10)
    priority_share: float = spec("share of visits with priority at reception (elderly, pregnant women, people with "
                                 "disabilities…), served next, non-pre-emptive", 0.0, share=True)
    service_cv: float | None = spec("coefficient of variation of service times (gamma); null: exponential",
                                    0.5, gt=0)
    break_minutes: float = spec("each officer's break in each opening period", 15.0, unit="minutes", ge=0)
    hourly: tuple[float, ...] | None = spec("arrival multipliers by hour of day, 24 values (default: the "
                                            "model's morning-rush profile)", None, ge=0)
    return_share: float = spec("share of those who leave unserved who come back the next open day", 0.9,
                               share=True)
    window_officers: tuple[int, ...] | None = spec("officers seated in each opening period, e.g. [4, 3] "
                                                   "(default: every officer in every period)", None, ge=0)

    def check(self) -> None:
        previous = -1
        for i, period in enumerate(self.opening):
            start, end = (_minutes_of_day(t) for t in period.split("-"))
            if start is None or end is None or not previous <= start < end:
                raise FieldProblem(f"opening[{i}]", period,
                                   "not a valid period: times HH:MM within 00:00-24:00, start before end, "
                                   "periods in order and not overlapping")
            previous = end
        check_unique(self.weekdays, "weekdays", None)
        if self.hourly is not None and len(self.hourly) != 24:
            raise FieldProblem("hourly", list(self.hourly), "needs 24 multipliers, one per hour of the day")
        if self.window_officers is not None and len(self.window_officers) != len(self.opening):
            raise FieldProblem("window_officers", list(self.window_officers),
                               f"needs one count per opening period ({len(self.opening)})")
        if self.join_table is not None and (not self.join_table or self.join_table[0] != 1.0):
            raise FieldProblem("join_table", list(self.join_table), "must start with 1.0 (nobody balks at an empty "
                                                                    "queue)")
        if self.join_table is not None and self.join_theta is not None:
            raise FieldProblem("join_table", list(self.join_table), "give join_theta or join_table, not both")

    @property
    def opening_minutes(self) -> tuple[tuple[int, int], ...]:
        """Opening periods as (start, end) minutes after midnight."""
        return tuple(tuple(_minutes_of_day(t) for t in p.split("-")) for p in self.opening)  # type: ignore[misc]


def _minutes_of_day(text: str) -> int | None:
    hours, minutes = (int(x) for x in text.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        return None
    return hours * 60 + minutes


@dataclasses.dataclass(frozen=True, kw_only=True)
class Unit:
    """An agency that receives dossiers: a department (sở), district (huyện), city or commune (xã)."""

    id: str = spec("short name, used in interventions, targets and observed data", pattern=SLUG)
    name: str = spec("name as written locally, in Vietnamese, e.g. 'Huyện Cao Lộc'")
    name_en: str = spec("the name in English, for `--lang en` reports (default: name)", "")
    kind: UnitKind = spec("kind of unit")
    agency_code: str = spec("code of the unit's dossier system at the gateway", pattern=r"[A-Z0-9_.-]+")
    population: int = spec("people the unit serves", ge=1)
    fee_dossiers_per_year: int = spec("fee-bearing dossiers received per year", unit="per year", ge=0)
    communes: int = spec("communes/wards: the clusters within which citizens imitate each other", 1, ge=1)
    observed_share: float | None = spec("observed share of fee-bearing dossiers paid online", None, share=True)
    observed_share_source: str | None = spec("source id of observed_share (see scenario.sources)", None)
    observed_from: dt.date | None = spec("first day of the period observed_share covers", None)
    observed_to: dt.date | None = spec("last day of the period observed_share covers", None)
    initial_share: float | None = spec("share paid online on simulation.start (default: observed_share, else 0)",
                                       None, share=True)
    counters: Counters | None = spec("the unit's one-stop-shop counters", None)
    reception_points: int = spec("reception and return points of the unit's service centre (decided by the "
                                 "commune People's Committee, Decree 118/2025/NĐ-CP)", 1, ge=1)
    former_units: tuple[str, ...] = spec("units before the 2025 arrangement merged into this one, as written in "
                                         "the resolution's clause", ())
    former_districts: tuple[str, ...] = spec("former district(s) (huyện) the unit's area came from; their 2024 "
                                             "observations carry over by the rule given in [provenance]", ())

    def check(self) -> None:
        _check_observation(self)

    @property
    def start_share(self) -> float:
        """The share the models start from: `initial_share`, else `observed_share`, else 0."""
        for value in (self.initial_share, self.observed_share):
            if value is not None:
                return value
        return 0.0


def _check_observation(obj: Unit | Region) -> None:
    if obj.observed_share is not None and obj.observed_share_source is None:
        raise FieldProblem("observed_share_source", None,
                           "an observed_share needs observed_share_source naming one of scenario.sources")
    if obj.observed_from is not None and obj.observed_to is not None:
        check_period(obj.observed_from, obj.observed_to, "observed_from", "observed_to")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Region:
    """The province (or country) and the units that receive dossiers."""

    name: str = spec("name of the province or country")
    province_code: str = spec("two-digit province code ('00' for national)", pattern=r"\d\d")
    units: tuple[Unit, ...] = spec("units that receive fee-bearing dossiers")
    levels: Levels = spec("administrative levels: three-level (to 30 June 2025) or two-level (from 1 July 2025)",
                          "three-level")
    centre_model: CentreModel = spec("service centres: one per commune-level unit, or a single provincial centre",
                                     "commune-centres")
    arrangement: str | None = spec("the resolution arranging the commune-level units, e.g. '1672/NQ-UBTVQH15'",
                                   None)
    observed_share: float | None = spec("observed share for the whole region", None, share=True)
    observed_share_source: str | None = spec("source id of observed_share", None)
    observed_from: dt.date | None = spec("first day of the period observed_share covers", None)
    observed_to: dt.date | None = spec("last day of the period observed_share covers", None)

    def check(self) -> None:
        if not self.units:
            raise FieldProblem("units", [], "at least one unit is needed")
        check_unique([u.id for u in self.units], "units", "id")
        check_unique([u.agency_code for u in self.units], "units", "agency_code")
        if self.levels == "two-level":
            for i, unit in enumerate(self.units):
                if unit.kind == "district":
                    raise FieldProblem(f"units[{i}].kind", unit.kind, "no district level in a two-level region "
                                       "(from 1 July 2025): use commune, ward, department or province, and "
                                       "record the former district in former_districts")
        _check_observation(self)

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id (KeyError naming the known ids otherwise)."""
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(f"no unit {unit_id!r}; units: {', '.join(u.id for u in self.units)}")
