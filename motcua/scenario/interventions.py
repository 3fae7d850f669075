"""``[[interventions]]``: the levers planners pull — outreach, help points, rules — in some units, for a period.

*Scenario.* Lạng Sơn's campaign runs in every unit from 6 June to 31 December 2024: outreach, counter staff
guiding citizens (cầm tay chỉ việc), and VNeID enrolment with the police. An outreach kind adds its intensity
to the Generalized Bass effort x(t); the other kinds each lower one barrier in the agent model.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from motcua.scenario.common import ALL_UNITS, check_period
from motcua.typed_config import FieldProblem, spec

InterventionKind = Literal[
    "community_digital_team",
    "counter_guidance",
    "post_office_help",
    "qr_at_counter",
    "online_fee_reduction",
    "refuse_in_person_filing",
    "vneid_drive",
    "information_campaign",
]
OUTREACH_KINDS = ("information_campaign", "community_digital_team", "post_office_help")
"""Intervention kinds whose intensity adds to the Generalized Bass effort x(t); the others act on a barrier."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Intervention:
    """A lever planners pull: outreach, help or a rule, in some units, for a period, at a cost."""

    kind: InterventionKind = spec("kind of lever")
    start: dt.date = spec("first day in effect")
    end: dt.date = spec("last day in effect")
    units: tuple[str, ...] = spec("unit ids it covers, or ['*'] for all", (ALL_UNITS,))
    intensity: float = spec("strength of the lever; for outreach kinds the effort added to x(t), 1 = a full "
                            "campaign", 1.0, ge=0)
    capacity_per_day: float | None = spec("citizens it can help per day per unit", None, unit="per day", ge=0)
    cost_vnd: int = spec("total cost", 0, unit="VND", money=True)
    guidance_minutes: float | None = spec("officer minutes per guided citizen (counter_guidance)", None,
                                          unit="minutes", gt=0)
    fee_reduction_share: float | None = spec("share of the fee waived when paid online (online_fee_reduction)",
                                             None, share=True)
    name: str = spec("label for reports, in Vietnamese", "")
    name_en: str = spec("the label in English, for `--lang en` reports (default: name)", "")

    def check(self) -> None:
        check_period(self.start, self.end, "start", "end")
        if self.kind == "counter_guidance" and self.guidance_minutes is None:
            raise FieldProblem("guidance_minutes", None,
                               "counter_guidance needs guidance_minutes (officer minutes per guided citizen)")
        if self.kind == "online_fee_reduction" and self.fee_reduction_share is None:
            raise FieldProblem("fee_reduction_share", None, "online_fee_reduction needs fee_reduction_share")

    def covers(self, unit_id: str) -> bool:
        return ALL_UNITS in self.units or unit_id in self.units

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end
