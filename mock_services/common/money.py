"""Money: Vietnamese đồng (VND) as integers, never floats.

The đồng has no minor unit in use, so every amount is a whole number of VND. Amounts that cross a
boundary (a JSON body, a scenario file, a CSV) go through `parse_vnd`, which refuses floats,
booleans, strings and negative values with a message naming the field.
"""

from __future__ import annotations

MAX_VND = 10**15
"""Upper bound on any single amount (a quadrillion đồng), far above any fee; guards overflow bugs."""


class MoneyError(ValueError):
    """An amount is not a valid whole number of VND."""


def parse_vnd(value: object, field: str = "amount_vnd", *, allow_zero: bool = True) -> int:
    """Return `value` as an int amount of VND, or raise `MoneyError` naming `field` and the value."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(
            f"{field} must be a whole number of VND (an integer, e.g. 200000), got {value!r}"
        )
    if value < 0:
        raise MoneyError(f"{field} must not be negative, got {value}")
    if value == 0 and not allow_zero:
        raise MoneyError(f"{field} must be above zero, got 0 (a free procedure creates no payment)")
    if value > MAX_VND:
        raise MoneyError(f"{field} is implausibly large: {value} > {MAX_VND}")
    return value


def format_vnd(amount: int) -> str:
    """Format as Vietnamese print does: ``200.000 ₫`` (dot as thousands separator)."""
    parse_vnd(amount, "amount")
    return f"{amount:,}".replace(",", ".") + " ₫"
