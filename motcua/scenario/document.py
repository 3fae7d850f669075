"""The whole scenario: its tables together, the rules across them, and validated variants of it.

*Scenario.* Lạng Sơn's file names five units; its interventions and targets cite them by id, its targets
and observed shares cite the article by source id, and Decision 497's date must fall inside the simulated
period — rules that span tables, checked here once the tables are read. A planner's variant (another seed,
a measured payment quality, one value changed) is a new validated `Scenario`, never an edited one.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from motcua.errors import ScenarioError
from motcua.scenario.adoption import AdoptionParams, Citizens
from motcua.scenario.common import ALL_UNITS, PROVENANCE_KINDS, SCENARIO_DIR, check_source, check_unit_refs
from motcua.scenario.costs import Costs, price_intervention
from motcua.scenario.interventions import Intervention
from motcua.scenario.load import Load
from motcua.scenario.meta import Meta, Simulation
from motcua.scenario.optimise import Optimise, OptimisedLever
from motcua.scenario.payment_system import PaymentSystem, SystemQuality
from motcua.scenario.provenance import ProvenanceIndex, check_provenance, covers_given, written_part
from motcua.scenario.region import Region, Unit
from motcua.scenario.sensitivity import SensitivityRanges
from motcua.scenario.slo import SLO
from motcua.scenario.targets import Target
from motcua.typed_config import ConfigFile, FieldProblem, canonical_path, set_path, spec, to_data


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scenario:
    """A whole scenario file: read it with `load_scenario`."""

    scenario: Meta = spec("name, title, sources")
    simulation: Simulation = spec("run settings")
    region: Region = spec("the province and its units")
    citizens: Citizens = spec("the citizens' traits")
    adoption: AdoptionParams = spec("adoption model parameters")
    payment_system: PaymentSystem = spec("the payment system's quality, groups and banks")
    load: Load = spec("load-test settings and profiles")
    slo: SLO = spec("service-level objectives")
    interventions: tuple[Intervention, ...] = spec("levers in the scenario", ())
    targets: tuple[Target, ...] = spec("policy targets", ())
    costs: Costs = spec("unit costs of the levers, to price plans (motcua optimise)", default_factory=Costs)
    optimise: Optimise = spec("decision space of `motcua optimise`", default_factory=Optimise)
    sensitivity: SensitivityRanges = spec("ranges of the assumed numbers for `motcua sensitivity`",
                                          default_factory=SensitivityRanges)
    provenance: dict[str, str] = spec("field path → 'observed: <source id> …' | 'assumed: <why>' | "
                                      "'derived: <how>' | 'setting: <why>'", default_factory=dict,
                                      pattern=rf"({'|'.join(PROVENANCE_KINDS)}):\s*\S.*",
                                      pattern_hint="start with observed:, assumed:, derived: or setting:")
    file: str = dataclasses.field(default="<memory>", compare=False, repr=False, init=False)
    """The file the scenario was read from."""
    given: frozenset[str] = dataclasses.field(default=frozenset(), compare=False, repr=False, init=False)
    """Paths of the values written in the file (the rest are schema defaults)."""

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def units(self) -> tuple[Unit, ...]:
        return self.region.units

    @property
    def quality(self) -> SystemQuality:
        """The payment system's quality as the adoption model sees it."""
        return self.payment_system.quality

    def check(self) -> None:
        unit_ids = {u.id for u in self.region.units}
        source_ids = {s.id for s in self.scenario.sources}
        for i, item in enumerate(self.interventions):
            check_unit_refs(item.units, unit_ids, f"interventions[{i}].units")
        for i, target in enumerate(self.targets):
            check_unit_refs(target.units, unit_ids, f"targets[{i}].units")
            if target.date <= self.simulation.start:
                raise FieldProblem(f"targets[{i}].date", target.date.isoformat(),
                                   f"not after simulation.start {self.simulation.start}")
            if target.date > self.simulation.end:
                days = (target.date - self.simulation.start).days + 1
                raise FieldProblem(f"targets[{i}].date", target.date.isoformat(),
                                   f"after the simulation ends ({self.simulation.end}); raise "
                                   f"simulation.horizon_days to at least {days}")
            if target.source is not None:
                check_source(target.source, source_ids, f"targets[{i}].source")
        for where, obj in [("region", self.region)] + [(f"region.units[{i}]", u) for i, u in enumerate(self.units)]:
            if obj.observed_share_source is not None:
                check_source(obj.observed_share_source, source_ids, f"{where}.observed_share_source")
        check_provenance(self.provenance, to_data(self), source_ids)
        self._check_optimise(unit_ids)

    def _check_optimise(self, unit_ids: set[str]) -> None:
        opt = self.optimise
        if not opt.levers:
            return
        # A variant whose targets were cut (a quick horizon, a test) keeps its table; `motcua optimise` refuses it.
        if self.targets and opt.target >= len(self.targets):
            raise FieldProblem("optimise.target", opt.target, f"no such target; the scenario has {len(self.targets)}")
        for i, lever in enumerate(opt.levers):
            check_unit_refs(lever.units, unit_ids, f"optimise.levers[{i}].units")
            if self.costs.of(lever.kind) is None:
                priced = ", ".join(p.kind for p in self.costs.levers) or "none"
                raise FieldProblem(f"optimise.levers[{i}].kind", lever.kind,
                                   f"no price in [costs] for this lever; priced: {priced}")

    def _check_budget(self) -> None:
        """After `given` is known (written ``cost_vnd`` lump sums count as written): the budget covers the
        cheapest plan ``[optimise]`` allows."""
        budget = self.optimise.budget_vnd
        if self.optimise.levers and budget is not None and budget < (cheapest := self.cheapest_plan_vnd()):
            raise ScenarioError(self.file, "optimise.budget_vnd", budget,
                                f"below the cheapest plan the [optimise] table allows ({cheapest} VND)")

    # --- costs (motcua.scenario.costs) ---

    def intervention_cost(self, index: int) -> int:
        """Cost of intervention `index`: its written ``cost_vnd``, else priced from ``[costs]`` (0 if unpriced)."""
        item = self.interventions[index]
        price = self.costs.of(item.kind)
        if f"interventions[{index}].cost_vnd" in self.given or price is None:
            return item.cost_vnd
        return price_intervention(item, price, self.units_covered(item.units))

    def plan_cost(self) -> int:
        """Total cost of the scenario's interventions (`intervention_cost` summed)."""
        return sum(self.intervention_cost(i) for i in range(len(self.interventions)))

    def units_covered(self, refs: tuple[str, ...]) -> int:
        """How many units a unit list (ids or ``'*'``) covers."""
        return len(self.units) if ALL_UNITS in refs else len(set(refs))

    def lever_cost(self, lever: OptimisedLever, intervention: Intervention) -> int:
        """Price of `intervention`, an instance of the optimised `lever`, from ``[costs]``."""
        price = self.costs.of(lever.kind)
        return 0 if price is None else price_intervention(intervention, price, self.units_covered(intervention.units))

    def cheapest_plan_vnd(self) -> int:
        """Cost of the cheapest plan ``[optimise]`` allows: the interventions it does not replace, plus each
        required lever at its lowest intensity, latest start, on one unit (``per_unit``) or all its units."""
        replaced = {lever.kind for lever in self.optimise.levers}
        kept = sum(self.intervention_cost(i) for i, item in enumerate(self.interventions) if item.kind not in replaced)
        for lever in self.optimise.levers:
            if lever.required:
                units = (lever.units[0],) if lever.per_unit and ALL_UNITS not in lever.units else lever.units
                if lever.per_unit and ALL_UNITS in lever.units:
                    units = (self.units[0].id,)
                kept += self.lever_cost(lever, lever_intervention(lever, lever.start_to, lever.intensity_min, units))
        return kept

    # --- provenance (motcua.scenario.provenance) ---

    def provenance_of(self, path: str) -> str:
        """Where a figure comes from: the most specific ``[provenance]`` entry covering `path`.

        Observed shares of units cite their ``observed_share_source``; values not written in the file are
        schema defaults ("assumed: default of motcua/scenario.py"). An entry for a section speaks for the values
        of its sub-tables only where the file writes them: an ``adoption`` entry about p and q says nothing
        about an ``[adoption.behaviour]`` table the file leaves to its defaults.
        """
        return self._provenance.lookup(path, self.given)

    def unmarked_numbers(self) -> list[str]:
        """Paths of numbers written in the file that no provenance entry covers (each should say where it is from)."""
        return self._provenance.unmarked_numbers(self.given)

    @functools.cached_property
    def _provenance(self) -> ProvenanceIndex:
        return ProvenanceIndex.of(self)

    # --- variants ---

    def to_dict(self, *, written_only: bool = False) -> dict[str, Any]:
        """Plain TOML-ready data (dates as dates); ``written_only`` leaves out values filled from defaults."""
        data = to_data(self)
        return written_part(data, "", self.given) or {} if written_only else data

    def with_overrides(self, overrides: Mapping[str, Any] | None = None, **sections: Any) -> Scenario:
        """A validated copy with values replaced by dotted path, e.g. ``{"simulation.seed": 7}``.

        Keyword arguments replace whole sections: ``with_overrides(simulation={...})``.
        """
        data = self.to_dict()
        changed = list(sections)
        for path, value in (overrides or {}).items():
            try:
                set_path(data, path, to_data(value))
                changed.append(canonical_path(data, path))
            except (KeyError, ValueError):
                raise ScenarioError(self.file, path, value, "no such field to override") from None
        for name, value in sections.items():
            data[name] = to_data(value)
        new = scenario_from_dict(data, file=self.file)
        # What counts as written: what was written before, and what was overridden now.
        given = {g for g in new.given if g in self.given or any(covers_given(c, (g,)) for c in changed)}
        object.__setattr__(new, "given", frozenset(given))
        return new

    def with_seed(self, seed: int, replications: int | None = None) -> Scenario:
        """A copy with another root seed (and optionally another number of replications)."""
        overrides = {"simulation.seed": seed}
        if replications is not None:
            overrides["simulation.replications"] = replications
        return self.with_overrides(overrides)

    def with_quality(self, quality: SystemQuality, *, source: str = "measured by a load test") -> Scenario:
        """A copy whose payment-system quality is `quality` (e.g. from a load test), marked as such."""
        return self.with_overrides({
            "payment_system.failure_rate": quality.failure_rate,
            "payment_system.callback_delay_s": {"p50": quality.callback_p50_s, "p95": quality.callback_p95_s},
            "payment_system.unpaid_notice_after_s": quality.unpaid_notice_after_s,
            'provenance."payment_system.failure_rate"': f"derived: {source}",
            'provenance."payment_system.callback_delay_s"': f"derived: {source}",
            'provenance."payment_system.unpaid_notice_after_s"': f"derived: {source}",
        })

    def fee_catalogue_path(self) -> Path:
        """The fee catalogue file, resolved next to the scenario file."""
        base = Path(self.file).parent if self.file not in ("<memory>", "") else SCENARIO_DIR
        return base / self.payment_system.fee_catalogue

    def summary(self) -> str:
        """One paragraph for `motcua scenario check`."""
        units = ", ".join(
            f"{u.name} ({u.observed_share:.2%})" if u.observed_share is not None else u.name for u in self.units
        )
        levers = ", ".join(sorted({i.kind for i in self.interventions})) or "none"
        targets = "; ".join(f"{t.share:.0%} by {t.date}" + (f" ({t.name})" if t.name else "") for t in self.targets)
        sim = self.simulation
        return (
            f"{self.name}: {self.scenario.title}. {len(self.units)} unit(s): {units}. "
            f"{len(self.interventions)} intervention(s): {levers}. Targets: {targets or 'none'}. "
            f"Simulates {sim.start} – {sim.end} ({sim.horizon_days} days), {sim.replications} replication(s), "
            f"seed {sim.seed}. {len(self.payment_system.banks)} bank(s); load profiles: "
            f"{', '.join(self.load.profiles)} (default {self.load.profile})."
        )


def lever_intervention(lever: OptimisedLever, start: Any, intensity: float, units: tuple[str, ...]) -> Intervention:
    """The intervention an optimised lever becomes with a start date, an intensity and units."""
    return Intervention(kind=lever.kind, start=start, end=lever.end, units=units, intensity=intensity,
                        capacity_per_day=lever.capacity_per_day, guidance_minutes=lever.guidance_minutes,
                        name=lever.name, name_en=lever.name_en)


SCENARIO_FILE = ConfigFile(Scenario, "scenario file", error=ScenarioError)
"""The scenario as a configuration file kind of `motcua.typed_config` (`load_scenario` adds the bundled names)."""


def scenario_from_dict(data: Mapping[str, Any], *, file: str = "<memory>") -> Scenario:
    """Validate plain data (as read from TOML) into a `Scenario`; errors name `file` and the field path."""
    reader = SCENARIO_FILE.reader(str(file))
    scenario = reader.read(Scenario, data)
    object.__setattr__(scenario, "file", str(file))
    object.__setattr__(scenario, "given", frozenset(reader.given))
    scenario._check_budget()
    return scenario
