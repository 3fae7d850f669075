"""The whole uncertainty: what is not known about the parameters, as well as what chance does in a year.

*Scenario.* "24.2–25.0%" is the spread of 20 simulated years with every assumed number held at its
value: it says nothing about whether the adoption assumptions are right, and `motcua sensitivity`
shows they alone move the final share between ~18% and ~32%. With parameter uncertainty each
replication i draws its own parameter vector, then runs on its own random streams, so the interval over
replications covers both ("parameters and replications"); without it ("replications only") the
interval is the replication noise of one parameter vector, which is what engineers comparing model
variants want.

What is drawn, per number the simulation reads:
- a number fitted by `motcua calibrate` (its ``[provenance]`` entry starts "derived: fitted by motcua
  calibrate" and records an "80% … interval LOW – HIGH"): uniformly within that interval. Calibrate keeps
  the band, not its bootstrap refits, so the band stands for them; drawing within it understates the tails
  (10% each side lie outside) rather than inventing a distribution the file does not record;
- a number marked *assumed*: uniformly over the range the scenario's ``[sensitivity]`` table declares,
  the same factors and ranges `motcua sensitivity` varies (`models.sensitivity.assumed_factors`, grouped
  by assumption: the same field across units moves together);
- anything else (observed numbers, money, calendars): held at its value.

Common random numbers across plans: the position drawn for an assumption in replication i depends only
on the root seed, i and the assumption's name (`position`), so replication i of every plan sees the same
parameter values for the assumptions they share, and the same random streams (`models.replications`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PARAMETERS = "parameters"
REPLICATIONS = "replications"
MODES = (PARAMETERS, REPLICATIONS)
COVERS = {PARAMETERS: "parameters and replications", REPLICATIONS: "replications only"}
"""What an interval covers, as summary.json, the console and the report say it."""

_CALIBRATED = re.compile(r"^derived: fitted by motcua calibrate")
_BAND = re.compile(r"80% (?:bootstrap )?interval\s+([-+0-9.eE]+)\s*[–-]\s*([-+0-9.eE]+)")
_STREAM = 0x5A7A
"""Spawn key of the parameter draws, apart from the replications' streams (`models.streams`)."""


@dataclass(frozen=True)
class ParameterDraws:
    """How replication i of one scenario gets its parameters: the factors drawn and the root seed."""

    factors: tuple[Any, ...]
    """`models.sensitivity.Factor`: assumed ranges and calibrated bands."""
    seed: int

    def scenario(self, scenario: Any, replication: int) -> Any:
        """`scenario` with every factor at its draw for `replication`."""
        from motcua.models.sensitivity import perturbed

        if not self.factors:
            return scenario
        u = np.array([position(self.seed, replication, f.group) for f in self.factors])
        return perturbed(scenario, self.factors, u)


def position(seed: int, replication: int, name: str) -> float:
    """The draw in [0, 1) of assumption `name` in `replication`: the same for every plan (common numbers)."""
    key = zlib.crc32(name.encode("utf-8"))
    return float(np.random.default_rng(np.random.SeedSequence([_STREAM, int(seed), replication, key])).random())


def calibrated_factors(scenario: Any) -> list[Any]:
    """The numbers `motcua calibrate` fitted, each with the 80% band its provenance records."""
    from motcua.models.sensitivity import Factor

    from motcua.typed_config import get_path

    data = scenario.to_dict()
    out = []
    for key, text in scenario.provenance.items():
        path = key.strip('"')
        band = _BAND.search(text or "")
        if not _CALIBRATED.match(text or "") or band is None:
            continue
        try:
            value = get_path(data, path)
        except (KeyError, ValueError, IndexError, TypeError):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        low, high = sorted((float(band.group(1)), float(band.group(2))))
        if high <= low:
            continue
        group = re.sub(r"^region\.units\[[^\]]+\]", "region.units[*]", path)
        out.append(Factor(path, group, float(value), low, high, isinstance(value, int), text))
    return out


def parameter_factors(scenario: Any) -> list[Any]:
    """What replication draws vary in `scenario`: calibrated bands first, then the assumed ranges of
    `motcua sensitivity` (a number both calibrated and assumed is drawn from its band)."""
    from motcua.models.sensitivity import assumed_factors

    from motcua.errors import InputError

    calibrated = calibrated_factors(scenario)
    fitted = {f.path for f in calibrated}
    try:
        assumed = [f for f in assumed_factors(scenario) if f.path not in fitted]
    except InputError:  # nothing marked assumed: only the calibrated bands (maybe none)
        assumed = []
    return calibrated + assumed


def draws_for(scenarios: Sequence[Any], mode: str, seed: int) -> list[ParameterDraws | None]:
    """Per scenario, its parameter draws (``parameters``) or None (``replications``: parameters held)."""
    if mode not in MODES:
        raise ValueError(f"uncertainty {mode!r}: expected one of {', '.join(MODES)}")
    if mode == REPLICATIONS:
        return [None] * len(scenarios)
    return [ParameterDraws(tuple(parameter_factors(s)), int(seed)) for s in scenarios]


__all__ = ["COVERS", "MODES", "PARAMETERS", "REPLICATIONS", "ParameterDraws", "calibrated_factors", "draws_for",
           "parameter_factors", "position"]
