"""``[load]``: how the load test drives the mock services — named load shapes, compression, citizens' mistakes.

*Scenario.* ``peak-day`` runs its ``peak_day`` profile by default: a day's arrivals spread over 24 hours by
hourly multipliers, compressed so that a test lasts minutes; 2% of simulated citizens give up at the bank's
charge and OTP step, 2% make a mistake there and start again.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
from typing import Literal

from motcua.typed_config import FieldProblem, spec

ProfileKind = Literal["constant", "ramp", "steps", "spike", "peak_day"]


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
