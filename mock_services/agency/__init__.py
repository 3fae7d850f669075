"""The agency's electronic one-stop-shop system (Hệ thống một cửa điện tử), as a mock service:
``python -m motcua.mock_services.agency``.

    config.py       `AgencyConfig`: what one agency system needs to run (its command line is generated from it)
    ledger.py       dossiers, their payments, the IPN answers and the event journal in SQLite
    app.py          `Agency`: filing a dossier, asking the gateway for its payment, the IPN, reconciliation
    vnpay.py        the same agency integrating the gateway the VNPay 2.1.0 way (``--protocol vnpay``)
    openapi.py      the OpenAPI document (``GET /openapi.json``)

The scenario is `mock_services.agency.app`'s docstring; the contract docs/contracts.md §1 (VNPay §1c).
"""

from motcua.mock_services.agency.app import AGENCY, Agency, build_app, main
from motcua.mock_services.agency.config import PROTOCOLS, AgencyConfig
from motcua.mock_services.common.ids import DEFAULT_AGENCY_CODE

__all__ = ["AGENCY", "DEFAULT_AGENCY_CODE", "PROTOCOLS", "Agency", "AgencyConfig", "build_app", "main"]
