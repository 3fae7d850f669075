"""Money: Vietnamese đồng (VND) as integers, never floats.

The đồng has no minor unit in use, so every amount is a whole number of VND. Amounts that cross a
boundary (a JSON body, a scenario file, a CSV) go through `parse_vnd`, which refuses floats,
booleans, strings and negative values with a message naming the field.
"""

from __future__ import annotations

from motcua.mock_services.errors import MoneyError as MoneyError

from motcua.typed_config import MAX_VND as MAX_VND  # the bound is the base layer's (motcua.typed_config)
from motcua.typed_config import vnd_problem


def parse_vnd(value: object, field: str = "amount_vnd", *, allow_zero: bool = True) -> int:
    """Return `value` as an int amount of VND, or raise `MoneyError` naming `field` and the value.

    The rule itself is `motcua.typed_config.vnd_problem`, the one configuration files are checked with.
    """
    problem = vnd_problem(value, allow_zero=allow_zero)
    if problem is not None:
        raise MoneyError(f"{field} {problem}, got {value!r}")
    assert isinstance(value, int)
    return value


def format_vnd(amount: int) -> str:
    """Format as Vietnamese print does: ``200.000 ₫`` (dot as thousands separator)."""
    parse_vnd(amount, "amount")
    return f"{amount:,}".replace(",", ".") + " ₫"
