"""An in-process merchant integrating VNPay 2.1.0, careful or careless, for `motcua loadtest --merchant` tests.

The careful one checks the signature (97), the order (01), the amount (04), and credits once (02 after);
the careless one answers 00 to every IPN and credits each time — what a merchant that skips the checks
does, and what the load test must catch (a 00 to a tampered IPN, a second credit).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from helpers_mock_http import ServerThread
from motcua.mock_services.common import vnpay_wire as wire
from motcua.mock_services.common.vnpay_terminals import default_terminal


class PyMerchant:
    """POST /orders → pay_url; GET /vnpay/ipn; GET /vnpay/return; GET /orders/{ref} → {paid, credits}."""

    def __init__(self, gateway_port: int, *, careful: bool = True) -> None:
        self.careful = careful
        self.gateway = f"http://127.0.0.1:{gateway_port}"
        terminal = default_terminal()
        self.tmn, self.secret = terminal.tmn_code, terminal.hash_secret.encode()
        self.orders: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/orders", self.create)
        app.router.add_get("/orders/{ref}", self.status)
        app.router.add_get("/vnpay/ipn", self.ipn)
        app.router.add_get("/vnpay/return", self.back)
        self.server = ServerThread(app)
        self.url = self.server.url

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        ref = f"PY{int(time.time())}{next(self._ids):06d}"
        amount = int(body["amount_vnd"])
        self.orders[ref] = {"amount_vnd": amount, "credits": 0}
        now = time.time()
        params = {"vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": self.tmn,
                  "vnp_Amount": str(amount * 100), "vnp_CurrCode": "VND", "vnp_TxnRef": ref,
                  "vnp_OrderInfo": f"Le phi {body.get('procedure', '')}", "vnp_OrderType": "other",
                  "vnp_Locale": "vn", "vnp_ReturnUrl": f"{self.url}/vnpay/return", "vnp_IpAddr": "127.0.0.1",
                  "vnp_CreateDate": wire.vn_time(now), "vnp_ExpireDate": wire.vn_time(now + 900)}
        return web.json_response({"order": {"ref": ref, "pay_url": wire.payment_url(self.gateway, self.secret,
                                                                                     params)}})

    async def status(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["ref"])
        if order is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response({"paid": order["credits"] > 0, "credits": order["credits"]})

    async def ipn(self, request: web.Request) -> web.Response:
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        order = self.orders.get(params.get("vnp_TxnRef", ""))
        if not self.careful:
            if order is not None:
                order["credits"] += 1
            return web.json_response({"RspCode": "00", "Message": "Confirm Success"})
        if not wire.verify_params(params, self.secret):
            code = "97"
        elif order is None:
            code = "01"
        elif params.get("vnp_Amount") != str(order["amount_vnd"] * 100):
            code = "04"
        elif order["credits"]:
            code = "02"
        else:
            code = "00"
            if params.get("vnp_ResponseCode") == "00":
                order["credits"] += 1
        return web.json_response({"RspCode": code, "Message": wire.IPN_ANSWERS[code]})

    async def back(self, request: web.Request) -> web.Response:
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        return web.Response(text=f"verified={wire.verify_params(params, self.secret)}")

    def stop(self) -> None:
        self.server.stop()


def merchant_file(path: Path, merchant_url: str, gateway_port: int, *, status: bool = True) -> Path:
    text = (
        f'name = "python test merchant"\ngateway_port = {gateway_port}\n\n[start]\nmethod = "POST"\n'
        f'url = "{merchant_url}/orders"\n'
        'body = { amount_vnd = "{amount_vnd}", name = "{name}", phone = "{phone}", procedure = "{procedure}" }\n'
        'pay_url_in = "json"\npay_url_field = "order.pay_url"\n\n'
        f'[ipn]\nurl = "{merchant_url}/vnpay/ipn"\n'
    )
    if status:
        text += (f'\n[status]\nurl = "{merchant_url}/orders/{{txn_ref}}"\npaid_field = "paid"\n'
                 'credits_field = "credits"\n')
    path.write_text(text, encoding="utf-8")
    return path
