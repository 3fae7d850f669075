"""The calibrated scenario: the original with the fitted values and their provenance, written to a NEW file.

*Scenario.* ``motcua calibrate son-la-2020-2023`` never touches ``son-la-2020-2023.toml``: it builds
``son-la-2020-2023-calibrated`` (`calibrated_scenario`) with the fitted p, q and effort weight — and the initial
shares when they were fitted — each with a ``[provenance]`` entry that starts with `FITTED`, says against which
observations and gives the interval, and writes it as TOML (`write_scenario`), checked to load first.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from motcua.models.calibration.problem import PARAMETERS
from motcua.models.calibration.results import Calibration

from motcua.atomic import atomic_path
from motcua.errors import InputError
from motcua.scenario import Scenario, scenario_from_dict

FITTED = "derived: fitted by motcua calibrate"
"""How the provenance of every value calibration writes into a scenario begins."""


def calibrated_scenario(scenario: Scenario, result: Calibration, *, observed_file: str, when: str) -> Scenario:
    """A new, validated scenario with the fitted parameters and their provenance (the original is untouched)."""
    data = scenario.to_dict(written_only=True)  # defaults stay defaults, not numbers without provenance
    name = scenario.name if scenario.name.endswith("-calibrated") else f"{scenario.name}-calibrated"
    data["scenario"]["name"] = name
    data["scenario"]["title"] = f"{scenario.scenario.title} (calibrated)"
    provenance = data.setdefault("provenance", {})
    for param in result.free:
        data["adoption"][param] = round(result.estimates[param], 6)
        low, high = result.intervals.get(param, (math.nan, math.nan))
        provenance[f"adoption.{param}"] = (
            f"{FITTED} ({result.describe_model()}) to {observed_file} on {when}; "
            f"{result.level:.0%} bootstrap interval {low:.4g} – {high:.4g}")
    for param in PARAMETERS:
        if param not in result.free:
            data["adoption"][param] = result.estimates[param]
    start = scenario.simulation.start
    if result.origin < start < result.mean_field.date(result.mean_field.days):
        # Fitted from an earlier origin: start the new scenario where the fitted curve is on its first day.
        shares = result.mean_field.shares(result.estimates["p_per_year"], result.estimates["q_per_year"],
                                          result.estimates["effort_weight"],
                                          np.array(list(result.initial_shares.values())))
        row = shares[result.mean_field.day(start) - 1]
        for i, unit in enumerate(data["region"]["units"]):
            unit["initial_share"] = round(float(row[i]), 6)
            provenance[f"region.units[{unit['id']}].initial_share"] = (
                f"derived: calibrated mean field on {start} (fitted from {result.origin} to {observed_file})")
    elif result.initial_intervals and result.origin == start:
        for unit in data["region"]["units"]:
            unit["initial_share"] = round(result.initial_shares[unit["id"]], 6)
            provenance[f"region.units[{unit['id']}].initial_share"] = (
                f"{FITTED} to {observed_file} on {when}")
    return scenario_from_dict(data, file=scenario.file)


def write_scenario(scenario: Scenario, path: Path, *, header: str = "") -> Path:
    """Write `scenario` as TOML to a NEW file: checked to load first, never overwriting, never half-written."""
    import tomli_w

    from motcua.scenario import load_scenario

    path = Path(path)
    if path.exists():
        raise InputError(f"--write-scenario {path}: the file exists; calibration writes a new file, "
                         "choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = scenario.to_dict(written_only=True)
    # The fee catalogue is named relative to the scenario file: keep it pointing at the same file.
    catalogue = scenario.fee_catalogue_path().resolve()
    if catalogue.parent != path.parent.resolve():
        data["payment_system"]["fee_catalogue"] = str(catalogue)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    with atomic_path(path, exclusive=True) as tmp:  # never replaces a file that appeared meanwhile
        tmp.write_text(comment + tomli_w.dumps(data, multiline_strings=True), encoding="utf-8")
        load_scenario(tmp)
    return path
