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
from motcua.scenario.common import PROVENANCE_KINDS, SCENARIO_DIR, check_source, check_unit_refs
from motcua.scenario.interventions import Intervention
from motcua.scenario.load import Load
from motcua.scenario.meta import Meta, Simulation
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


SCENARIO_FILE = ConfigFile(Scenario, "scenario file", error=ScenarioError)
"""The scenario as a configuration file kind of `motcua.typed_config` (`load_scenario` adds the bundled names)."""


def scenario_from_dict(data: Mapping[str, Any], *, file: str = "<memory>") -> Scenario:
    """Validate plain data (as read from TOML) into a `Scenario`; errors name `file` and the field path."""
    reader = SCENARIO_FILE.reader(str(file))
    scenario = reader.read(Scenario, data)
    object.__setattr__(scenario, "file", str(file))
    object.__setattr__(scenario, "given", frozenset(reader.given))
    return scenario
