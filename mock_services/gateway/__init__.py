"""The national payment platform (gateway), as a mock service: ``python -m motcua.mock_services.gateway``.

The folder follows a payment through the gateway:

    config.py       `GatewayConfig`: how one gateway process behaves (its command line is generated from it)
    requests.py     what reaches the gateway, checked: a create request, a bank's verdict, an IPN's answer
    ledger.py       payments, the IPN outbox and VNPay orders in SQLite, one transaction per step
    app.py          `Gateway`: the JSON API, the banks' notifications, IPN delivery, expiry and bank inquiry
    vietqr.py       the VietQR front: a payment's dynamic QR, shown at the counter
    vnpay/          the VNPay 2.1.0 front: the payment URL, the payer's page, return and IPN, querydr/refund
    openapi.py      the OpenAPI document of all of it (``GET /openapi.json``)

The scenario is `mock_services.gateway.app`'s docstring; the contract docs/contracts.md §1 (VNPay §1b).
"""

from motcua.mock_services.gateway.app import ACK_CODES, GATEWAY, Gateway, build_app, main
from motcua.mock_services.gateway.config import DEFAULT_IPN_DELAYS_S, GatewayConfig, parse_schedule

__all__ = [
    "ACK_CODES",
    "DEFAULT_IPN_DELAYS_S",
    "GATEWAY",
    "Gateway",
    "GatewayConfig",
    "build_app",
    "main",
    "parse_schedule",
]
