"""VietQR at the counter: ``GET /payments/{payment_id}/vietqr`` gives a payment's dynamic VietQR.

Scene: the officer files the dossier, the gateway creates its payment, and instead of a link the officer
shows the citizen a QR (`mock_services.common.vietqr`: NAPAS EMVCo, dynamic, the amount and the payment id
as bill number). The citizen's bank app scans it; the bank mock's ``POST /vietqr/pay`` checks it out at the
gateway and charges it, and from there it is any other payment (bank notification, IPN, reconciliation).
JSON by default (payload, amount, collection account, ``png_url``); ``?format=png`` is the QR image (segno).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from aiohttp import web
from motcua.mock_services.common import vietqr
from motcua.mock_services.common.http import json_response
from motcua.mock_services.common.openapi import STRING, VND, obj, operation, path_param
from motcua.mock_services.common.payments import State
from motcua.mock_services.errors import ApiError

if TYPE_CHECKING:
    from motcua.mock_services.gateway.app import Gateway

VIETQR_PATH = "/payments/{payment_id}/vietqr"
PAYABLE = (State.CREATED.value, State.AWAITING_BANK.value)


def payload_of(row) -> str:
    return vietqr.build(int(row["amount_vnd"]), row["payment_id"], f"HS {row['dossier_code']}")


def handler(gw: Gateway):
    async def get_vietqr(request: web.Request) -> web.Response:
        payment_id = request.match_info["payment_id"]
        row = gw.db.query_one("SELECT payment_id, amount_vnd, dossier_code, state FROM payments WHERE payment_id = ?",
                              (payment_id,))
        if row is None:
            raise ApiError(404, "payment_not_found", f"no payment {payment_id!r}", field="payment_id")
        if row["state"] not in PAYABLE:
            raise ApiError(409, "not_payable", f"payment {payment_id} is {row['state']}; a QR is only shown for a "
                           "payment still to be paid", field="payment_id")
        payload = payload_of(row)
        fmt = request.query.get("format", "json")
        if fmt == "png":
            import segno

            out = io.BytesIO()
            segno.make(payload, error="m", micro=False).save(out, kind="png", scale=6, border=4)
            return web.Response(body=out.getvalue(), content_type="image/png")
        if fmt != "json":
            raise ApiError(422, "invalid_field", f"format must be json or png, got {fmt!r}", field="format")
        return json_response({
            "payment_id": payment_id, "payload": payload, "amount_vnd": row["amount_vnd"],
            "bin": vietqr.COLLECTION_BIN, "account": vietqr.COLLECTION_ACCOUNT,
            "png_url": f"/payments/{payment_id}/vietqr?format=png",
        })

    return get_vietqr


def add_routes(app: web.Application, gw: Gateway) -> None:
    app.router.add_get(VIETQR_PATH, handler(gw))


PATHS = {VIETQR_PATH: {"get": operation(
    "The payment's dynamic VietQR (NAPAS EMVCo): payload string as JSON, or the QR image with ?format=png",
    parameters=[path_param("payment_id", "the payment"),
                {"name": "format", "in": "query", "required": False, "schema": {"enum": ["json", "png"]}}],
    errors=(404, 409, 422),
    ok={"200": {"description": "the QR", "content": {
        "application/json": {"schema": obj(["payment_id", "payload", "amount_vnd", "bin", "account", "png_url"],
                                           payment_id=STRING, payload=STRING, amount_vnd=VND, bin=STRING,
                                           account=STRING, png_url=STRING)},
        "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}}}}},
)}}
"""OpenAPI of the route (merged into the gateway's document)."""
