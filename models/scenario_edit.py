"""Editing a scenario for a run: the ``--quick`` horizon, and a copy keeping only some entries of a list.

Both return new validated `motcua.scenario.Scenario` objects (through the scenario's own dict form), so
an edited scenario is checked like one read from a file. Used by `models.coupled` (``quick=True``), the
``simulate`` command and the pipeline (the "no campaign" twin of a scenario).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

PERIOD_DAYS = 28
"""Length of the "before" and "after" windows in which counter waits and officer time are compared
(`models.coupled.periods_of`); a ``--quick`` horizon keeps at least two of them."""

QUICK_DAYS = 182
"""Horizon of a ``--quick`` run when the scenario's first target lies beyond `QUICK_MAX_DAYS`."""
QUICK_MAX_DAYS = 366
QUICK_PAST_DEADLINE_DAYS = 183
"""How far a ``--quick`` run goes past the first target's deadline: six months, so that a target missed at
its deadline is still given the date it is reached, or "not reached by <the horizon's last day>", not just
"missed". Six rather than twelve: `make demo` (``run --quick``: the scenario and one run per intervention
removed, three replications each, then the feedback runs) must stay under two minutes on two cores."""


def quick_horizon(scenario: Any) -> int:
    """Days a ``--quick`` run simulates.

    The rule: when the first target's deadline is within a year of the start (`QUICK_MAX_DAYS`), up to
    six months past it (`QUICK_PAST_DEADLINE_DAYS`), so the date the target is reached is answered
    even when the deadline is missed; else `QUICK_DAYS` (the target is then dropped and the run says so).
    Never more than the scenario's own horizon, and at least two `PERIOD_DAYS` windows so "before" and
    "after" do not overlap.
    """
    sim = scenario.simulation
    deadlines = sorted((t.date - sim.start).days + 1 for t in scenario.targets)
    days = deadlines[0] + QUICK_PAST_DEADLINE_DAYS if deadlines and deadlines[0] <= QUICK_MAX_DAYS else QUICK_DAYS
    return max(min(days, sim.horizon_days), min(2 * PERIOD_DAYS, sim.horizon_days))


def quick_scenario(scenario: Any) -> Any:
    """The scenario with the ``--quick`` horizon (targets past the new end are dropped); idempotent."""
    days = quick_horizon(scenario)
    if days == scenario.simulation.horizon_days:
        return scenario
    end = scenario.simulation.start + dt.timedelta(days=days - 1)
    shorter = keep_entries(scenario, "targets", [t.date <= end for t in scenario.targets])
    overrides: dict[str, Any] = {"simulation.horizon_days": days}
    data = shorter.to_dict()
    if data["simulation"].get("target_date") is not None and data["simulation"]["target_date"] > end:
        del data["simulation"]["target_date"]
        return _from_dict(data, scenario.file, overrides)
    return shorter.with_overrides(overrides)


def keep_entries(scenario: Any, section: str, keep: list[bool]) -> Any:
    """A copy of `scenario` keeping only the entries of the list `section` (``targets``,
    ``interventions``) where `keep` is true; their ``[provenance]`` entries follow their new index.

    E.g. the campaign scenario without its campaign: ``keep_entries(s, "interventions", [False] * n)``.
    """
    data = scenario.to_dict()
    items = data.get(section, [])
    new_index = {old: new for new, old in enumerate(i for i, k in enumerate(keep) if k)}
    data[section] = [item for item, k in zip(items, keep, strict=True) if k]
    pattern = re.compile(rf"^{re.escape(section)}\[(\d+)\](.*)$")
    provenance = {}
    for key, text in data.get("provenance", {}).items():
        match = pattern.match(key.strip('"'))
        if match is None:
            provenance[key] = text
        elif int(match.group(1)) in new_index:
            provenance[f"{section}[{new_index[int(match.group(1))]}]{match.group(2)}"] = text
    data["provenance"] = provenance
    return _from_dict(data, scenario.file)


def _from_dict(data: dict[str, Any], file: str, overrides: dict[str, Any] | None = None) -> Any:
    from motcua.scenario import scenario_from_dict

    scenario = scenario_from_dict(data, file=file)
    return scenario.with_overrides(overrides) if overrides else scenario
