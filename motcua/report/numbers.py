"""Numbers, shares, durations and dates as the report writes them — the one format of its tables and charts.

*Scenario.* A planner reads "1,8 giờ/ngày" in a table and must read "1,8" on the chart beside it, not "1.8":
Vietnamese writes a decimal comma and a thousands dot (1.234,5), English the reverse (1,234.5); dates are
dd/mm/yyyy in Vietnamese. The tables (`motcua.report.sections`) format with `number`, `percent`, `duration`
and `day`; the charts put `NumberFormatter` (or `percent_formatter`) on their axes through `localize_axes`,
which `motcua.report.style.save` applies to every chart drawn for a language, so both say the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.ticker import Formatter

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """A number with thousands separators: '1.234,5' in Vietnamese, '1,234.5' in English; None → '—'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    out = f"{value:,.{digits}f}"
    if out.startswith("-") and float(out.replace(",", "")) == 0:
        out = out[1:]  # no "-0,0"
    if lang == "vi":
        out = out.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return out


def percent(value: float | None, lang: str, digits: int = 1) -> str:
    """A share as a percentage, with the decimal comma in Vietnamese (0.1734 → '17,3%')."""
    return "—" if value is None else number(100 * value, lang, digits) + "%"


SECONDS_WORDS = {"vi": ("giây", "phút", "giờ"), "en": ("s", "min", "h")}


def duration(value: float | None, lang: str) -> str:
    """A duration given in seconds, in the unit a reader expects: '850 ms', '4,2 giây', '12 phút', '1,5 giờ'."""
    if value is None:
        return "—"
    sec, minute, hour = SECONDS_WORDS.get(lang, SECONDS_WORDS["en"])
    if value < 1:
        return f"{number(value * 1000, lang)} ms"
    if value < 120:
        return f"{number(value, lang, 0 if float(value).is_integer() else 1)} {sec}"
    if value < 2 * 3600:
        minutes = value / 60
        return f"{number(minutes, lang, 0 if minutes.is_integer() else 1)} {minute}"
    hours = value / 3600
    return f"{number(hours, lang, 0 if hours.is_integer() else 1)} {hour}"


def day(iso: str | None, lang: str) -> str:
    """An ISO date as dd/mm/yyyy in Vietnamese, unchanged in English."""
    if not iso:
        return "—"
    year, month, dom = str(iso)[:10].split("-")
    return f"{dom}/{month}/{year}" if lang == "vi" else str(iso)[:10]


def moment(iso: str | None, lang: str) -> str:
    """An ISO timestamp as its day (`day`) and minute: '08/12/2026 00:35' in Vietnamese, '2026-12-08 00:35' in
    English (the seconds, fraction and offset of a manifest's ``started_at`` dropped: the text says UTC)."""
    if not iso:
        return "—"
    text = str(iso)
    return f"{day(text, lang)} {text[11:16]}".rstrip() if len(text) > 10 else day(text, lang)


def digits_for(values: Sequence[float], most: int = 6) -> int:
    """The fewest decimals that tell every tick value apart as the locator placed it (0.5, 1.0, 1.5 → 1)."""
    finite = [v for v in values if math.isfinite(v)]
    for digits in range(most + 1):
        scale = 10**digits
        if all(abs(v * scale - round(v * scale)) <= 1e-6 * max(1.0, abs(v * scale)) for v in finite):
            return digits
    return most


class NumberFormatter(Formatter):
    """Tick labels in the report's number format: ``NumberFormatter("vi")`` labels 0.5, 1.0, 1.5 as
    '0,5', '1,0', '1,5' and 12000 as '12.000'; `scale` and `suffix` make a percentage axis (100, '%')."""

    def __init__(self, lang: str, *, scale: float = 1.0, suffix: str = "") -> None:
        self.lang = lang
        self.scale = scale
        self.suffix = suffix
        self.digits = 0

    def format_ticks(self, values: Any) -> list[str]:
        self.digits = digits_for([self.scale * float(v) for v in values])
        return [self(v, i) for i, v in enumerate(values)]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return number(self.scale * x, self.lang, self.digits) + self.suffix


def percent_formatter(lang: str) -> NumberFormatter:
    """Tick labels of a share axis (0–1) as percentages: 0.25 → '25%', 0.125 → '12,5%' in Vietnamese."""
    return NumberFormatter(lang, scale=100.0, suffix="%")


def localize_axes(fig: Figure, lang: str) -> None:
    """Put the report's number format on every axis of `fig` still showing Matplotlib's default numbers, and
    dd/mm/yyyy-style dates on date axes in Vietnamese; formatters a chart chose itself stay as they are."""
    from matplotlib.dates import AutoDateFormatter, ConciseDateFormatter, DateFormatter
    from matplotlib.ticker import ScalarFormatter

    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if type(formatter) is ScalarFormatter and axis.get_scale() == "linear":
                axis.set_major_formatter(NumberFormatter(lang))
            elif lang == "vi" and isinstance(formatter, AutoDateFormatter | ConciseDateFormatter):
                axis.set_major_formatter(DateFormatter("%m/%Y"))
