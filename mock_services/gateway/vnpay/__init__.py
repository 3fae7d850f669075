"""The gateway's VNPay 2.1.0 front: VNPay's wire format over the gateway's one ledger (docs/contracts.md §1b).

    pay_url.py       the signed payment URL (``/paymentv2/vpcpay.html``), checked field by field
    front.py         `VnpayFront`: the payer's page, checkout, cancel, the return redirect and the IPN GET
    transaction.py   querydr and refund (``POST /merchant_webapi/api/transaction``), signed both ways
    records.py       every IPN sent and its answer, for measuring a merchant under test
    openapi.py       the routes' part of the gateway's OpenAPI document
"""

from motcua.mock_services.gateway.vnpay.front import VnpayFront, add_routes

__all__ = ["VnpayFront", "add_routes"]
