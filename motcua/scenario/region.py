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

UnitKind = Literal["department", "district", "city", "commune", "province"]


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
    observed_share: float | None = spec("observed share for the whole region", None, share=True)
    observed_share_source: str | None = spec("source id of observed_share", None)
    observed_from: dt.date | None = spec("first day of the period observed_share covers", None)
    observed_to: dt.date | None = spec("last day of the period observed_share covers", None)

    def check(self) -> None:
        if not self.units:
            raise FieldProblem("units", [], "at least one unit is needed")
        check_unique([u.id for u in self.units], "units", "id")
        check_unique([u.agency_code for u in self.units], "units", "agency_code")
        _check_observation(self)

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id (KeyError naming the known ids otherwise)."""
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(f"no unit {unit_id!r}; units: {', '.join(u.id for u in self.units)}")
