"""Arrival-rate profiles over a real run: the scenario's load shape, fitted to this run's length and rate.

*Scenario*: the payment platform is quiet at night, rushes when the counters open at 07:30, dips at
lunch and peaks again before closing; a campaign's last day or an insurance deadline adds a spike.
The scenario file describes those shapes (``[load.profiles.<name>]``: constant, ramp, steps, spike,
peak_day — see `motcua.scenario.Profile`, the one place of their formulas). A load test needs them as
a rate function of *real* seconds for *this* run:

- ``--duration`` shortens or stretches the run; a peak day (24 hourly multipliers) is then compressed
  into it (time compression = 86,400 s ÷ duration) instead of the scenario's ``load.time_compression``;
- ``--rate R`` rescales the shape so its base rate is R (``rate_per_s``; for ``steps``, the highest step);
- ``--find-capacity`` multiplies the whole shape by a factor, step by step (`RateProfile.scaled`).

The open-model engine (`motcua.loadtest.arrivals`) turns a `RateProfile` into arrival times.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Protocol

from motcua.errors import InputError

DAY_S = 86_400.0


class Shape(Protocol):
    """What the harness needs of a scenario profile (`motcua.scenario.Profile`)."""

    kind: str
    rate_per_s: float
    steps_per_s: tuple[float, ...]

    def rate_at(self, t_s: float, *, time_compression: float = 1.0) -> float: ...

    def total_s(self, *, time_compression: float = 1.0) -> float: ...


@dataclass(frozen=True, kw_only=True)
class RateProfile:
    """A scenario load shape over one run of ``duration_s`` real seconds, scaled by ``scale``."""

    name: str
    shape: Any
    """The scenario's profile (`motcua.scenario.Profile`)."""
    duration_s: float
    time_compression: float = 1.0
    """Scenario seconds per real second (what ``rate_at`` expects; only the peak day uses it)."""
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise InputError(f"--duration = {self.duration_s!r} s: must be > 0, e.g. --duration 60s")
        if not (math.isfinite(self.scale) and self.scale >= 0):
            raise InputError(f"profile {self.name!r}: scale = {self.scale!r}: must be ≥ 0")

    def rate(self, t: float) -> float:
        """Intended arrivals per second at ``t`` real seconds into the run (0 outside it)."""
        if t < 0 or t >= self.duration_s:
            return 0.0
        return self.scale * self.shape.rate_at(t, time_compression=self.time_compression)

    @property
    def base_rate(self) -> float:
        """The rate that ``--rate`` sets: ``rate_per_s`` times the scale (for steps: the highest step)."""
        return self.scale * _base_of(self.shape)

    def peak_rate(self, step_s: float = 0.1) -> float:
        n = max(1, math.ceil(self.duration_s / step_s))
        return max(self.rate(i * self.duration_s / n) for i in range(n))

    def expected_arrivals(self, step_s: float = 0.01) -> float:
        """∫ rate dt over the run: the mean number of arrivals."""
        n = max(1, math.ceil(self.duration_s / step_s))
        step = self.duration_s / n
        return math.fsum(self.rate((i + 0.5) * step) for i in range(n)) * step

    def scaled(self, factor: float) -> RateProfile:
        """The same shape with every rate multiplied by ``factor``."""
        return dataclasses.replace(self, scale=self.scale * factor)

    def with_base_rate(self, rate_per_s: float) -> RateProfile:
        """The same shape rescaled so that its base rate is ``rate_per_s`` (the ``--rate`` flag)."""
        base = _base_of(self.shape)
        if base <= 0:
            raise InputError(f"profile {self.name!r} has a base rate of 0; --rate cannot rescale it")
        return dataclasses.replace(self, scale=rate_per_s / base)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.shape.kind,
            "duration_s": self.duration_s,
            "time_compression": self.time_compression,
            "scale": self.scale,
            "base_rate_per_s": self.base_rate,
            "expected_arrivals": round(self.expected_arrivals(), 1),
        }


def _base_of(shape: Any) -> float:
    if shape.kind == "steps":
        return max(shape.steps_per_s)
    return float(shape.rate_per_s)


def fit_profile(
    name: str,
    shape: Any,
    *,
    scenario_time_compression: float = 1.0,
    duration_s: float | None = None,
    rate_per_s: float | None = None,
) -> RateProfile:
    """A scenario profile fitted to this run: its own length unless ``duration_s``, rescaled to ``rate_per_s``."""
    duration = duration_s or shape.total_s(time_compression=scenario_time_compression)
    # a peak day is a whole day in the run, whatever its length: without --duration that is the scenario's
    # compression again; the other shapes are written in the run's seconds and ignore the compression
    compression = DAY_S / duration if shape.kind == "peak_day" else scenario_time_compression
    profile = RateProfile(name=name, shape=shape, duration_s=float(duration), time_compression=compression)
    if rate_per_s is not None:
        if not (math.isfinite(rate_per_s) and rate_per_s > 0):
            raise InputError(f"--rate = {rate_per_s!r}: must be > 0 journeys per second, e.g. --rate 20")
        profile = profile.with_base_rate(rate_per_s)
    return profile


def profile_from_scenario(
    scenario: Any, name: str | None = None, *, duration_s: float | None = None, rate_per_s: float | None = None
) -> RateProfile:
    """The scenario's profile ``name`` (default: ``load.profile``) fitted to this run."""
    load = scenario.load
    name = name or load.profile
    if name not in load.profiles:
        known = ", ".join(load.profiles) or "(none)"
        raise InputError(f"{scenario.file}: --profile {name!r}: no such profile in [load.profiles]; defined: {known}")
    return fit_profile(
        name,
        load.profiles[name],
        scenario_time_compression=load.time_compression,
        duration_s=duration_s,
        rate_per_s=rate_per_s,
    )


@dataclass(frozen=True)
class ConstantShape:
    """A constant rate, for runs without a scenario profile (benchmarks, ``--rate`` on a closed scenario)."""

    rate_per_s: float
    duration_s: float
    kind: str = "constant"
    steps_per_s: tuple[float, ...] = ()

    def rate_at(self, t_s: float, *, time_compression: float = 1.0) -> float:
        return self.rate_per_s

    def total_s(self, *, time_compression: float = 1.0) -> float:
        return self.duration_s


def constant(rate_per_s: float, duration_s: float) -> RateProfile:
    return RateProfile(name="constant", shape=ConstantShape(rate_per_s, duration_s), duration_s=duration_s)
