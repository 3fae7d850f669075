"""The adoption model with its barriers off, against the Bass closed form (`motcua validate bass`).

*Scenario.* A province where every citizen is able to pay online from day one (a smartphone, a connection, a
level-2 VNeID, no cash habit), with constant outreach effort and no payment failures: the agent model
(`models.adoption.AdoptionModel`, ``barriers=False``) must then follow the Bass curve F(t) of `models.theory`
up to the sampling noise of a finite population. `validate_bass` runs it for a few replications and says by
how much it misses (`BassValidation`).

The closed forms themselves live in `models.theory` (which knows no model); this module runs the model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
from motcua.models.adoption import AdoptionModel, AdoptionSetup
from motcua.models.theory import DAYS_PER_YEAR, bass_cdf

from motcua.errors import InputError
from motcua.scenario import AdoptionParams, BehaviourParameters, Citizens, Intervention, Unit


def _bad(name: str, value: object, problem: str) -> None:
    """A check's argument is wrong: the same words as the adoption model's own parameter errors."""
    raise InputError(f'adoption parameter "{name}" = {value!r} {problem}')


def bass_setup(p: float, q: float, population: int, years: float, *, effort: float = 1.0, communes: int = 1,
               potential: float = 1.0, interventions: Sequence[Intervention] = (),
               start: dt.date = dt.date(2020, 1, 1)) -> AdoptionSetup:
    """A one-unit setup for the theory checks: `population` agents, no dossiers, perfect payments."""
    if not population >= 1:
        _bad("population", population, "must be >= 1 agents")
    if not (years > 0 and math.isfinite(years)):
        _bad("years", years, "must be > 0")
    unit = Unit(id="bass", name="Bass check", kind="province", agency_code="BASS", population=int(population),
                fee_dossiers_per_year=0, communes=communes)
    citizens = Citizens(smartphone=1, vneid_level2=1, rural=0, ethnic_minority=0, good_connectivity=1,
                        digital_skill=1, cash_preference=0, small_fee_sensitivity=0)
    adoption = AdoptionParams(p_per_year=p, q_per_year=q, effort_weight=1.0, potential_share=potential,
                              lapse_after_bad_experience=0.0, return_after_lapse_per_year=0.0)
    return AdoptionSetup(start=start, horizon_days=round(years * DAYS_PER_YEAR), units=(unit,), citizens=citizens,
                         adoption=adoption, interventions=tuple(interventions), base_effort=effort)


def bass_trajectory(p: float, q: float, population: int, years: float, rng: np.random.Generator, *,
                    effort: float = 1.0, communes: int = 1, potential: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Run the agent model with barriers off and constant effort: (t in years, adopted share), daily.

    Both arrays have ``horizon_days + 1`` points: the share at the start of each day and after the last.
    """
    import simpy

    setup = bass_setup(p, q, population, years, effort=effort, communes=communes, potential=potential)
    env = simpy.Environment()
    model = AdoptionModel(env, setup, rng, barriers=False,
                          behaviour=BehaviourParameters(agents_per_unit=int(population)))
    env.process(model.run())
    env.run()
    share = np.concatenate([model.daily_share[:, 0], model.current_share()])
    return np.arange(len(share)) / DAYS_PER_YEAR, share


@dataclasses.dataclass(frozen=True)
class BassValidation:
    """The agent model (barriers off) against the Bass closed form, averaged over replications.

    The tolerance is a *relative* error on F(t), checked at every day once the theoretical share has reached
    `burn_in_share`: before that the share is tiny and a finite population's sampling noise (relative standard
    error ≈ √((1 − F)/(N·R·F))) dominates any relative measure. The absolute error over all days is reported too.
    """

    p: float
    q: float
    population: int
    years: float
    replications: int
    seed: int
    t_years: np.ndarray
    model: np.ndarray
    """Mean adopted share over the replications, per day."""
    theory: np.ndarray
    tolerance: float
    burn_in_share: float
    max_relative_error: float
    """Max |model − theory|/theory over the days with theory >= burn_in_share."""
    max_absolute_error: float
    """Max |model − theory| over all days."""
    noise_at_burn_in: float
    """Expected relative sampling error at the burn-in share: √((1 − F)/(N·R·F))."""

    @property
    def within_tolerance(self) -> bool:
        return self.max_relative_error <= self.tolerance

    def rows(self, every_years: float = 1.0) -> list[tuple[float, float, float, float]]:
        """(t in years, model, theory, relative error) every `every_years`, for printing."""
        step = max(1, round(every_years * DAYS_PER_YEAR))
        out = []
        for d in range(0, len(self.t_years), step):
            th = float(self.theory[d])
            out.append((float(self.t_years[d]), float(self.model[d]), th,
                        abs(float(self.model[d]) - th) / th if th > 0 else 0.0))
        return out

    def format(self) -> str:
        """A table of model vs theory and the verdict."""
        lines = [f"Bass check: p = {self.p:g}/year, q = {self.q:g}/year, {self.population:,} agents, "
                 f"{self.years:g} years, {self.replications} replication(s), seed {self.seed}",
                 f"{'t (years)':>10} {'model':>9} {'theory':>9} {'rel. error':>10}"]
        lines += [f"{t:>10.2f} {m:>9.5f} {th:>9.5f} {e:>10.3%}" for t, m, th, e in self.rows()]
        verdict = "within" if self.within_tolerance else "OUTSIDE"
        lines.append(f"max relative error {self.max_relative_error:.3%} (days with F >= {self.burn_in_share:.0%}; "
                     f"sampling noise there ≈ {self.noise_at_burn_in:.2%}), max absolute error "
                     f"{self.max_absolute_error:.5f}: {verdict} the {self.tolerance:.0%} tolerance")
        return "\n".join(lines)


def validate_bass(p: float, q: float, population: int, years: float, seed: int, replications: int = 4, *,
                  tolerance: float = 0.01, burn_in_share: float = 0.05) -> BassValidation:
    """Run `bass_trajectory` `replications` times (independent streams of `seed`) and compare with Bass F(t)."""
    if replications < 1:
        _bad("replications", replications, "must be >= 1")
    if not 0 < tolerance < 1:
        _bad("tolerance", tolerance, "must be within (0, 1), e.g. 0.01 for 1%")
    if not 0 < burn_in_share < 1:
        _bad("burn_in_share", burn_in_share, "must be within (0, 1), e.g. 0.05")
    streams = np.random.SeedSequence(seed).spawn(replications)
    runs = [bass_trajectory(p, q, population, years, np.random.default_rng(s)) for s in streams]
    t = runs[0][0]
    model = np.mean([share for _, share in runs], axis=0)
    theory = np.asarray(bass_cdf(t, p, q))
    counted = theory >= burn_in_share
    if not counted.any():
        _bad("years", years, f"too short: the Bass share never reaches the burn-in share {burn_in_share:.0%}")
    rel = float(np.max(np.abs(model[counted] - theory[counted]) / theory[counted]))
    noise = math.sqrt((1 - burn_in_share) / (population * replications * burn_in_share))
    return BassValidation(p=p, q=q, population=int(population), years=years, replications=replications, seed=seed,
                          t_years=t, model=model, theory=theory, tolerance=tolerance, burn_in_share=burn_in_share,
                          max_relative_error=rel, max_absolute_error=float(np.max(np.abs(model - theory))),
                          noise_at_burn_in=noise)
