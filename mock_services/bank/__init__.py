"""The banks and e-wallets, as one mock service: ``python -m motcua.mock_services.bank``.

    catalogue.py    the banks and e-wallets it runs (the bundled ``mock_services/banks.toml``, ASSUMED figures)
    config.py       `BankConfig`: how one bank service behaves (its command line is generated from it)
    app.py          `Bank`: the charge with an OTP, the verdict, the notification outbox to the gateway, inquiry
    vietqr.py       the bank app paying a scanned VietQR
    openapi.py      the OpenAPI document (``GET /openapi.json``)

The scenario is `mock_services.bank.app`'s docstring; the contract docs/contracts.md §1.
"""

from motcua.mock_services.bank.app import BANK, WRONG_OTP, Bank, build_app, main
from motcua.mock_services.bank.catalogue import DEFAULT_CATALOGUE, load_catalogue
from motcua.mock_services.bank.config import BankConfig

from motcua.payment_platform import BANK_CATALOGUE, BankCatalogueError, BankProfile

__all__ = [
    "BANK",
    "BANK_CATALOGUE",
    "DEFAULT_CATALOGUE",
    "WRONG_OTP",
    "Bank",
    "BankCatalogueError",
    "BankConfig",
    "BankProfile",
    "build_app",
    "load_catalogue",
    "main",
]
