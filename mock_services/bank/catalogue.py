"""The banks and e-wallets a bank service runs: the bundled catalogue and its loader.

The catalogue's declaration (fields, checks, error messages) is `motcua.payment_platform.BANK_CATALOGUE`.
The bundled file is ``mock_services/banks.toml`` (package data of ``motcua.mock_services``); its latencies,
notification delays and decline mixes are ASSUMED (illustrative), not measured.
"""

from __future__ import annotations

from pathlib import Path

from motcua.payment_platform import BANK_CATALOGUE, BankProfile
from motcua.resources import bundled

DEFAULT_CATALOGUE = bundled("motcua.mock_services", "banks.toml")


def load_catalogue(path: str | Path = DEFAULT_CATALOGUE) -> dict[str, BankProfile]:
    """The banks of a catalogue file by code (`motcua.payment_platform.BANK_CATALOGUE`: errors name file and field)."""
    return BANK_CATALOGUE.load(path).by_code()


DEFAULT_BANK_CODES = tuple(load_catalogue())
"""The codes of the bundled catalogue, in file order (the OpenAPI documents list them)."""
