"""``[[targets]]``: the policy targets — a share of fee-bearing dossiers paid online by a date.

*Scenario.* Decision 497 asks Lạng Sơn for 45% of fee-bearing dossiers paid online by the end of 2024.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import datetime as dt

from motcua.scenario.common import ALL_UNITS
from motcua.typed_config import spec


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    """A policy target: a share of fee-bearing dossiers paid online by a date."""

    share: float = spec("target share", share=True)
    date: dt.date = spec("deadline")
    units: tuple[str, ...] = spec("unit ids, or ['*'] for every unit", (ALL_UNITS,))
    name: str = spec("label, e.g. 'Decision 497'", "")
    source: str | None = spec("source id", None)
