"""A backtest: fit on all but the last observations, forecast those, and say how far the forecast misses them.

*Scenario.* Fitted on Sơn La's 2020–2021 shares, what does the model say of 2022 — and is the observed 10.7%
inside the band a new observation should fall in? ``motcua calibrate --holdout N`` prints it (the text is the
command's, `motcua.commands.calibrate`); `Backtest.summary` is what ``summary.json`` keeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from motcua.models.calibration.observations import Observation
from motcua.models.calibration.results import Calibration

from motcua.errors import InputError


def split_holdout(observations: Sequence[Observation], last_n: int) -> tuple[list[Observation], list[Observation]]:
    """The observations to fit and the last `last_n` (by period end) to hold out for a backtest."""
    ordered = sorted(observations, key=lambda o: (o.end, o.start))
    if not 0 <= last_n < len(ordered):
        raise InputError(f"--holdout {last_n}: must be within 0 – {len(ordered) - 1} (there are {len(ordered)} "
                         "observations and at least one must remain to fit)")
    return (list(observations) if not last_n else ordered[:-last_n]), (ordered[-last_n:] if last_n else [])


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """One held-out observation against the forecast of a fit that did not see it."""

    observation: Observation
    forecast: float
    low: float
    high: float
    level: float

    @property
    def miss(self) -> float:
        return self.forecast - self.observation.share

    @property
    def inside(self) -> bool:
        return self.low <= self.observation.share <= self.high


@dataclasses.dataclass(frozen=True)
class Backtest:
    """The forecast of held-out observations: the miss, and whether each lies inside the forecast band (the fit's
    draws plus the observation's own noise and proxy uncertainty: where a new observation should fall)."""

    rows: list[HeldOut]
    fitted_on: list[Observation]
    band: str

    def summary(self) -> dict[str, Any]:
        return {"fitted_on": [{"period_start": o.start.isoformat(), "period_end": o.end.isoformat(),
                               "observed": o.share} for o in self.fitted_on],
                "band": self.band,
                "held_out": [{"unit": r.observation.unit, "period_start": r.observation.start.isoformat(),
                              "period_end": r.observation.end.isoformat(), "observed": r.observation.share,
                              "forecast": r.forecast, "low": r.low, "high": r.high, "level": r.level,
                              "miss": r.miss, "relative_miss": r.miss / r.observation.share if r.observation.share
                              else None, "inside": r.inside} for r in self.rows]}


def backtest(result: Calibration, held_out: Sequence[Observation], *,
             rng: np.random.Generator | None = None) -> Backtest:
    """Forecast `held_out` with a fit that did not see them (the best fit's mean, and the band of its draws).

    The band adds each observation's own noise, drawn from `rng` (default: a generator seeded 0, so that a
    backtest is the same every time it is run on the same fit).
    """
    forecast, draws = result.period_values(held_out)
    rng = np.random.default_rng(0) if rng is None else rng
    # A prediction band: the draws' values plus each observation's own noise (and a proxy's extra uncertainty).
    noise = rng.standard_normal((max(len(draws), 200), len(held_out)))
    sds = np.array([o.sd(result.noise_sd) for o in held_out])
    draws = draws[np.arange(len(noise)) % len(draws)] + noise * sds
    tail = (1 - result.level) / 2
    low, high = np.quantile(draws, tail, axis=0), np.quantile(draws, 1 - tail, axis=0)
    rows = [HeldOut(o, float(f), float(a), float(b), result.level)
            for o, f, a, b in zip(held_out, forecast, low, high, strict=True)]
    return Backtest(rows, sorted(result.observations, key=lambda o: o.end), result.band_source())
