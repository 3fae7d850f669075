"""Rules that values and tables of every configuration file obey: dates, money, shares, uniqueness, percentiles.

`Reader` applies the value rules (`parse_date`, `vnd_problem`) to every field of those kinds; a class's
``check`` calls the table rules (`check_share_sum`, `check_unique`, `check_percentile_order`), which raise
`FieldProblem` with the field's path relative to the table.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping

from motcua.typed_config.spec import FieldProblem

MAX_VND = 10**15
"""Upper bound on any single amount of money (a quadrillion đồng), far above any fee; guards overflow bugs."""
_SHARE_SUM_TOLERANCE = 1e-6
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(value: object) -> dt.date:
    """A TOML date or an ISO ``YYYY-MM-DD`` string; raises ValueError saying why a date is impossible."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date without a time (YYYY-MM-DD)")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a date, written YYYY-MM-DD (e.g. 2024-12-31)")
    match = _ISO_DATE.match(value.strip())
    if not match:
        raise ValueError("expected a date written YYYY-MM-DD (e.g. 2024-12-31)")
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"impossible date: there is no month {month}")
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    if not 1 <= day <= last:
        month_name = dt.date(year, month, 1).strftime("%B")
        raise ValueError(f"impossible date: {month_name} {year} has {last} days, not {day}")
    return dt.date(year, month, day)


def vnd_problem(value: object, *, allow_zero: bool = True) -> str | None:
    """Why `value` is not an amount of money (whole VND, 0 ≤ amount ≤ `MAX_VND`), or None if it is one.

    The rule of every amount that crosses a boundary; `mock_services.common.money.parse_vnd` words it
    for JSON bodies, `Reader` for configuration files.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number of VND (an integer, e.g. 200000)"
    if value < 0:
        return "must not be negative"
    if value == 0 and not allow_zero:
        return "must be above zero (a free procedure creates no payment)"
    if value > MAX_VND:
        return f"is implausibly large (above {MAX_VND:,} VND)"
    return None


def check_share_sum(values: Mapping[str, float], what: str, *, field: str = "") -> None:
    """Raise `FieldProblem` unless the shares in `values` sum to 1."""
    total = math.fsum(values.values())
    if abs(total - 1.0) > _SHARE_SUM_TOLERANCE:
        raise FieldProblem(
            field, dict(values), f"{what} must sum to 1, but they sum to {total:.6g}; adjust the shares"
        )


def check_unique(values: Iterable[object], field: str, key: str | None = None) -> None:
    """Raise `FieldProblem` at ``field[i].key`` for the first value of `values` seen before."""
    seen: set[object] = set()
    for i, value in enumerate(values):
        if value in seen:
            where = f"{field}[{i}].{key}" if key else f"{field}[{i}]"
            raise FieldProblem(where, value, "duplicate; each must be unique")
        seen.add(value)


def check_percentile_order(table: object, low: str, high: str, *, why: str = "") -> None:
    """The rule of every latency given by percentiles: the field `high` (a p95) is not below `low` (its p50).

    Raises `FieldProblem` at `high`: ``below <low> = <value>``, followed by ``; <why>`` when given.
    """
    low_value: float = getattr(table, low)
    high_value: float = getattr(table, high)
    if high_value < low_value:
        raise FieldProblem(high, high_value, f"below {low} = {low_value}" + (f"; {why}" if why else ""))
