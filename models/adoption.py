"""Adoption of online fee payment: a province's citizens as NumPy arrays, advanced one day at a time by SimPy.

*Scenario.* In a district of Lạng Sơn most people still pay their dossier (hồ sơ) fees in cash at the
one-stop-shop counter. A citizen first hears of paying online — from a campaign, a neighbour, a community
digital team — then needs the means: a smartphone or a help point, a usable connection and, since
15 June 2024, a level-2 VNeID identity. Whether and when an able citizen tries depends on that day's
outreach effort and on how many people in the citizen's own commune already pay online (Generalized Bass);
low digital skill, a cash habit and not bothering with a small fee slow it down. Good payments build a habit.
A failed payment, or a fee that the dossier system still shows as unpaid because the bank's callback came
later than the citizen's patience (``unpaid_notice_after_s``), can make the citizen give up for a while.

*Covers.* States and their transitions (`State`)::

    UNAWARE ──awareness──▶ NEEDS_DEVICE ──help──▶ NEEDS_IDENTITY ──VNeID──▶ ABLE ──Bass──▶ TRIED ──uses──▶ HABITUAL
       └──────────────────────┴──── Bass (outreach carries them all the way) ───────────▶ TRIED
    TRIED, HABITUAL ──bad experience──▶ LAPSED ──return_after_lapse──▶ TRIED
    ABLE … LAPSED without a level-2 VNeID ──15 June 2024──▶ NEEDS_IDENTITY (adopters come back as TRIED)
    (a citizen who already has what a stage needs skips it)

Each hazard is a rate per year that is constant within a day; a citizen's chance to move during a day is
the exact 1 − exp(−h·Δt). The try is the Generalized Bass hazard, h = (p + q·A_c/m)·x_u(t)·r, with A_c the share
of current adopters (TRIED + HABITUAL) in the citizen's commune, m the potential share and x_u(t) =
base_effort + effort_weight · (intensities of the outreach interventions — information campaigns, community
digital teams, post-office help points — active in unit u that day). r is the citizen's *relative* risk: its
stage (unaware, without a device, without VNeID, able) times its barriers (no digital skill, cash habit, small-fee
indifference), normalised each day to a mean of 1 over the non-adopters that a world without levers would have
(a small deterministic shadow of the mix). So p and q are population-level coefficients, as calibration fits
them to observed shares (reached with the barriers in place): with no lever the model follows the Generalized
Bass mean field; barriers decide *who* adopts; what moves the mix away from the shadow is a lever's effect, and
the levers act where they should, with the strengths of `BehaviourParameters` (the scenario's
``[adoption.behaviour]`` table, every value an assumption): help points and teams close the device and
connectivity gap and lower the skill barrier (teams also close the identity gap), VNeID drives close the identity
gap, QR at the counter and an online-fee reduction lower the cash and small-fee barriers, refusing in-person
filing of fully-online services pushes dossiers online, and counter guidance (fed by the counter model through
`add_guided`) turns guided citizens into payers on the spot. With barriers off
(`barriers=False`) every citizen is able with r = 1 and the model is the Generalized Bass model itself.

*How it is computed.* One agent stands for ``population / agents_per_unit`` people; agents are grouped by
unit, and by commune within a unit (contiguous index ranges). Per agent there are a few small arrays:
state and traits (uint8), a table key (intp) and an exponential threshold (float64). The key points into a
table of cumulative hazard by (commune, state, barrier combination). An agent moves when the cumulative
hazard of its key passes its threshold — a threshold drawn from Exp(1) when it entered the state. By the
memoryless property this is the same law as a daily Bernoulli draw with probability 1 − exp(−h·Δt), but the
daily pass over all agents is one gather and one comparison, with random numbers drawn only for the few
agents that move (competing hazards — the Bass try or the next stage — are told apart by their share of the
day's total rate). The imitation share in a day's hazard is the commune's share at mid-day, predicted from
the day's expected flux (a midpoint rule), which keeps the discretisation error far below the sampling noise
(see `models.bass_check.validate_bass`).

The share of fee-bearing dossiers paid online (``share_today``) is the expected share: every citizen of a
unit is equally likely to file a dossier (assumption), so it is the mean over agents of the probability that
the agent pays a dossier online today. Dossiers are also drawn (Poisson, at the unit's per-person rate) so
that payers meet the payment system: failures and "unpaid" notices are counted and can cause lapses.

*One concept.* This module is longer than the others (~750 lines) because it is the one agent model: its setup,
its day (the hazard tables, the levers, the moves) and the aggregates of its records belong together. The closed
forms it is checked against live in `models.theory`, the check itself in `models.bass_check`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Generator, Sequence
from enum import IntEnum
from typing import Any, get_args

import numpy as np
from motcua.models.theory import DAYS_PER_YEAR

from motcua.errors import InputError
from motcua.scenario import (
    OUTREACH_KINDS,
    AdoptionParams,
    BehaviourParameters,
    Citizens,
    Intervention,
    InterventionKind,
    Scenario,
    SystemQuality,
    Unit,
)
from motcua.typed_config import validate

MINUTES_PER_DAY = 1440
Z95 = 1.6448536269514722
"""The standard normal 95th percentile: σ of a lognormal = ln(p95/p50) / Z95."""


class State(IntEnum):
    """Where a citizen stands with online payment (one uint8 per agent)."""

    UNAWARE = 0
    NEEDS_DEVICE = 1
    """Aware, but lacks a smartphone or a usable connection (and has no help point yet)."""
    NEEDS_IDENTITY = 2
    """Aware, has the means, but lacks the level-2 VNeID identity required since 15 June 2024."""
    ABLE = 3
    TRIED = 4
    HABITUAL = 5
    LAPSED = 6
    """Gave up after a bad experience (failed payment, or told "unpaid" after paying)."""


N_STATES = len(State)
STATE_NAMES = tuple(s.name.lower() for s in State)
STAGES = ("unaware", "aware", "able", "tried", "habitual", "lapsed")
"""The stages of the issue; `counts_by_stage` merges NEEDS_DEVICE and NEEDS_IDENTITY into "aware"."""
_ADOPTER_STATES = (State.TRIED, State.HABITUAL)

# Barrier combination bits (fixed per agent): part of the hazard-table key.
RURAL, MINORITY, UNSKILLED, CASH_PREFERENCE, SMALL_FEE, OUTSIDE_POTENTIAL = (1 << i for i in range(6))
N_COMBOS = 64
# Mutable means bits (per agent).
HAS_DEVICE, HAS_LINK, HAS_VNEID2, FORMER_ADOPTER = 1, 2, 4, 8
_MEANS = HAS_DEVICE | HAS_LINK

INTERVENTION_KINDS = get_args(InterventionKind)
"""Every intervention kind of the scenario schema."""


def _bad(name: str, value: object, problem: str) -> None:
    raise InputError(f'adoption parameter "{name}" = {value!r} {problem}')


PERFECT_QUALITY = SystemQuality(failure_rate=0.0, callback_p50_s=0.0, callback_p95_s=0.0,
                                unpaid_notice_after_s=math.inf)
"""A payment system that never fails and confirms at once (used with barriers off)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdoptionSetup:
    """Everything the adoption model reads: a slice of a `Scenario`, or built directly
    (`models.bass_check.bass_setup`)."""

    start: dt.date
    horizon_days: int
    units: tuple[Unit, ...]
    citizens: Citizens
    adoption: AdoptionParams
    interventions: tuple[Intervention, ...] = ()
    quality: SystemQuality = PERFECT_QUALITY
    base_effort: float = 1.0
    """Effort x(t) with no outreach intervention active."""

    @classmethod
    def from_scenario(cls, scenario: Scenario, quality: SystemQuality | None = None) -> AdoptionSetup:
        return cls(start=scenario.simulation.start, horizon_days=scenario.simulation.horizon_days,
                   units=scenario.units, citizens=scenario.citizens, adoption=scenario.adoption,
                   interventions=scenario.interventions, quality=quality or scenario.quality)

    def check(self) -> None:
        """Raise `InputError` naming the first bad parameter (values built in code, not read from a scenario file).

        ``adoption`` (with its ``behaviour``) and ``citizens`` are checked against the scenario schema's own
        declarations (`motcua.typed_config.validate`), so their bounds are written once, in `motcua/scenario.py`.
        """
        validate(self.adoption, file="AdoptionModel", path="adoption")
        validate(self.citizens, file="AdoptionModel", path="citizens")
        if self.horizon_days < 1:
            _bad("horizon_days", self.horizon_days, "must be >= 1")
        if not self.base_effort > 0:
            _bad("effort", self.base_effort, "must be > 0 (effort x(t), 1 = ordinary outreach)")
        if not self.units:
            _bad("units", self.units, "needs at least one unit")
        for unit in self.units:
            if unit.population < 1:
                _bad(f"units[{unit.id}].population", unit.population, "must be >= 1")
            if not 0 <= unit.start_share <= 1:
                _bad(f"units[{unit.id}].initial_share", unit.start_share, "is a share within [0, 1]")
        for item in self.interventions:
            if item.kind not in INTERVENTION_KINDS:
                _bad("interventions.kind", item.kind, f"is not one of {', '.join(INTERVENTION_KINDS)}")


class _Schedule:
    """Per day and unit: the summed intensity (and capacity) of each intervention kind in effect."""

    def __init__(self, setup: AdoptionSetup) -> None:
        days, n_units = setup.horizon_days, len(setup.units)
        self.intensity = {k: np.zeros((days, n_units)) for k in INTERVENTION_KINDS}
        self.capacity = {k: np.zeros((days, n_units)) for k in INTERVENTION_KINDS}
        """People per day per unit the lever can help (interventions that give capacity_per_day)."""
        self.uncapped = {k: np.zeros((days, n_units)) for k in INTERVENTION_KINDS}
        """Intensity of the interventions without a capacity (they act through a rate instead)."""
        for item in setup.interventions:
            first = max((item.start - setup.start).days, 0)
            end = min((item.end - setup.start).days + 1, days)
            if end <= first:
                continue
            cols = [i for i, u in enumerate(setup.units) if item.covers(u.id)]
            self.intensity[item.kind][first:end, cols] += item.intensity
            if item.capacity_per_day is not None:
                self.capacity[item.kind][first:end, cols] += item.capacity_per_day * item.intensity
            else:
                self.uncapped[item.kind][first:end, cols] += item.intensity
        outreach = sum(self.intensity[k] for k in OUTREACH_KINDS)
        self.effort: np.ndarray = np.asarray(setup.base_effort + setup.adoption.effort_weight * outreach)
        """(days, units) effort x(t) of the Generalized Bass hazard."""


def effort_by_day(scenario: Scenario | AdoptionSetup) -> np.ndarray:
    """(days, units) outreach effort x(t) the model uses — what `models.theory.mean_field_share` takes as `effort`."""
    setup = scenario if isinstance(scenario, AdoptionSetup) else AdoptionSetup.from_scenario(scenario)
    return _Schedule(setup).effort


class AdoptionModel:
    """The citizens of a scenario's units, advanced one day at a time by the SimPy process `run`.

    ``AdoptionModel(env, scenario, rng)`` draws the citizens and their first-day states; ``env.process(model.run())``
    then advances them at 00:00 of each day. Counters read `share_today`; they hand guided citizens back through
    `add_guided`. All randomness comes from `rng`, so the same seed gives identical arrays.
    """

    def __init__(self, env: Any, scenario: Scenario | AdoptionSetup, rng: np.random.Generator, *,
                 quality: SystemQuality | None = None, behaviour: BehaviourParameters | None = None,
                 barriers: bool = True, guidance_from_interventions: bool = False) -> None:
        setup = scenario if isinstance(scenario, AdoptionSetup) else AdoptionSetup.from_scenario(scenario, quality)
        if quality is not None:
            setup = dataclasses.replace(setup, quality=quality)
        setup.check()
        if behaviour is not None:
            validate(behaviour, file="AdoptionModel", path="adoption.behaviour")
        self.behaviour = behaviour if behaviour is not None else setup.adoption.behaviour
        """`BehaviourParameters`: the scenario's ``[adoption.behaviour]`` unless ``behaviour=`` was passed."""
        self.env, self.setup, self.rng = env, setup, rng
        self.barriers = barriers
        """False: every citizen able and aware, no barrier, no counter conversion, a perfect payment system."""
        self.guidance_from_interventions = guidance_from_interventions
        """True when no counter model runs: counter_guidance capacity is turned into guided citizens here."""
        self.quality = setup.quality if barriers else PERFECT_QUALITY
        self.days = setup.horizon_days
        self.unit_ids = tuple(u.id for u in setup.units)
        self._schedule = _Schedule(setup)
        self.effort = self._schedule.effort
        """(days, units) Generalized Bass effort x(t)."""
        self._layout()
        self.day = 0
        """The next day `step` will simulate."""
        self._draw_citizens()
        self.daily_share = np.zeros((self.days, self.n_units))
        """(days, units) share of fee-bearing dossiers paid online, recorded at the start of each day."""
        self.state_counts = np.zeros((self.days, self.n_units, N_STATES), dtype=np.int32)
        """(days, units, states) agents in each `State` at the start of each day."""
        counters = ("dossiers", "online_payments", "failed_payments", "told_unpaid", "lapses_failed",
                    "lapses_unpaid", "guided")
        self.events = {name: np.zeros((self.days, self.n_units), dtype=np.int32) for name in counters}
        """Per day and unit, in agents (scale with `citizens`): dossiers filed, online payments, failed payments,
        payers told "unpaid", lapses caused by a failure and by an "unpaid" notice, citizens guided at counters."""
        self.share_today = self.current_share()
        """(units,) the share of today's fee-bearing dossiers paid online, as the counters see it."""

    # --- layout and first day ---

    def _layout(self) -> None:
        units, b = self.setup.units, self.behaviour
        self.n_units = len(units)
        self.agents = np.array([min(b.agents_per_unit, u.population) for u in units], dtype=np.int64)
        """(units,) agents simulated per unit."""
        for unit, n in zip(units, self.agents, strict=True):
            if unit.communes > n:
                _bad(f"units[{unit.id}].communes", unit.communes,
                     f"exceeds the {n} agents of the unit; raise agents_per_unit or lower communes")
        self.people_per_agent = np.array([u.population for u in units]) / self.agents
        """(units,) citizens each agent stands for."""
        self.unit_start = np.concatenate([[0], np.cumsum(self.agents)])
        commune_sizes = [np.diff(np.linspace(0, n, u.communes + 1).round().astype(np.int64))
                         for u, n in zip(units, self.agents, strict=True)]
        self.commune_size = np.concatenate(commune_sizes)
        self.commune_unit = np.concatenate([np.full(u.communes, i) for i, u in enumerate(units)])
        self.unit_first_commune = np.concatenate([[0], np.cumsum([u.communes for u in units])])[:-1]
        self.n_agents = int(self.unit_start[-1])
        self.n_communes = len(self.commune_size)
        self._commune_of_agent = np.repeat(np.arange(self.n_communes), self.commune_size)
        self._unit_of_agent = np.repeat(np.arange(self.n_units), self.agents)
        rate = np.array([u.fee_dossiers_per_year / u.population for u in units])
        self._dossiers_per_agent_day = rate / DAYS_PER_YEAR

    def _draw_citizens(self) -> None:
        """Draw traits per agent, the first-day states, the initial adopters and their thresholds."""
        n, c, rng = self.n_agents, self.setup.citizens, self.rng
        potential = self.setup.adoption.potential_share
        combo = np.where(rng.random(n) >= potential, OUTSIDE_POTENTIAL, 0).astype(np.uint8)
        means = np.full(n, _MEANS | HAS_VNEID2, dtype=np.uint8)
        aware = np.ones(n, dtype=bool)
        if self.barriers:
            for bit, share in ((RURAL, c.rural), (MINORITY, c.ethnic_minority), (UNSKILLED, 1 - c.digital_skill),
                               (CASH_PREFERENCE, c.cash_preference), (SMALL_FEE, c.small_fee_sensitivity)):
                combo |= np.where(rng.random(n) < share, bit, 0).astype(np.uint8)
            means[:] = 0
            for bit, share in ((HAS_DEVICE, c.smartphone), (HAS_LINK, c.good_connectivity),
                               (HAS_VNEID2, c.vneid_level2)):
                means |= np.where(rng.random(n) < share, bit, 0).astype(np.uint8)
            aware = rng.random(n) < self.behaviour.initial_awareness
        self.combo, self.means = combo, means
        self.uses = np.zeros(n, dtype=np.uint8)
        self.state = np.zeros(n, dtype=np.uint8)
        self._identity_checked = self._identity_required(0)  # the first day's states already follow the rule
        self._tables(None)  # the observed share was reached without this scenario's levers
        self.state[aware] = self._ability_state(np.flatnonzero(aware))
        self._seed_adopters()
        self._key = ((self._commune_of_agent * N_STATES + self.state) * N_COMBOS + self.combo).astype(np.intp)
        self._counts = np.bincount(self._key, minlength=self.n_communes * N_STATES * N_COMBOS).astype(np.int64)
        """Agents per (commune, state, combo), flat; kept up to date by `_move`."""
        self._by_unit = np.add.reduceat(self._counts.reshape(self.n_communes, N_STATES, N_COMBOS),
                                        self.unit_first_commune, axis=0).reshape(-1)
        """Agents per (unit, state, combo), flat; kept up to date by `_move`."""
        self._cum = np.zeros(self.n_communes * N_STATES * N_COMBOS)
        self._rate = np.zeros((self.n_communes, N_STATES, N_COMBOS))
        self._by_commune = np.empty((self.n_communes, int(State.TRIED), N_COMBOS))
        self._scratch = np.empty_like(self._by_commune)
        """Buffers of `_rates` (the day's relative risks by commune, and the chance of a try), reused daily."""
        self._trial_base = self._trial.copy()  # the tables of no lever, as for the first-day adopters
        self._shadow = self._unit_counts()[:, :State.TRIED].astype(float)
        """(units, states before a try, combos) the expected non-adopters of a world without levers."""
        self._normalise()
        self._tables(0)
        self._threshold = rng.standard_exponential(n)
        self._buffer = np.empty(n)
        self._mask = np.empty(n, dtype=bool)

    def _seed_adopters(self) -> None:
        """Make the first day's adopters so that each unit starts at its `start_share` (expected).

        Assumption: those who already pay online are first the able citizens with a level-2 VNeID, then the
        other able ones, then anyone; they are given the means (phone, link, VNeID) they evidently have.
        """
        rng, b = self.rng, self.behaviour
        for u, unit in enumerate(self.setup.units):
            lo, hi = self.unit_start[u], self.unit_start[u + 1]
            state, combo = self.state[lo:hi], self.combo[lo:hi]
            inside = (combo & OUTSIDE_POTENTIAL) == 0
            rank = rng.random(hi - lo) + 2.0 * (state != State.ABLE) + 1.0 * ((self.means[lo:hi] & HAS_VNEID2) == 0)
            order = np.flatnonzero(inside)[np.argsort(rank[inside], kind="stable")]
            habitual = rng.random(len(order)) < b.initial_habitual_share
            p_online = np.where(habitual, self._p_online[u, State.HABITUAL, combo[order]],
                                self._p_online[u, State.TRIED, combo[order]])
            count = int(np.searchsorted(np.cumsum(p_online), unit.start_share * (hi - lo)))
            chosen = order[:count] + lo
            self.state[chosen] = np.where(habitual[:count], State.HABITUAL, State.TRIED)
            self.uses[chosen] = np.where(habitual[:count], self.setup.adoption.habit_after_uses, 1)
            self.means[chosen] |= _MEANS | HAS_VNEID2

    # --- the daily process ---

    def run(self) -> Generator[Any, Any, None]:
        """SimPy process: at 00:00 of each simulated day, record the day's share and advance the citizens."""
        while self.day < self.days:
            self.step()
            yield self.env.timeout(MINUTES_PER_DAY)

    def step(self) -> None:
        """One day: record the morning's share, the day's dossiers and payments, then the day's hazards."""
        day = self.day
        if day >= self.days:
            raise InputError(f"day {day} is past horizon_days = {self.days}; the run is over")
        self._tables(day)
        if self._identity_required(day) and not self._identity_checked:
            self._require_identity()
        self.share_today = self.current_share()
        self.daily_share[day] = self.share_today
        self.state_counts[day] = self.counts_by_unit()
        self._file_dossiers(day)
        if self.guidance_from_interventions and (self.setup.start + dt.timedelta(days=day)).isoweekday() <= 5:
            for u in np.flatnonzero(self._schedule.capacity["counter_guidance"][day]):
                self.add_guided(int(u), float(self._schedule.capacity["counter_guidance"][day, u]))
        self._advance_hazards(day)
        self._advance_shadow(day)
        self.day = day + 1

    def _identity_required(self, day: int) -> bool:
        return self.barriers and day >= self._identity_first_day

    @property
    def _identity_first_day(self) -> int:
        """The first simulated day on which a level-2 VNeID is required (negative when before the start)."""
        first = self.__dict__.get("_identity_day")
        if first is None:
            first = self.__dict__["_identity_day"] = (self.behaviour.vneid_required_from - self.setup.start).days
        return first

    def _require_identity(self) -> None:
        """15 June 2024: citizens without a level-2 VNeID can no longer pay online until they enrol."""
        self._identity_checked = True
        able = np.isin(self.state, (State.ABLE, State.TRIED, State.HABITUAL, State.LAPSED))
        idx = np.flatnonzero(able & ((self.means & HAS_VNEID2) == 0))
        adopters = np.isin(self.state[idx], _ADOPTER_STATES)
        self.means[idx[adopters]] |= FORMER_ADOPTER
        self._move(idx, np.full(len(idx), State.NEEDS_IDENTITY, dtype=np.uint8))

    # --- per-day tables (small: units × states × combos) ---

    def _tables(self, day: int | None) -> None:
        """The day's trial factors and online-payment probabilities by unit, state and barrier combination.

        ``day=None``: with no intervention in effect (the situation the observed share describes). The tables
        depend on the day only through its intensities: a day with the same ones as the last reuses them.
        """
        b, sched = self.behaviour, self._schedule
        key = None if day is None else b"".join(sched.intensity[k][day].tobytes() for k in INTERVENTION_KINDS)
        if key is not None and key == getattr(self, "_tables_key", None):
            return
        self._tables_key = key
        combos = np.arange(N_COMBOS)
        has = {bit: (combos & bit) != 0 for bit in (RURAL, MINORITY, UNSKILLED, CASH_PREFERENCE, SMALL_FEE,
                                                     OUTSIDE_POTENTIAL)}

        def lift(base: float, amount: np.ndarray) -> np.ndarray:  # (units,) factor moved towards 1
            return base + (1 - base) * np.minimum(1.0, amount)

        none = np.zeros(self.n_units)
        i = {k: none if day is None else sched.intensity[k][day] for k in INTERVENTION_KINDS}
        unskilled = lift(b.unskilled_factor, b.skill_lift * (i["community_digital_team"] + i["post_office_help"]))
        cash = lift(b.cash_factor, b.qr_lift * i["qr_at_counter"])
        small = lift(b.small_fee_factor, b.fee_reduction_lift * i["online_fee_reduction"])
        trial = np.ones((self.n_units, N_COMBOS))
        trial *= np.where(has[UNSKILLED], unskilled[:, None], 1.0)
        trial *= np.where(has[CASH_PREFERENCE], cash[:, None], 1.0)
        trial *= np.where(has[SMALL_FEE], small[:, None], 1.0)
        trial[:, has[OUTSIDE_POTENTIAL]] = 0.0
        self._trial = trial
        """(units, combos) relative Bass hazard by barrier combination, with the day's levers."""
        self._reach = np.where(has[RURAL], b.reach_rural, 1.0) * np.where(has[MINORITY], b.reach_minority, 1.0)

        p = np.zeros((self.n_units, N_STATES, N_COMBOS))
        tried = np.ones((self.n_units, N_COMBOS))
        tried *= np.where(has[CASH_PREFERENCE], lift(b.tried_cash_online, b.qr_lift * i["qr_at_counter"])[:, None], 1)
        tried *= np.where(has[SMALL_FEE],
                          lift(b.tried_small_fee_online, b.fee_reduction_lift * i["online_fee_reduction"])[:, None], 1)
        push = np.zeros(self.n_units)
        qr = np.zeros(self.n_units)
        if self.barriers:
            push = np.minimum(1.0, i["refuse_in_person_filing"]) * b.fully_online_dossier_share
            qr = b.qr_counter_uptake * np.minimum(1.0, i["qr_at_counter"])
        p[:, State.TRIED] = tried + (1 - tried) * push[:, None]
        p[:, State.HABITUAL] = 1.0
        p[:, State.ABLE] = (1 - (1 - qr) * (1 - push))[:, None]
        p[:, :, has[OUTSIDE_POTENTIAL]] = 0.0
        self._p_online = p
        self._push = push

    def _stage_factors(self) -> np.ndarray:
        """(states,) relative Bass hazard of each state before the first try (0 for adopters and the lapsed)."""
        b, stage = self.behaviour, np.zeros(N_STATES)
        stage[State.UNAWARE], stage[State.NEEDS_DEVICE] = b.unaware_factor, b.needs_device_factor
        stage[State.NEEDS_IDENTITY], stage[State.ABLE] = b.needs_identity_factor, 1.0
        return stage

    def _normalise(self) -> None:
        """Scale each unit's relative Bass hazards to a mean of 1 over the non-adopters of a world without levers.

        p and q are population-level coefficients — what calibration fits to observed shares, which were reached
        with the barriers in place and with the citizens' ordinary progress (hearing of it, buying a phone,
        enrolling for VNeID). So the relative risks are normalised against `_shadow`, the expected mix of
        non-adopters in a world with the scenario's outreach effort but no other lever and no new rule: with no
        lever the unit's expected flux of new adopters is the Generalized Bass flux (p + q·A/m)·x·(non-adopters)
        day after day, and barriers decide *who* adopts. What moves the real mix away from the shadow — help
        points, teams and VNeID drives closing gaps, QR and fee reductions lifting barriers, the VNeID rule of
        15 June 2024 if it falls within the run — changes the flux: that is the lever's (or the rule's) effect.
        """
        base = self._stage_factors()[None, :State.TRIED, None] * self._trial_base[:, None, :]
        relative = (self._shadow * base).sum((1, 2))
        inside = (np.arange(N_COMBOS) & OUTSIDE_POTENTIAL) == 0
        pending = self._shadow[:, :, inside].sum((1, 2))
        self._kappa = np.where(relative > 0, pending / np.where(relative > 0, relative, 1), 1.0)
        """(units,) normalising factor of the relative Bass hazards, renewed each day."""

    def _advance_shadow(self, day: int) -> None:
        """One day of the lever-free world's non-adopters (expected values): Bass tries, awareness, own progress."""
        if not self.barriers:
            return  # everyone is able: the relative risks are 1
        a, b, c = self.setup.adoption, self.behaviour, self.setup.citizens
        dt_year, shadow = 1.0 / DAYS_PER_YEAR, self._shadow
        unit_counts = self.counts_by_unit()
        adopters = (unit_counts[:, State.TRIED] + unit_counts[:, State.HABITUAL]) / (self.agents * a.potential_share)
        x = self.effort[day]
        base = self._stage_factors()[None, :State.TRIED, None] * self._trial_base[:, None, :]
        base *= self._kappa[:, None, None]
        shadow *= np.exp(-((a.p_per_year + a.q_per_year * adopters) * x * dt_year)[:, None, None] * base)
        no_means = 1 - c.smartphone * c.good_connectivity
        no_identity = (1 - c.vneid_level2) if self._identity_required(0) else 0.0
        aware = (b.awareness_per_year * x + b.awareness_imitation_per_year * adopters) * dt_year
        moved = shadow[:, State.UNAWARE] * -np.expm1(-aware[:, None] * self._reach)
        shadow[:, State.UNAWARE] -= moved
        shadow[:, State.NEEDS_DEVICE] += moved * no_means
        shadow[:, State.NEEDS_IDENTITY] += moved * (1 - no_means) * no_identity
        shadow[:, State.ABLE] += moved * (1 - no_means) * (1 - no_identity)
        equipped = shadow[:, State.NEEDS_DEVICE] * -math.expm1(-b.device_per_year * dt_year)
        shadow[:, State.NEEDS_DEVICE] -= equipped
        shadow[:, State.NEEDS_IDENTITY] += equipped * no_identity
        shadow[:, State.ABLE] += equipped * (1 - no_identity)
        enrolled = shadow[:, State.NEEDS_IDENTITY] * -math.expm1(-b.vneid_per_year * dt_year)
        shadow[:, State.NEEDS_IDENTITY] -= enrolled
        shadow[:, State.ABLE] += enrolled
        self._normalise()

    def _relative_risk(self) -> np.ndarray:
        """(units, states before a try, combos): the relative Bass hazard, normalised, with today's levers."""
        return self._kappa[:, None, None] * self._stage_factors()[None, :State.TRIED, None] * self._trial[:, None, :]

    def _unit_counts(self) -> np.ndarray:
        """(units, states, combos) agents now."""
        return self._by_unit.reshape(self.n_units, N_STATES, N_COMBOS)

    def _rates(self, day: int) -> np.ndarray:
        """The day's hazards per (commune, state, combo), per day, with the midpoint imitation share.

        Also keeps the day's Bass coefficient per commune (`_coef`, per day) and relative risks (`_relative`), from
        which `_advance_hazards` tells a Bass try from a step to the next stage.
        """
        a, b, sched = self.setup.adoption, self.behaviour, self._schedule
        pre = int(State.TRIED)                                          # the states before a first try
        counts = self._counts.reshape(self.n_communes, N_STATES, N_COMBOS)
        cu = self.commune_unit
        x = self.effort[day][cu]                                       # (communes,)
        dt_year = 1.0 / DAYS_PER_YEAR
        adopters = counts[:, State.TRIED:State.HABITUAL + 1].sum((1, 2))  # integers: any order of sums is exact
        scale = 1.0 / (self.commune_size * a.potential_share)
        share = np.minimum(adopters * scale, 1.0)
        self._relative = self._relative_risk()
        relative = np.take(self._relative, cu, axis=0, out=self._by_commune)  # (communes, pre, combos)

        # midpoint rule: the imitation share half-way through the day, from the day's expected flux
        coef = (a.p_per_year + a.q_per_year * share) * x * dt_year
        tries = np.multiply(-coef[:, None, None], relative, out=self._scratch)  # = -expm1(-coef·relative), in place
        np.negative(np.expm1(tries, out=tries), out=tries)
        flux = np.einsum("csk,csk->c", counts[:, :pre], tries)
        flux += counts[:, State.LAPSED].sum(1) * -math.expm1(-a.return_after_lapse_per_year * dt_year)
        mid = np.minimum(share + 0.5 * flux * scale, 1.0)
        self._coef = (a.p_per_year + a.q_per_year * mid) * x * dt_year

        rate = self._rate
        np.multiply(self._coef[:, None, None], relative, out=rate[:, :pre])
        aware = (b.awareness_per_year * x + b.awareness_imitation_per_year * mid) * dt_year
        rate[:, State.UNAWARE] += aware[:, None] * self._reach
        unit_counts = self.counts_by_unit()
        needing = {s: unit_counts[:, s] * self.people_per_agent for s in (State.NEEDS_DEVICE, State.NEEDS_IDENTITY)}

        def per_capita(kind: str, people: np.ndarray, per_year: float) -> np.ndarray:
            """Help per person per year: capacity shared among those who need it, or a rate per intensity."""
            positive = people > 0
            shared = np.divide(sched.capacity[kind][day] * DAYS_PER_YEAR, people, out=np.zeros(len(people)),
                               where=positive)  # = where(people > 0, capacity·365.25 / people, 0), no warnings
            return shared + per_year * sched.uncapped[kind][day]

        team = per_capita("community_digital_team", needing[State.NEEDS_DEVICE] + needing[State.NEEDS_IDENTITY],
                          b.team_per_year)
        device = b.device_per_year + team + per_capita("post_office_help", needing[State.NEEDS_DEVICE],
                                                       b.help_point_per_year)
        identity = b.vneid_per_year + team + per_capita("vneid_drive", needing[State.NEEDS_IDENTITY],
                                                        b.vneid_drive_per_year)
        rate[:, State.NEEDS_DEVICE] += (device * dt_year)[cu][:, None]
        rate[:, State.NEEDS_IDENTITY] += (identity * dt_year)[cu][:, None]
        rate[:, State.LAPSED] = a.return_after_lapse_per_year * dt_year
        return rate.reshape(-1)

    def _advance_hazards(self, day: int) -> None:
        """The core per-agent pass: who passes its threshold of cumulative hazard today, and where it goes.

        Before the first try a citizen faces two competing hazards: the Bass one (→ TRIED) and the next stage
        (aware, equipped, identified). Both are constant within the day, so the one that fired is the Bass one
        with probability bass/total for the citizen's key.
        """
        rate = self._rates(day)
        self._cum += rate
        np.take(self._cum, self._key, out=self._buffer, mode="clip")  # keys are valid: clip skips a buffered copy
        np.greater(self._buffer, self._threshold, out=self._mask)
        idx = np.flatnonzero(self._mask)
        if len(idx) == 0:
            return
        key, state = self._key[idx], self.state[idx]
        before = state < State.TRIED
        commune = key // (N_STATES * N_COMBOS)
        bass = np.zeros(len(idx))
        bass[before] = (self._coef[commune[before]]
                        * self._relative[self.commune_unit[commune[before]], state[before], key[before] % N_COMBOS])
        total = rate[key]
        bass_share = np.divide(bass, total, out=np.zeros(len(idx)), where=total > 0)  # 0 where nothing can happen
        tried = (self.rng.random(len(idx)) < bass_share) | (state == State.LAPSED)
        new = state.copy()
        step = ~tried & before
        self.means[idx[step & (state == State.NEEDS_DEVICE)]] |= _MEANS
        self.means[idx[step & (state == State.NEEDS_IDENTITY)]] |= HAS_VNEID2
        new[step] = self._ability_state(idx[step])
        # a try from an earlier stage means outreach carried the citizen through every step at once
        self.means[idx[tried]] |= _MEANS | HAS_VNEID2
        new[tried] = State.TRIED
        self._move(idx, new)

    def _ability_state(self, idx: np.ndarray) -> np.ndarray:
        """The state of aware citizens `idx` given their means: the first gap, else ABLE (TRIED if they were)."""
        means = self.means[idx]
        no_identity = (means & HAS_VNEID2) == 0 if self._identity_required(self.day) else np.zeros(len(idx), bool)
        former = (means & FORMER_ADOPTER) != 0
        state = np.where((means & _MEANS) != _MEANS, State.NEEDS_DEVICE,
                         np.where(no_identity, State.NEEDS_IDENTITY,
                                  np.where(former, State.TRIED, State.ABLE))).astype(np.uint8)
        back = idx[state == State.TRIED]
        self.means[back] &= ~np.uint8(FORMER_ADOPTER)
        return state

    def _move(self, idx: np.ndarray, new: np.ndarray) -> None:
        """Move distinct agents `idx` to states `new`: keys, counts and fresh Exp(1) thresholds."""
        if len(idx) == 0:
            return
        old_key = self._key[idx]
        new_key = old_key + (new.astype(np.intp) - self.state[idx]) * N_COMBOS
        np.subtract.at(self._counts, old_key, 1)
        np.add.at(self._counts, new_key, 1)
        per_commune = N_STATES * N_COMBOS  # the same key within a unit's table: commune → unit
        offset = (self.commune_unit[old_key // per_commune] - old_key // per_commune) * per_commune
        np.subtract.at(self._by_unit, old_key + offset, 1)
        np.add.at(self._by_unit, new_key + offset, 1)
        self.state[idx] = new
        self._key[idx] = new_key
        self._threshold[idx] = self._cum[new_key] + self.rng.standard_exponential(len(idx))

    # --- dossiers, payments, guidance ---

    def _file_dossiers(self, day: int) -> None:
        """Today's fee-bearing dossiers: who files, who pays online, and what the payment system does to them."""
        rng = self.rng
        filed = rng.poisson(self.agents * self._dossiers_per_agent_day)
        if filed.sum() == 0:
            return
        self.events["dossiers"][day] += filed.astype(np.int32)
        idx = np.unique(np.concatenate([lo + rng.integers(0, n, k) for lo, n, k in
                                        zip(self.unit_start[:-1], self.agents, filed, strict=True) if k]))
        unit, state = self._unit_of_agent[idx], self.state[idx]
        online = rng.random(len(idx)) < self._p_online[unit, state, self.combo[idx]]
        pushed = ~online & (state == State.UNAWARE) & (rng.random(len(idx)) < self._push[unit])
        if pushed.any():  # refused at the counter: now they know the online route exists
            self._move(idx[pushed], self._ability_state(idx[pushed]))
        self._pay_online(idx[online], day)

    def _pay_online(self, idx: np.ndarray, day: int) -> None:
        """Citizens `idx` pay a fee online: a failure or an "unpaid" notice may make them lapse."""
        if len(idx) == 0:
            return
        rng, q, a = self.rng, self.quality, self.setup.adoption
        n = len(idx)
        failed = rng.random(n) < q.failure_rate
        sigma = math.log(q.callback_p95_s / q.callback_p50_s) / Z95 if q.callback_p50_s > 0 else 0.0
        delay = q.callback_p50_s * np.exp(sigma * rng.standard_normal(n))
        unpaid = ~failed & (delay > q.unpaid_notice_after_s)
        state = self.state[idx]
        lapse_p = np.where(state == State.HABITUAL, a.lapse_after_bad_experience * self.behaviour.habitual_lapse_factor,
                           a.lapse_after_bad_experience)
        lapsed = (failed | unpaid) & (rng.random(n) < lapse_p)
        good = ~failed & ~unpaid
        self.uses[idx] = np.minimum(self.uses[idx].astype(np.int32) + good, 255).astype(np.uint8)
        habit = self.uses[idx] >= a.habit_after_uses
        new = np.where(lapsed, State.LAPSED,
                       np.where((state == State.HABITUAL) | habit, State.HABITUAL, State.TRIED)).astype(np.uint8)
        self._move(idx, new)
        units = self._unit_of_agent[idx]
        for name, flags in (("online_payments", None), ("failed_payments", failed), ("told_unpaid", unpaid),
                            ("lapses_failed", lapsed & failed), ("lapses_unpaid", lapsed & unpaid)):
            flagged = units if flags is None else units[flags]  # counts of payers: integers, exact either way
            self.events[name][day] += np.bincount(flagged, minlength=self.n_units).astype(np.int32)

    def add_guided(self, unit_index: int, n: float) -> int:
        """Counter officers guided `n` citizens of unit `unit_index` through online filing and payment today.

        The officer sets up the app on the citizen's phone ("cầm tay chỉ việc": assumed to close the device and
        skill gap); a citizen who also has a level-2 VNeID pays online on the spot and becomes TRIED (or keeps a
        habit); one without it learns what is missing. `n` is in citizens; it is scaled to agents with random
        rounding. Returns the number of agents guided.
        """
        if not 0 <= unit_index < self.n_units:
            raise InputError(f'"unit_index" = {unit_index!r} is not a unit index within [0, {self.n_units})')
        if not n >= 0:
            raise InputError(f'"n" = {n!r} guided citizens must be >= 0')
        rng, lo, size = self.rng, int(self.unit_start[unit_index]), int(self.agents[unit_index])
        expected = n / self.people_per_agent[unit_index]
        want = int(expected) + int(rng.random() < expected - int(expected))
        if want == 0:
            return 0
        pick = np.unique(lo + rng.integers(0, size, 3 * want + 8))
        pick = pick[~_is_adopter(self.state[pick])]
        if len(pick) < want:  # few non-adopters left: draw among all of them
            pool = lo + np.flatnonzero(~_is_adopter(self.state[lo:lo + size]))
            pick = pool
        if len(pick) > want:
            pick = rng.choice(pick, size=want, replace=False)
        day = min(self.day, self.days - 1)
        self.means[pick] |= _MEANS
        self._move(pick, self._ability_state(pick))
        state = self.state[pick]
        ready = pick[(state == State.ABLE) | (state == State.TRIED) | (state == State.LAPSED)]
        self._pay_online(ready, day)
        self.events["guided"][day, unit_index] += len(pick)
        return len(pick)

    # --- outputs ---

    def counts_by_unit(self) -> np.ndarray:
        """(units, states) agents in each state now."""
        return self._unit_counts().sum(2)

    def current_share(self) -> np.ndarray:
        """(units,) the expected share of a dossier filed now being paid online."""
        return (self._unit_counts() * self._p_online).sum((1, 2)) / self.agents

    def citizens(self, agent_counts: np.ndarray) -> np.ndarray:
        """Scale per-unit agent counts (last axis = units) to citizens."""
        return np.asarray(agent_counts) * self.people_per_agent

    def payment_effects(self) -> dict[str, float]:
        """What the payment system's quality did over the run, in citizens (estimates from the agents)."""
        totals = {name: float(self.citizens(arr.sum(0)).sum()) for name, arr in self.events.items()}
        paid = totals["online_payments"]
        totals["told_unpaid_share"] = totals["told_unpaid"] / paid if paid else 0.0
        totals["failed_share"] = totals["failed_payments"] / paid if paid else 0.0
        return totals


def _is_adopter(state: np.ndarray) -> np.ndarray:
    """Where `state` is TRIED or HABITUAL (as ``np.isin(state, _ADOPTER_STATES)``, without its set machinery)."""
    return (state == State.TRIED) | (state == State.HABITUAL)


# --- aggregation helpers ---


def counts_by_stage(state_counts: np.ndarray) -> np.ndarray:
    """Merge the last axis of `State` counts into the `STAGES` (NEEDS_* → "aware")."""
    c = np.asarray(state_counts)
    aware = c[..., State.NEEDS_DEVICE] + c[..., State.NEEDS_IDENTITY]
    order = (c[..., State.UNAWARE], aware, c[..., State.ABLE], c[..., State.TRIED], c[..., State.HABITUAL],
             c[..., State.LAPSED])
    return np.stack(order, axis=-1)


def aggregate_share(daily_share: np.ndarray, start: dt.date, period: str = "week") -> tuple[list[dt.date], np.ndarray]:
    """Mean daily share per ISO week (labelled by its Monday) or calendar month (labelled by its 1st).

    Within a unit dossiers arrive at a constant expected rate, so the dossier-weighted share of a period is
    the mean of its daily shares. Partial first and last periods average the days simulated.
    """
    if period not in ("week", "month"):
        raise InputError(f'"period" = {period!r} must be "week" or "month"')
    days = np.asarray(daily_share)
    dates = [start + dt.timedelta(days=d) for d in range(days.shape[0])]
    label = (lambda d: d - dt.timedelta(days=d.weekday())) if period == "week" else (lambda d: d.replace(day=1))
    keys = [label(d) for d in dates]
    labels = sorted(set(keys))
    index = np.searchsorted(np.array(labels, dtype="datetime64[D]"), np.array(keys, dtype="datetime64[D]"))
    sums = np.zeros((len(labels), *days.shape[1:]))
    np.add.at(sums, index, days)
    return labels, sums / np.bincount(index).reshape((-1, *(1,) * (days.ndim - 1)))


def province_share(share: np.ndarray, fee_dossiers_per_year: Sequence[float]) -> np.ndarray:
    """The province's share: unit shares (last axis) weighted by their fee-bearing dossiers."""
    weights = np.asarray(fee_dossiers_per_year, dtype=float)
    if weights.sum() <= 0:
        raise InputError(f'"fee_dossiers_per_year" = {list(weights)} must have a positive sum to weight shares')
    return np.asarray(share) @ (weights / weights.sum())
