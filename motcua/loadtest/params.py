"""The journeys' parameters, read from the scenario file (never edited into a locustfile).

Every Locust process reads the same scenario (``--motcua-scenario``) and derives the same
`JourneyParams`: the share of citizens with a level-2 VNeID account, abandonment and
"mistake → start again" probabilities per step, the mix of the five payment groups, the banks'
weights, and, per group, the fee-bearing procedures of the fee catalogue a citizen files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motcua.errors import ScenarioError
from motcua.payment_platform import PAYMENT_GROUPS

STEPS = ("identity", "dossier", "payment_page", "bank_choice", "charge")
"""The citizen's steps, in order (the keys of ``[load].abandon`` and ``[load].mistake_restart``)."""
GROUPS = PAYMENT_GROUPS


@dataclass(frozen=True)
class Procedure:
    code: str
    group: str
    fee_vnd: int


@dataclass(frozen=True)
class JourneyParams:
    """What a simulated citizen, officer and reconciler do, from the scenario."""

    vneid_level2_share: float
    abandon: dict[str, float]
    mistake_restart: dict[str, float]
    group_mix: dict[str, float]
    banks: tuple[str, ...]
    bank_weights: tuple[float, ...]
    procedures: dict[str, tuple[Procedure, ...]]
    officer_poll_s: float
    reconcile_every_s: float
    max_restarts: int = 3
    slo: dict[str, float] = field(default_factory=dict)

    def choose_group(self, rng: np.random.Generator) -> str:
        groups = [g for g in GROUPS if self.group_mix.get(g, 0) > 0]
        weights = np.array([self.group_mix[g] for g in groups])
        return groups[int(rng.choice(len(groups), p=weights / weights.sum()))]

    def choose_procedure(self, group: str, rng: np.random.Generator) -> Procedure:
        choices = self.procedures[group]
        return choices[int(rng.integers(0, len(choices)))]

    def choose_bank(self, rng: np.random.Generator) -> str:
        weights = np.array(self.bank_weights)
        return self.banks[int(rng.choice(len(self.banks), p=weights / weights.sum()))]


def journey_params(scenario: Any) -> JourneyParams:
    """`JourneyParams` of a loaded `motcua.scenario.Scenario`."""
    from motcua.mock_services.common.catalogue import load_fee_catalogue

    system, load = scenario.payment_system, scenario.load
    catalogue_path = Path(scenario.file).parent / system.fee_catalogue
    catalogue = load_fee_catalogue(catalogue_path)
    mix = {g: float(getattr(system.groups, g)) for g in GROUPS}
    procedures: dict[str, tuple[Procedure, ...]] = {}
    for group in GROUPS:
        paid = tuple(Procedure(p.code, p.group, p.fee_vnd) for p in catalogue.paid() if p.group == group)
        if mix[group] > 0 and not paid:
            raise ScenarioError(
                scenario.file,
                f"payment_system.groups.{group}",
                mix[group],
                f"the fee catalogue {catalogue_path.name} has no fee-bearing procedure of group {group!r}; "
                "add one or set this share to 0",
            )
        procedures[group] = paid
    return JourneyParams(
        vneid_level2_share=load.vneid_level2_share,
        abandon={s: float(getattr(load.abandon, s)) for s in STEPS},
        mistake_restart={s: float(getattr(load.mistake_restart, s)) for s in STEPS},
        group_mix=mix,
        banks=tuple(b.code for b in system.banks),
        bank_weights=tuple(system.bank_shares().values()),
        procedures=procedures,
        officer_poll_s=load.officer_poll_s,
        reconcile_every_s=load.reconcile_every_s,
        slo={
            k: getattr(scenario.slo, k)
            for k in (
                "callback_p95_ms", "create_p99_ms", "error_rate", "dropped_arrivals", "lost_callbacks",
                "late_callbacks", "journey_failures",
            )
        },
    )
