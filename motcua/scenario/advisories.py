"""Warnings about a valid scenario: things that do not make the file wrong but probably are not what was meant.

*Scenario.* A planner copies last year's plan and keeps its interventions while shortening the horizon: the
VNeID drive dated 2025 now starts after the simulation ends and would silently do nothing. Which problems
refuse the file and which only warn:

- errors (`Scenario.check`): a target dated outside the simulated period, a unit id that no unit has (in
  interventions and targets), a source id that no source has;
- warnings (`scenario_warnings`, printed by ``motcua scenario check``): an intervention wholly or partly outside
  the simulated period (its days outside have no effect; a quick run shortens the horizon on purpose), and a
  ``[sensitivity.relative]`` key that names no field of the scenario (it would widen nothing).

Each warning starts with the field path, as errors do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from motcua.typed_config import get_path

if TYPE_CHECKING:
    from motcua.scenario.document import Scenario


def scenario_warnings(scenario: Scenario) -> list[str]:
    """What is probably a mistake in a valid scenario, one sentence each, starting with the field path."""
    return [*_intervention_dates(scenario), *_sensitivity_keys(scenario)]


def _intervention_dates(scenario: Scenario) -> list[str]:
    sim = scenario.simulation
    start, end = sim.start, sim.end
    days_needed = "raise simulation.horizon_days to at least {days} to simulate it"
    out = []
    for i, item in enumerate(scenario.interventions):
        where = f"interventions[{i}]" + (f" ({item.name})" if item.name else "")
        if item.start > end:
            out.append(f"{where}.start = {item.start}: after the simulation ends ({end}), so it has no effect; "
                       + days_needed.format(days=(item.end - start).days + 1))
        elif item.end < start:
            out.append(f"{where}.end = {item.end}: before the simulation starts ({start}), so it has no effect")
        else:
            if item.start < start:
                out.append(f"{where}.start = {item.start}: before the simulation starts ({start}); only its days "
                           f"from {start} are simulated")
            if item.end > end:
                out.append(f"{where}.end = {item.end}: after the simulation ends ({end}); its days after {end} are "
                           "not simulated")
    return out


def _sensitivity_keys(scenario: Scenario) -> list[str]:
    data = scenario.to_dict()
    out = []
    for key in scenario.sensitivity.relative:
        try:
            get_path(data, key)
        except (KeyError, ValueError, IndexError):
            out.append(f"sensitivity.relative.{key!r}: no such field in the scenario, so it widens nothing")
    return out
