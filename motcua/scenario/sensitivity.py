"""``[sensitivity]``: how far `motcua sensitivity` moves each assumed number.

*Scenario.* No source measures how much a QR code at the counter lowers the cash barrier (``qr_lift``, an
assumed default), so the study moves it ±30% (or the file's own range) and reports how much the answer
depends on it.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses

from motcua.typed_config import spec


@dataclasses.dataclass(frozen=True, kw_only=True)
class SensitivityRanges:
    """``[sensitivity]``: how far `motcua sensitivity` moves each number whose provenance is *assumed*.

    Every assumed number of the parts the simulation reads is varied between value × (1 − r) and value × (1 + r),
    cut to the field's own bounds; r is ``relative`` of the field's path (or of the provenance entry that covers
    it, e.g. ``citizens``), else ``default_relative``. r = 0 keeps the number fixed. Both defaults are *assumed*.
    """

    default_relative: float = spec("half-width of an assumed number's range, relative to its value (0.3: ±30%)",
                                   0.3, ge=0, le=0.95)
    relative: dict[str, float] = spec("field path (or provenance entry) → its own relative half-width",
                                      default_factory=dict, ge=0, le=0.95)
