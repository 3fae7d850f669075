"""The scenario schema: one TOML file describes a province, its citizens, its levers and its payment system.

Scenario: Lạng Sơn in 2024. Five units (districts, the city, a department) report what share of their
fee-bearing dossiers (hồ sơ) were paid online; a campaign from 6 June to 31 December pushes outreach
and counter guidance; Decision 497 asks for 45%. A planner writes that down once, in
``scenarios/lang-son-2024.toml``, and every part of motcua reads it from here: the adoption and
counter models, the load test (payment system, load profiles, SLOs), the report and calibration.

This package is the ONE place of the schema. Each section is a frozen dataclass whose fields are
declared with `spec` (doc, unit, bounds); `load_scenario` validates a file against them and
`json_schema` generates the JSON Schema for editors from the same declarations. Units are in the
key names (``_vnd``, ``_minutes``, ``_per_day``, ``_per_year``, ``_s``, ``_ms``); shares are within 0–1.

Provenance: ``[provenance]`` maps a field path (``region.units[cao-loc].observed_share``, or a whole
section such as ``citizens``) to ``"observed: <source id> …"``, ``"assumed: <why>"``,
``"derived: <how>"`` or ``"setting: <why>"``, so the report can say which figures come from an
article and which are assumptions. `Scenario.provenance_of` answers for any field; `provenance_entries`
gives the whole table.

The modules, one per TOML table and then upwards (import-linter keeps them layered): `common` (what the
tables share); the tables `meta` (``[scenario]``, ``[simulation]``), `region`, `adoption` (``[citizens]``,
``[adoption]``), `interventions`, `payment_system`, `load`, `slo`, `targets`, `sensitivity`, which do not
import each other; `costs` (``[costs]``, pricing a lever) and `optimise` (``[optimise]``, the decision space of
`motcua optimise`), which read the interventions' kinds; `provenance`; `document` (the whole `Scenario`, its
cross-table rules and variants); `loading` (files, bundled names, the JSON Schema);
`advisories` (warnings about a valid scenario: dates outside the simulated period).
"""

from motcua.payment_platform import PAYMENT_GROUPS  # part of the scenario schema ([payment_system.groups])
from motcua.scenario.adoption import VNEID_LEVEL2_REQUIRED_FROM, AdoptionParams, BehaviourParameters, Citizens
from motcua.scenario.advisories import scenario_warnings
from motcua.scenario.common import ALL_UNITS, PROVENANCE_KINDS, SCENARIO_DIR, SLUG
from motcua.scenario.costs import CostBasis, Costs, LeverCost, price_intervention
from motcua.scenario.document import SCENARIO_FILE, Scenario, lever_intervention, scenario_from_dict
from motcua.scenario.interventions import OUTREACH_KINDS, Intervention, InterventionKind
from motcua.scenario.load import Load, Profile, ProfileKind, Steps
from motcua.scenario.loading import bundled_scenarios, json_schema, load_scenario, scenario_file
from motcua.scenario.meta import Meta, Simulation, Source
from motcua.scenario.optimise import Objective, Optimise, OptimisedLever
from motcua.scenario.payment_system import Z95_ROUNDED, CallbackDelay, PaymentSystem, SystemQuality
from motcua.scenario.provenance import DEFAULT_PROVENANCE, provenance_entries
from motcua.scenario.region import Counters, Region, ServiceMinutes, Unit, UnitKind
from motcua.scenario.sensitivity import SensitivityRanges
from motcua.scenario.slo import SLO
from motcua.scenario.targets import Target

__all__ = [
    "ALL_UNITS",
    "DEFAULT_PROVENANCE",
    "OUTREACH_KINDS",
    "PAYMENT_GROUPS",
    "PROVENANCE_KINDS",
    "SCENARIO_DIR",
    "SCENARIO_FILE",
    "SLO",
    "SLUG",
    "VNEID_LEVEL2_REQUIRED_FROM",
    "Z95_ROUNDED",
    "AdoptionParams",
    "BehaviourParameters",
    "CallbackDelay",
    "Citizens",
    "CostBasis",
    "Costs",
    "Counters",
    "Intervention",
    "InterventionKind",
    "LeverCost",
    "Load",
    "Meta",
    "Objective",
    "Optimise",
    "OptimisedLever",
    "PaymentSystem",
    "Profile",
    "ProfileKind",
    "Region",
    "Scenario",
    "SensitivityRanges",
    "ServiceMinutes",
    "Simulation",
    "Source",
    "Steps",
    "SystemQuality",
    "Target",
    "Unit",
    "UnitKind",
    "bundled_scenarios",
    "json_schema",
    "lever_intervention",
    "load_scenario",
    "price_intervention",
    "provenance_entries",
    "scenario_file",
    "scenario_from_dict",
    "scenario_warnings",
]
