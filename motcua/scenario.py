"""The scenario schema: one TOML file describes a province, its citizens, its levers and its payment system.

Scenario: Lạng Sơn in 2024. Five units (districts, the city, a department) report what share of their
fee-bearing dossiers (hồ sơ) were paid online; a campaign from 6 June to 31 December pushes outreach
and counter guidance; Decision 497 asks for 45%. A planner writes that down once, in
``scenarios/lang-son-2024.toml``, and every part of motcua reads it from here: the adoption and
counter models, the load test (payment system, load profiles, SLOs), the report and calibration.

This module is the ONE place of the schema. Each section is a frozen dataclass whose fields are
declared with `spec` (doc, unit, bounds); `load_scenario` validates a file against them and
`json_schema` generates the JSON Schema for editors from the same declarations. Units are in the
key names (``_vnd``, ``_minutes``, ``_per_day``, ``_per_year``, ``_s``, ``_ms``); shares are within 0–1.

Provenance: ``[provenance]`` maps a field path (``region.units[cao-loc].observed_share``, or a whole
section such as ``citizens``) to ``"observed: <source id> …"``, ``"assumed: <why>"``,
``"derived: <how>"`` or ``"setting: <why>"``, so the report can say which figures come from an
article and which are assumptions. `Scenario.provenance_of` answers for any field.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from motcua.errors import ScenarioError
from motcua.payment_platform import PAYMENT_GROUPS as PAYMENT_GROUPS  # re-exported: part of the scenario schema
from motcua.payment_platform import BankProfile, GroupMix, check_banks
from motcua.resources import bundled
from motcua.typed_config import (
    ConfigFile,
    FieldProblem,
    Reader,
    canonical_path,
    check_share_sum,
    get_path,
    join,
    set_path,
    spec,
    to_data,
)
from motcua.typed_config import check_unique as _check_unique
from motcua.typed_config import json_schema as _json_schema

SCENARIO_DIR = bundled("motcua.scenarios")
"""Where the bundled scenarios live."""

SLUG = r"[a-z0-9][a-z0-9-]*"
PROVENANCE_KINDS = ("observed", "assumed", "derived", "setting")
ALL_UNITS = "*"

UnitKind = Literal["department", "district", "city", "commune", "province"]
InterventionKind = Literal[
    "community_digital_team",
    "counter_guidance",
    "post_office_help",
    "qr_at_counter",
    "online_fee_reduction",
    "refuse_in_person_filing",
    "vneid_drive",
    "information_campaign",
]
VNEID_LEVEL2_REQUIRED_FROM = dt.date(2024, 6, 15)
"""From this day a level-2 VNeID identity is required to pay online on the national portal (national rule)."""
OUTREACH_KINDS = ("information_campaign", "community_digital_team", "post_office_help")
"""Intervention kinds whose intensity adds to the Generalized Bass effort x(t); the others act on a barrier."""
ProfileKind = Literal["constant", "ramp", "steps", "spike", "peak_day"]


def _check_period(start: dt.date, end: dt.date, start_name: str, end_name: str) -> None:
    if end < start:
        raise FieldProblem(end_name, end.isoformat(), f"ends before {start_name} {start.isoformat()}")


# --- [scenario] ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Source:
    """A source of observed figures: one article (a file of ``shared/seeds/``) with its place and year."""

    id: str = spec("short name that provenance entries cite, e.g. 'lang-son-2024'", pattern=SLUG)
    title: str = spec("title of the article or document")
    place: str = spec("province or body the figures are about, e.g. 'Lạng Sơn'")
    year: int = spec("year of publication", ge=2000, le=2100)
    seed: str | None = spec("file name in shared/seeds/", None)
    url: str | None = spec("web address, when known", None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Meta:
    """Name, title and sources of a scenario."""

    name: str = spec("short name, used for the results folder", pattern=SLUG,
                     pattern_hint="lower-case letters, digits and dashes, e.g. 'lang-son-2024'")
    title: str = spec("one-line title for reports, in Vietnamese (the reports' default language)")
    title_en: str = spec("the title in English, for `--lang en` reports (default: title)", "")
    description: str = spec("what the scenario represents and why", "")
    sources: tuple[Source, ...] = spec("articles the observed figures come from", ())

    def check(self) -> None:
        _check_unique([s.id for s in self.sources], "sources", "id")


# --- [simulation] --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Simulation:
    """Run settings: the first simulated day, the horizon, replications and seed."""

    start: dt.date = spec("first simulated day (00:00 Asia/Ho_Chi_Minh is minute 0)")
    horizon_days: int = spec("number of simulated days", unit="days", ge=1, le=36600)
    replications: int = spec("independent replications for confidence intervals", 20, ge=1)
    seed: int = spec("root seed of numpy.random.SeedSequence", 20240606, ge=0)
    target_date: dt.date | None = spec("date at which to report the share against the targets", None)

    @property
    def end(self) -> dt.date:
        """The last simulated day."""
        return self.start + dt.timedelta(days=self.horizon_days - 1)

    def check(self) -> None:
        if self.target_date is not None and not self.start <= self.target_date <= self.end:
            raise FieldProblem("target_date", self.target_date.isoformat(),
                               f"outside the simulated period {self.start} – {self.end}")


# --- [region] ------------------------------------------------------------------------------------


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
        _check_unique(self.weekdays, "weekdays", None)

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
        _check_period(obj.observed_from, obj.observed_to, "observed_from", "observed_to")


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
        _check_unique([u.id for u in self.units], "units", "id")
        _check_unique([u.agency_code for u in self.units], "units", "agency_code")
        _check_observation(self)

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id (KeyError naming the known ids otherwise)."""
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(f"no unit {unit_id!r}; units: {', '.join(u.id for u in self.units)}")


# --- [citizens] and [adoption] -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Citizens:
    """Who the citizens are: shares of the population with each trait (barriers and enablers)."""

    smartphone: float = spec("own a smartphone", share=True)
    vneid_level2: float = spec("have a level-2 VNeID electronic identity", share=True)
    rural: float = spec("live in rural communes", share=True)
    ethnic_minority: float = spec("belong to an ethnic minority", share=True)
    good_connectivity: float = spec("have a reliable mobile or fixed Internet link", share=True)
    digital_skill: float = spec("can complete an online form and payment unaided", share=True)
    cash_preference: float = spec("prefer paying cash at the counter", share=True)
    small_fee_sensitivity: float = spec("would not bother paying a small fee online", share=True)
    sim_in_own_name: float = spec("have a SIM card registered in their own name", 0.9, share=True)
    data_leak_fear: float = spec("fear leaking personal data online", 0.2, share=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BehaviourParameters:
    """How citizens react to barriers and levers in the agent model (``[adoption.behaviour]``, optional, each key
    optional): every default is an assumption that no source measures.

    The exceptions are ``vneid_required_from`` (the national rule of 15 June 2024) and ``agents_per_unit`` (a
    run setting). `models.adoption.AdoptionModel` reads this table unless given ``behaviour=``. Rates are per
    year per citizen; a factor multiplies a citizen's relative adoption hazard (1 = no barrier); a lift is the
    share of a barrier that one unit of a lever's intensity removes; shares and probabilities are within 0–1.
    """

    agents_per_unit: int = spec("agents simulated per unit (fewer if the unit has fewer people); one agent stands "
                                "for population / agents of the unit's citizens", 20_000, unit="agents", ge=1)
    initial_awareness: float = spec("share of citizens who know about online payment on the first day", 0.6,
                                    share=True)
    initial_habitual_share: float = spec("share of the first day's adopters who are already habitual", 0.7,
                                         share=True)
    awareness_per_year: float = spec("rate of hearing about online payment from outreach, multiplied by the "
                                     "effort x(t)", 0.4, unit="per year", ge=0)
    awareness_imitation_per_year: float = spec("word of mouth: rate of hearing about it per unit of the commune's "
                                               "adopter share", 1.0, unit="per year", ge=0)
    reach_rural: float = spec("factor at which outreach reaches rural citizens", 0.7, unit="factor", ge=0)
    reach_minority: float = spec("factor at which outreach reaches ethnic-minority citizens (language, distance)",
                                 0.6, unit="factor", ge=0)
    device_per_year: float = spec("rate at which citizens get a smartphone or a usable link on their own", 0.2,
                                  unit="per year", ge=0)
    help_point_per_year: float = spec("device/link gap closed by a post-office help point of intensity 1 that "
                                      "gives no capacity_per_day", 2.0, unit="per year", ge=0)
    team_per_year: float = spec("device/link and identity gaps closed by a community digital team of intensity 1 "
                                "that gives no capacity_per_day", 3.0, unit="per year", ge=0)
    vneid_per_year: float = spec("rate of level-2 VNeID enrolment through the ordinary police rollout", 0.8,
                                 unit="per year", ge=0)
    vneid_drive_per_year: float = spec("identity gap closed by a VNeID drive of intensity 1 that gives no "
                                       "capacity_per_day", 4.0, unit="per year", ge=0)
    unaware_factor: float = spec("relative adoption hazard of a citizen who has not heard of online payment "
                                 "(outreach must reach, convince and equip them in one go)", 0.3,
                                 unit="factor", ge=0, le=1)
    needs_device_factor: float = spec("relative adoption hazard of a citizen without a smartphone or a usable "
                                      "link", 0.3, unit="factor", ge=0, le=1)
    needs_identity_factor: float = spec("relative adoption hazard of a citizen without a level-2 VNeID", 0.5,
                                        unit="factor", ge=0, le=1)
    unskilled_factor: float = spec("relative adoption hazard of a citizen without digital skill", 0.5,
                                   unit="factor", ge=0, le=1)
    skill_lift: float = spec("lever strength: share of the skill barrier removed per unit intensity of community "
                             "digital teams and post-office help points", 0.5, unit="per unit intensity", ge=0, le=1)
    cash_factor: float = spec("relative adoption hazard of a citizen who prefers cash", 0.6, unit="factor",
                              ge=0, le=1)
    small_fee_factor: float = spec("relative adoption hazard of a citizen who would not bother paying a small fee "
                                   "online", 0.7, unit="factor", ge=0, le=1)
    qr_lift: float = spec("lever strength: share of the cash barrier removed per unit intensity of QR payment at "
                          "the counter", 0.6, unit="per unit intensity", ge=0, le=1)
    fee_reduction_lift: float = spec("lever strength: share of the small-fee barrier removed per unit intensity of "
                                     "an online-fee reduction", 0.8, unit="per unit intensity", ge=0, le=1)
    tried_cash_online: float = spec("probability that a cash-preferring citizen who has tried (not yet habitual) "
                                    "pays a dossier online; below 1 the share of dossiers paid online falls below "
                                    "the share of adopters", 1.0, share=True)
    tried_small_fee_online: float = spec("the same for a citizen who would not bother paying a small fee online",
                                         1.0, share=True)
    qr_counter_uptake: float = spec("probability that an able non-adopter pays by QR at a counter that offers it "
                                    "(intensity 1)", 0.2, share=True)
    fully_online_dossier_share: float = spec("share of fee-bearing dossiers that belong to fully-online services "
                                             "(which refuse_in_person_filing pushes online)", 0.6, share=True)
    habitual_lapse_factor: float = spec("a habitual payer lapses after a bad experience with this factor times "
                                        "adoption.lapse_after_bad_experience", 0.5, unit="factor", ge=0, le=1)
    vneid_required_from: dt.date = spec("first day a level-2 VNeID is needed to pay online (national rule)",
                                        VNEID_LEVEL2_REQUIRED_FROM)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdoptionParams:
    """Generalized Bass parameters: innovation p, imitation q, the weight of outreach effort, trust, behaviour.

    The mean-field share of adopters F follows dF/dt = (p + qF/m)(m − F)·x(t) with m = potential_share and
    effort x(t) = 1 + effort_weight · (sum of the intensities of the `OUTREACH_KINDS` interventions active in
    the unit that day: information_campaign, community_digital_team, post_office_help). Only those three add
    to x(t), in the agent model and in calibration alike; the other levers (counter guidance, QR at the
    counter, online-fee reduction, refusing in-person filing, VNeID drives) act on their own barrier in the
    agent model, with the strengths of ``[adoption.behaviour]`` (`BehaviourParameters`).
    """

    p_per_year: float = spec("innovation coefficient p (adoption without peers)", unit="per year", gt=0)
    q_per_year: float = spec("imitation coefficient q (adoption driven by adopters nearby)", unit="per year", ge=0)
    effort_weight: float = spec("weight of outreach effort in x(t) = 1 + weight · (sum of the intensities of the "
                                "active information_campaign, community_digital_team and post_office_help "
                                "interventions)", 1.0, ge=0)
    potential_share: float = spec("ceiling share of fee-bearing dossiers that can ever be paid online", 0.95,
                                  share=True, gt=0)
    lapse_after_bad_experience: float = spec("probability an adopter lapses after a failed or unconfirmed "
                                             "payment", 0.3, share=True)
    return_after_lapse_per_year: float = spec("rate at which lapsed adopters try again", 0.5, unit="per year", ge=0)
    habit_after_uses: int = spec("successful online payments after which a citizen is habitual", 2, ge=1)
    behaviour: BehaviourParameters = spec("how citizens react to barriers and levers in the agent model (all "
                                          "assumed; defaults in motcua/scenario.py)",
                                          default_factory=BehaviourParameters)


# --- [[interventions]] ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Intervention:
    """A lever planners pull: outreach, help or a rule, in some units, for a period, at a cost."""

    kind: InterventionKind = spec("kind of lever")
    start: dt.date = spec("first day in effect")
    end: dt.date = spec("last day in effect")
    units: tuple[str, ...] = spec("unit ids it covers, or ['*'] for all", (ALL_UNITS,))
    intensity: float = spec("strength of the lever; for outreach kinds the effort added to x(t), 1 = a full "
                            "campaign", 1.0, ge=0)
    capacity_per_day: float | None = spec("citizens it can help per day per unit", None, unit="per day", ge=0)
    cost_vnd: int = spec("total cost", 0, unit="VND", money=True)
    guidance_minutes: float | None = spec("officer minutes per guided citizen (counter_guidance)", None,
                                          unit="minutes", gt=0)
    fee_reduction_share: float | None = spec("share of the fee waived when paid online (online_fee_reduction)",
                                             None, share=True)
    name: str = spec("label for reports, in Vietnamese", "")
    name_en: str = spec("the label in English, for `--lang en` reports (default: name)", "")

    def check(self) -> None:
        _check_period(self.start, self.end, "start", "end")
        if self.kind == "counter_guidance" and self.guidance_minutes is None:
            raise FieldProblem("guidance_minutes", None,
                               "counter_guidance needs guidance_minutes (officer minutes per guided citizen)")
        if self.kind == "online_fee_reduction" and self.fee_reduction_share is None:
            raise FieldProblem("fee_reduction_share", None, "online_fee_reduction needs fee_reduction_share")

    def covers(self, unit_id: str) -> bool:
        return ALL_UNITS in self.units or unit_id in self.units

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


# --- [payment_system] ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallbackDelay:
    """Delay from the bank's approval to the agency system marking the dossier paid, in seconds."""

    p50: float = spec("median", unit="s", ge=0)
    p95: float = spec("95th percentile", unit="s", ge=0)

    def check(self) -> None:
        if self.p95 < self.p50:
            raise FieldProblem("p95", self.p95, f"below p50 = {self.p50}; the 95th percentile cannot be below "
                                                "the median")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SystemQuality:
    """How well the payment system serves citizens; what the adoption model's trust reacts to.

    A citizen whose payment failed, or who paid but is still told the dossier is unpaid after
    `unpaid_notice_after_s`, loses trust. Replace it with a load test's measurements via
    `Scenario.with_quality`.
    """

    failure_rate: float = spec("share of payment attempts that fail", share=True)
    callback_p50_s: float = spec("median callback delay", unit="s", ge=0)
    callback_p95_s: float = spec("95th percentile callback delay", unit="s", ge=0)
    unpaid_notice_after_s: float = spec("delay after which a citizen who paid sees 'unpaid' and worries",
                                        unit="s", gt=0)

    def check(self) -> None:
        if self.callback_p95_s < self.callback_p50_s:
            raise FieldProblem("callback_p95_s", self.callback_p95_s, f"below callback_p50_s = {self.callback_p50_s}")

    @classmethod
    def from_measurements(cls, *, failure_rate: float, callback_p50_ms: float, callback_p95_ms: float,
                          unpaid_notice_after_s: float, source: str = "load test") -> SystemQuality:
        """Build from a load test's figures (latencies in ms as the load test reports them), validated."""
        data = {"failure_rate": failure_rate, "callback_p50_s": callback_p50_ms / 1000,
                "callback_p95_s": callback_p95_ms / 1000, "unpaid_notice_after_s": unpaid_notice_after_s}
        return Reader(source, error=ScenarioError).read(cls, data, "quality")

    def unpaid_notice_probability(self) -> float:
        """Share of paid citizens told 'unpaid': P(callback delay > unpaid_notice_after_s), lognormal fit."""
        from statistics import NormalDist

        if self.callback_p50_s <= 0:
            return 0.0
        mu = math.log(self.callback_p50_s)
        sigma = max(math.log(max(self.callback_p95_s, self.callback_p50_s) / self.callback_p50_s) / 1.6448536, 1e-9)
        return 1 - NormalDist(mu, sigma).cdf(math.log(self.unpaid_notice_after_s))


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentSystem:
    """The national payment platform as citizens meet it: failures, callback delays, groups and banks."""

    failure_rate: float = spec("share of payment attempts that fail", share=True)
    callback_delay_s: CallbackDelay = spec("delay until the agency system learns of the payment")
    unpaid_notice_after_s: float = spec("delay after which a citizen who paid sees 'unpaid'", unit="s", gt=0)
    groups: GroupMix = spec("mix of payment groups")
    banks: tuple[BankProfile, ...] = spec("connected banks and e-wallets (shares sum to 1)")
    fee_catalogue: str = spec("fee catalogue file, relative to the scenario file", "fee-catalogue.toml")

    def check(self) -> None:
        check_banks(self.banks)
        for i, bank in enumerate(self.banks):
            if bank.share is None:
                raise FieldProblem(f"banks[{i}].share", None, "required in a scenario: the share of payments "
                                                            "through this bank (the shares sum to 1)")
        check_share_sum(self.bank_shares(), "the bank shares", field="banks")

    def bank_shares(self) -> dict[str, float]:
        """Share of payments by bank code (every bank of a checked scenario has one)."""
        return {b.code: b.share or 0.0 for b in self.banks}

    @property
    def quality(self) -> SystemQuality:
        return SystemQuality(failure_rate=self.failure_rate, callback_p50_s=self.callback_delay_s.p50,
                             callback_p95_s=self.callback_delay_s.p95, unpaid_notice_after_s=self.unpaid_notice_after_s)


# --- [load] and [slo] ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Profile:
    """A load shape for the load test: arrivals per second over time.

    - ``constant``: ``rate_per_s`` for ``duration_s``;
    - ``ramp``: from ``start_rate_per_s`` to ``rate_per_s`` over ``duration_s``;
    - ``steps``: each of ``steps_per_s`` for ``step_s``;
    - ``spike``: ``rate_per_s``, with ``spike_rate_per_s`` from ``spike_at_s`` for ``spike_s``;
    - ``peak_day``: 24 hours, ``rate_per_s`` × ``hourly[h]`` in hour h, compressed by ``load.time_compression``.
    """

    kind: ProfileKind = spec("shape")
    rate_per_s: float = spec("arrival rate (the base or final rate, or the mean for peak_day)", 1.0,
                             unit="per s", ge=0)
    duration_s: float | None = spec("length (constant, ramp, spike)", None, unit="s", gt=0)
    start_rate_per_s: float = spec("rate at the start of a ramp", 0.0, unit="per s", ge=0)
    steps_per_s: tuple[float, ...] = spec("rates of the steps", (), unit="per s", ge=0)
    step_s: float | None = spec("length of each step", None, unit="s", gt=0)
    spike_rate_per_s: float | None = spec("rate during the spike", None, unit="per s", ge=0)
    spike_at_s: float | None = spec("start of the spike", None, unit="s", ge=0)
    spike_s: float | None = spec("length of the spike", None, unit="s", gt=0)
    hourly: tuple[float, ...] = spec("24 multipliers of rate_per_s, hour 0 to 23 local time (peak_day)", (),
                                     length=None, ge=0)

    _REQUIRED = {  # noqa: RUF012 - a class constant, not a field
        "constant": ("duration_s",),
        "ramp": ("duration_s",),
        "steps": ("steps_per_s", "step_s"),
        "spike": ("duration_s", "spike_rate_per_s", "spike_at_s", "spike_s"),
        "peak_day": ("hourly",),
    }

    def check(self) -> None:
        for name in self._REQUIRED[self.kind]:
            if getattr(self, name) in (None, ()):
                raise FieldProblem(name, None, f"a {self.kind} profile needs {name}")
        if self.kind == "peak_day" and len(self.hourly) != 24:
            raise FieldProblem("hourly", list(self.hourly),
                               f"needs 24 multipliers (hours 0–23), got {len(self.hourly)}")
        if self.kind == "spike" and self._given("spike_at_s") + self._given("spike_s") > self._given("duration_s"):
            raise FieldProblem("spike_s", self.spike_s, f"the spike ends after duration_s = {self.duration_s}")

    def _given(self, name: str) -> float:
        """The optional field `name`, which this profile's kind requires (``check`` has made sure it is set)."""
        value: float | None = getattr(self, name)
        if value is None:
            raise FieldProblem(name, None, f"a {self.kind} profile needs {name}")
        return value

    def rate_at(self, t_s: float, *, time_compression: float = 1.0) -> float:
        """Arrivals per second at `t_s` seconds into the (compressed) test."""
        if self.kind == "constant":
            return self.rate_per_s
        if self.kind == "ramp":
            frac = min(max(t_s / self._given("duration_s"), 0.0), 1.0)
            return self.start_rate_per_s + frac * (self.rate_per_s - self.start_rate_per_s)
        if self.kind == "steps":
            return self.steps_per_s[min(int(t_s // self._given("step_s")), len(self.steps_per_s) - 1)]
        if self.kind == "spike":
            start_s = self._given("spike_at_s")
            in_spike = start_s <= t_s < start_s + self._given("spike_s")
            return self._given("spike_rate_per_s") if in_spike else self.rate_per_s
        hour = int((t_s * time_compression) // 3600) % 24
        return self.rate_per_s * self.hourly[hour]

    def total_s(self, *, time_compression: float = 1.0) -> float:
        """Length of the test in (compressed) seconds."""
        if self.kind == "steps":
            return self._given("step_s") * len(self.steps_per_s)
        if self.kind == "peak_day":
            return 86400 / time_compression
        return self._given("duration_s")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Steps:
    """A share for each step of the citizen's online journey."""

    identity: float = spec("VNeID login / identity step", 0.0, share=True)
    dossier: float = spec("filling in the dossier", 0.0, share=True)
    payment_page: float = spec("the payment page", 0.0, share=True)
    bank_choice: float = spec("choosing a bank", 0.0, share=True)
    charge: float = spec("the bank's charge and OTP", 0.0, share=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Load:
    """How the load test drives the mock services: the profile, compression and citizens' behaviour."""

    profile: str = spec("name of the profile in load.profiles to run by default")
    profiles: dict[str, Profile] = spec("named load shapes")
    time_compression: float = spec("simulated seconds per real second (a 24 h day in 24·3600/x s)", 1.0, gt=0)
    vneid_level2_share: float = spec("share of simulated citizens with level-2 VNeID", 1.0, share=True)
    abandon: Steps = spec("share of citizens who give up at each step", default_factory=Steps)
    mistake_restart: Steps = spec("share who make a mistake at each step and start again", default_factory=Steps)
    officer_poll_s: float = spec("how often a simulated officer polls a dossier's status", 30.0, unit="s", gt=0)
    reconcile_every_s: float = spec("how often the reconciler runs (đối soát)", 600.0, unit="s", gt=0)

    def check(self) -> None:
        if self.profile not in self.profiles:
            raise FieldProblem("profile", self.profile,
                               f"no such profile; defined: {', '.join(self.profiles) or '(none)'}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SLO:
    """Service-level objectives the load test gates on."""

    callback_p95_ms: float = spec("95th percentile of bank approval → dossier marked paid", unit="ms", gt=0)
    create_p99_ms: float = spec("99th percentile of creating a payment", unit="ms", gt=0)
    error_rate: float = spec("share of requests that may fail", share=True)
    dropped_arrivals: float = spec("share of scheduled arrivals the load generator may drop", 0.01, share=True)
    lost_callbacks: int = spec("bank-approved payments that may end unconfirmed", 0, ge=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    """A policy target: a share of fee-bearing dossiers paid online by a date."""

    share: float = spec("target share", share=True)
    date: dt.date = spec("deadline")
    units: tuple[str, ...] = spec("unit ids, or ['*'] for every unit", (ALL_UNITS,))
    name: str = spec("label, e.g. 'Decision 497'", "")
    source: str | None = spec("source id", None)


# --- sensitivity ranges ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class SensitivityRanges:
    """``[sensitivity]``: how far `motcua sensitivity` moves each number whose provenance is *assumed*.

    Every assumed number of the parts the simulation reads is varied between value × (1 − r) and value × (1 + r),
    cut to the field's own bounds; r is ``relative`` of the field's path (or of the provenance entry that covers
    it, e.g. ``citizens``), else ``default_relative``. r = 0 keeps the number fixed. Both defaults are *assumed*.
    """

    default_relative: float = spec("half-width of an assumed number's range, relative to its value (0.3: ±30%)",
                                   0.3, ge=0, le=0.95)
    relative: dict[str, float] = spec("field path (or provenance entry) → its own relative half-width",
                                      default_factory=dict, ge=0, le=0.95)


# --- the scenario --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scenario:
    """A whole scenario file: read it with `load_scenario`."""

    scenario: Meta = spec("name, title, sources")
    simulation: Simulation = spec("run settings")
    region: Region = spec("the province and its units")
    citizens: Citizens = spec("the citizens' traits")
    adoption: AdoptionParams = spec("adoption model parameters")
    payment_system: PaymentSystem = spec("the payment system's quality, groups and banks")
    load: Load = spec("load-test settings and profiles")
    slo: SLO = spec("service-level objectives")
    interventions: tuple[Intervention, ...] = spec("levers in the scenario", ())
    targets: tuple[Target, ...] = spec("policy targets", ())
    sensitivity: SensitivityRanges = spec("ranges of the assumed numbers for `motcua sensitivity`",
                                          default_factory=SensitivityRanges)
    provenance: dict[str, str] = spec("field path → 'observed: <source id> …' | 'assumed: <why>' | "
                                      "'derived: <how>' | 'setting: <why>'", default_factory=dict,
                                      pattern=r"(observed|assumed|derived|setting):\s*\S.*",
                                      pattern_hint="start with observed:, assumed:, derived: or setting:")
    file: str = dataclasses.field(default="<memory>", compare=False, repr=False, init=False)
    """The file the scenario was read from."""
    given: frozenset[str] = dataclasses.field(default=frozenset(), compare=False, repr=False, init=False)
    """Paths of the values written in the file (the rest are schema defaults)."""

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def units(self) -> tuple[Unit, ...]:
        return self.region.units

    @property
    def quality(self) -> SystemQuality:
        """The payment system's quality as the adoption model sees it."""
        return self.payment_system.quality

    def check(self) -> None:
        unit_ids = {u.id for u in self.region.units}
        source_ids = {s.id for s in self.scenario.sources}
        for i, item in enumerate(self.interventions):
            _check_unit_refs(item.units, unit_ids, f"interventions[{i}].units")
        for i, target in enumerate(self.targets):
            _check_unit_refs(target.units, unit_ids, f"targets[{i}].units")
            if target.date <= self.simulation.start:
                raise FieldProblem(f"targets[{i}].date", target.date.isoformat(),
                                   f"not after simulation.start {self.simulation.start}")
            if target.date > self.simulation.end:
                days = (target.date - self.simulation.start).days + 1
                raise FieldProblem(f"targets[{i}].date", target.date.isoformat(),
                                   f"after the simulation ends ({self.simulation.end}); raise "
                                   f"simulation.horizon_days to at least {days}")
            if target.source is not None:
                _check_source(target.source, source_ids, f"targets[{i}].source")
        for where, obj in [("region", self.region)] + [(f"region.units[{i}]", u) for i, u in enumerate(self.units)]:
            if obj.observed_share_source is not None:
                _check_source(obj.observed_share_source, source_ids, f"{where}.observed_share_source")
        self._check_provenance(source_ids)

    def _check_provenance(self, source_ids: set[str]) -> None:
        data = to_data(self)
        for key, text in self.provenance.items():
            where = join("provenance", key)
            try:
                get_path(data, key)
            except (KeyError, ValueError):
                raise FieldProblem(where, text, f"{key!r} is not a field of the scenario; write a path such as "
                                                "'region.units[cao-loc].observed_share' or a section name") from None
            kind, _, rest = text.partition(":")
            if kind == "observed":
                _check_source(rest.split()[0].rstrip(",;") if rest.split() else "", source_ids, where)

    # --- provenance ---

    def provenance_of(self, path: str) -> str:
        """Where a figure comes from: the most specific ``[provenance]`` entry covering `path`.

        Observed shares of units cite their ``observed_share_source``; values not written in the file are
        schema defaults ("assumed: default of motcua/scenario.py"). An entry for a section speaks for the values
        of its sub-tables only where the file writes them: an ``adoption`` entry about p and q says nothing
        about an ``[adoption.behaviour]`` table the file leaves to its defaults.
        """
        canonical = canonical_path(self._data, path)
        table = self._provenance_table
        probe = canonical
        while probe:
            if probe in table:
                return table[probe]
            if isinstance(get_path(self._data, probe), Mapping) and not _covers_given(probe, self.given):
                break  # a whole table filled from defaults
            probe = _parent_path(probe)
        if not _covers_given(canonical, self.given):
            return "assumed: default of motcua/scenario.py"
        return ""

    def unmarked_numbers(self) -> list[str]:
        """Paths of numbers written in the file that no provenance entry covers (each should say where it is from)."""
        numbers = [p for p in self.given if not p.startswith("scenario.")  # metadata, e.g. a source's year
                   and isinstance(get_path(self._data, p), int | float)
                   and not isinstance(get_path(self._data, p), bool)]
        return sorted(p for p in numbers if not self.provenance_of(p))

    @functools.cached_property
    def _data(self) -> dict[str, Any]:
        return to_data(self)

    @functools.cached_property
    def _provenance_table(self) -> dict[str, str]:
        """Provenance by canonical path (list items by index), with the units' observed_share_source."""
        table = {canonical_path(self._data, k): v for k, v in self.provenance.items()}
        for i, unit in enumerate(self.units):
            if unit.observed_share_source:
                table.setdefault(f"region.units[{i}].observed_share", f"observed: {unit.observed_share_source}")
        if self.region.observed_share_source:
            table.setdefault("region.observed_share", f"observed: {self.region.observed_share_source}")
        return table

    # --- variants ---

    def to_dict(self, *, written_only: bool = False) -> dict[str, Any]:
        """Plain TOML-ready data (dates as dates); ``written_only`` leaves out values filled from defaults."""
        data = to_data(self)
        return _prune(data, "", self.given) or {} if written_only else data

    def with_overrides(self, overrides: Mapping[str, Any] | None = None, **sections: Any) -> Scenario:
        """A validated copy with values replaced by dotted path, e.g. ``{"simulation.seed": 7}``.

        Keyword arguments replace whole sections: ``with_overrides(simulation={...})``.
        """
        data = self.to_dict()
        changed = list(sections)
        for path, value in (overrides or {}).items():
            try:
                set_path(data, path, to_data(value))
                changed.append(canonical_path(data, path))
            except (KeyError, ValueError):
                raise ScenarioError(self.file, path, value, "no such field to override") from None
        for name, value in sections.items():
            data[name] = to_data(value)
        new = scenario_from_dict(data, file=self.file)
        # What counts as written: what was written before, and what was overridden now.
        given = {g for g in new.given if g in self.given or any(_covers_given(c, (g,)) for c in changed)}
        object.__setattr__(new, "given", frozenset(given))
        return new

    def with_seed(self, seed: int, replications: int | None = None) -> Scenario:
        """A copy with another root seed (and optionally another number of replications)."""
        overrides = {"simulation.seed": seed}
        if replications is not None:
            overrides["simulation.replications"] = replications
        return self.with_overrides(overrides)

    def with_quality(self, quality: SystemQuality, *, source: str = "measured by a load test") -> Scenario:
        """A copy whose payment-system quality is `quality` (e.g. from a load test), marked as such."""
        return self.with_overrides({
            "payment_system.failure_rate": quality.failure_rate,
            "payment_system.callback_delay_s": {"p50": quality.callback_p50_s, "p95": quality.callback_p95_s},
            "payment_system.unpaid_notice_after_s": quality.unpaid_notice_after_s,
            'provenance."payment_system.failure_rate"': f"derived: {source}",
            'provenance."payment_system.callback_delay_s"': f"derived: {source}",
            'provenance."payment_system.unpaid_notice_after_s"': f"derived: {source}",
        })

    def fee_catalogue_path(self) -> Path:
        """The fee catalogue file, resolved next to the scenario file."""
        base = Path(self.file).parent if self.file not in ("<memory>", "") else SCENARIO_DIR
        return base / self.payment_system.fee_catalogue

    def summary(self) -> str:
        """One paragraph for `motcua scenario check`."""
        units = ", ".join(
            f"{u.name} ({u.observed_share:.2%})" if u.observed_share is not None else u.name for u in self.units
        )
        levers = ", ".join(sorted({i.kind for i in self.interventions})) or "none"
        targets = "; ".join(f"{t.share:.0%} by {t.date}" + (f" ({t.name})" if t.name else "") for t in self.targets)
        sim = self.simulation
        return (
            f"{self.name}: {self.scenario.title}. {len(self.units)} unit(s): {units}. "
            f"{len(self.interventions)} intervention(s): {levers}. Targets: {targets or 'none'}. "
            f"Simulates {sim.start} – {sim.end} ({sim.horizon_days} days), {sim.replications} replication(s), "
            f"seed {sim.seed}. {len(self.payment_system.banks)} bank(s); load profiles: "
            f"{', '.join(self.load.profiles)} (default {self.load.profile})."
        )


def _covers_given(path: str, given: Any) -> bool:
    """Whether `path` is, or contains, one of the `given` leaf paths."""
    return any(g == path or g.startswith((path + ".", path + "[")) for g in given)


def _prune(node: Any, path: str, given: frozenset[str]) -> Any:
    """`node` without the leaves that are not in `given` (None when nothing is left)."""
    if isinstance(node, dict):
        kept = {k: _prune(v, join(path, k), given) for k, v in node.items()}
        kept = {k: v for k, v in kept.items() if v is not None}
        return kept or None
    if isinstance(node, list) and any(isinstance(item, dict) for item in node):
        return [_prune(item, join(path, i), given) or {} for i, item in enumerate(node)]
    return node if _covers_given(path, given) else None


def _parent_path(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    cut = max(path.rfind("."), 0)
    return path[:cut]


def _check_unit_refs(refs: tuple[str, ...], unit_ids: set[str], field: str) -> None:
    if not refs:
        raise FieldProblem(field, [], "name at least one unit id, or ['*'] for all")
    for j, ref in enumerate(refs):
        if ref != ALL_UNITS and ref not in unit_ids:
            raise FieldProblem(f"{field}[{j}]", ref, f"no such unit; units: {', '.join(sorted(unit_ids))} or '*'")


def _check_source(ref: str, source_ids: set[str], field: str) -> None:
    if ref not in source_ids:
        known = ", ".join(sorted(source_ids)) or "(none: add [[scenario.sources]])"
        raise FieldProblem(field, ref, f"cites source {ref!r}, which is not in scenario.sources; known: {known}")


# --- loading -------------------------------------------------------------------------------------


SCENARIO_FILE = ConfigFile(Scenario, "scenario file", error=ScenarioError)
"""The scenario as a configuration file kind of `motcua.typed_config` (`load_scenario` adds the bundled names)."""


def scenario_from_dict(data: Mapping[str, Any], *, file: str = "<memory>") -> Scenario:
    """Validate plain data (as read from TOML) into a `Scenario`; errors name `file` and the field path."""
    reader = SCENARIO_FILE.reader(str(file))
    scenario = reader.read(Scenario, data)
    object.__setattr__(scenario, "file", str(file))
    object.__setattr__(scenario, "given", frozenset(reader.given))
    return scenario


def scenario_file(path: str | Path) -> Path:
    """The file a scenario argument names: a path, or a bare name (``lang-son-2024``) of a bundled scenario."""
    path = Path(path)
    if not path.exists() and path.suffix == "" and (SCENARIO_DIR / f"{path}.toml").exists():
        return SCENARIO_DIR / f"{path}.toml"
    return path


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. A bare name (``lang-son-2024``) means a bundled scenario."""
    path = scenario_file(path)
    hint = "bundled scenarios: " + ", ".join(p.stem for p in bundled_scenarios())
    data = dataclasses.replace(SCENARIO_FILE, hint=hint).read(path)
    return scenario_from_dict(data, file=str(path))


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped in ``scenarios/`` (not the fee catalogue or load-only files)."""
    return sorted(p for p in SCENARIO_DIR.glob("*.toml") if _looks_like_scenario(p))


def _looks_like_scenario(path: Path) -> bool:
    try:
        return "scenario" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return True  # let load_scenario report it


def json_schema() -> dict:
    """The JSON Schema of scenario files, generated from the dataclasses above (for editors and checks)."""
    schema = _json_schema(Scenario, title="motcua scenario", schema_id="https://motcua.invalid/scenario.schema.json")
    schema["description"] = (
        "A motcua scenario (TOML). Cross-field rules that JSON Schema cannot express — mixes sum to 1, "
        "referenced unit and source ids exist, periods end after they start, dates are real dates — "
        "are checked by `motcua scenario check`."
    )
    return schema
