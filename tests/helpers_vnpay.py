"""A gateway + bank stack with a VNPay terminal whose IPNs go to an in-process merchant stub.

The stub checks each IPN GET with `mock_services.common.vnpay_wire` (97 on a bad signature, 04 on a
wrong amount) and otherwise answers by the script in the terminal's IPN URL (``?script=99,00``).
`VnpayStack.pay(...)` plays the citizen: payment URL → payer's page (JSON) → choose a bank → charge.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from aiohttp import web
from helpers_mock_http import ServerThread, call
from helpers_payment_stack import PaymentStack
from motcua.mock_services.common import vnpay_wire as wire

TMN = "TESTTMN1"
SECRET = "TEST-ONLY-vnpay-terminal-secret-0001"
OTHER_TMN = "TESTTMN2"
OTHER_SECRET = "TEST-ONLY-vnpay-terminal-secret-0002"
AGENCY = "000.00.12.H37"


class MerchantStub:
    """Answers VNPay IPN GETs like a careful merchant and records every one (params, signature verdict)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.amounts: dict[str, int] = {}
        """Expected wire amount by vnp_TxnRef (set by the test)."""
        self.script = "00"
        app = web.Application()
        app.router.add_get("/ipn", self.ipn)
        self.server = ServerThread(app)
        self.url = self.server.url

    async def ipn(self, request: web.Request) -> web.Response:
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        secret = OTHER_SECRET if params.get("vnp_TmnCode") == OTHER_TMN else SECRET
        ok = wire.verify_params(params, secret.encode())
        ref = params.get("vnp_TxnRef", "")
        index = self.counts[ref]
        self.counts[ref] += 1
        self.received.append({**params, "sig_ok": ok, "at": time.time(), "raw_query": request.query_string})
        script = self.script.split(",")
        code = script[min(index, len(script) - 1)]
        if not ok:
            code = "97"
        elif ref in self.amounts and params.get("vnp_Amount") != str(self.amounts[ref]):
            code = "04"
        return web.json_response({"RspCode": code, "Message": wire.IPN_ANSWERS.get(code, "stub")})

    def for_ref(self, ref: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r.get("vnp_TxnRef") == ref]

    def stop(self) -> None:
        self.server.stop()


def write_terminals(path: Path, ipn_url: str, *, signing: str = "x100") -> Path:
    path.write_text(
        f'[[terminals]]\ntmn_code = "{TMN}"\nhash_secret = "{SECRET}"\nipn_url = "{ipn_url}"\n'
        f'agency_code = "{AGENCY}"\nrefund_amount_signing = "{signing}"\n\n'
        f'[[terminals]]\ntmn_code = "{OTHER_TMN}"\nhash_secret = "{OTHER_SECRET}"\nipn_url = "{ipn_url}"\n'
        f'agency_code = "{AGENCY}"\nrefund_amount_signing = "vnd"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module", name="stack")
def vnpay_stack_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VnpayStack]:
    """Fixture ``stack``: a module's VnpayStack (import it and `no_faults_fixture` into the test module)."""
    st = VnpayStack(tmp_path_factory.mktemp("vnpay"))
    try:
        yield st
    finally:
        st.stop()


@pytest.fixture(autouse=True, name="no_faults")
def no_faults_fixture(stack: VnpayStack) -> Iterator[None]:
    """Each test starts without faults and with a merchant that confirms."""
    stack.clear_faults()
    stack.merchant.script = "00"
    yield


class VnpayStack(PaymentStack):
    """`PaymentStack` whose gateway has the test terminals; IPNs of both go to `merchant`."""

    def __init__(self, data_dir: Path, *, strict: bool = True, **kwargs: Any) -> None:
        """`strict`: the front refuses deviations from the documented contract (``--vnpay-strict``), as these
        tests of the contract expect; tests of what production merchants send pass False."""
        self.merchant = MerchantStub()
        data_dir.mkdir(parents=True, exist_ok=True)
        terminals = write_terminals(data_dir / "terminals.toml", f"{self.merchant.url}/ipn")
        strictness = ["--vnpay-strict", "true"] if strict else []
        super().__init__(data_dir, gateway_args=["--terminals", str(terminals), *strictness], **kwargs)

    def stop(self) -> None:
        super().stop()
        self.merchant.stop()

    def pay_params(self, ref: str, amount_vnd: int = 200_000, **overrides: Any) -> dict[str, str]:
        now = time.time()
        params = {
            "vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": TMN,
            "vnp_Amount": str(amount_vnd * 100), "vnp_CurrCode": "VND", "vnp_TxnRef": ref,
            "vnp_OrderInfo": f"Thanh toan ho so {ref}", "vnp_OrderType": "other", "vnp_Locale": "vn",
            "vnp_ReturnUrl": "http://127.0.0.1:9/vnpay/return", "vnp_IpAddr": "127.0.0.1",
            "vnp_CreateDate": wire.vn_time(now), "vnp_ExpireDate": wire.vn_time(now + 900),
        }
        params.update({k: str(v) for k, v in overrides.items()})
        return params

    def url_for(self, params: dict[str, str], secret: str = SECRET) -> str:
        return wire.payment_url(self.gateway_url, secret.encode(), params)

    def open(self, url: str) -> tuple[int, Any, str | None]:
        """GET a payment URL as JSON: (status, body, Location of a redirect)."""
        return get(url, accept_json=True)

    def pay(self, ref: str, amount_vnd: int = 200_000, bank: str = "VIETINBANK") -> dict[str, Any]:
        """Payment URL → page → choose → charge; returns the choose answer plus the bank's verdict."""
        params = self.pay_params(ref, amount_vnd)
        status, page, _ = self.open(self.url_for(params))
        assert status == 200, page
        status, chosen = call("POST", self.gateway_url + page["choose_url"], {"bank_code": bank})
        assert status == 200, chosen
        status, verdict = self.charge(chosen["charge_token"], bank)
        assert status == 200, verdict
        return {**chosen, "verdict": verdict, "page": page, "params": params}


def get(url: str, *, accept_json: bool = False) -> tuple[int, Any, str | None]:
    """One GET without following redirects: (status, JSON or text, Location)."""
    import http.client
    import json

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                     headers={"Accept": "application/json"} if accept_json else {})
        resp = conn.getresponse()
        data = resp.read()
        try:
            body: Any = json.loads(data) if data else None
        except ValueError:
            body = data.decode(errors="replace")
        return resp.status, body, resp.getheader("Location")
    finally:
        conn.close()


def query_of(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))


def api_body(command: str, secret: str = SECRET, **fields: Any) -> dict[str, Any]:
    """A signed querydr/refund body (pipe signature in the documented order)."""
    body = {"vnp_Version": "2.1.0", "vnp_Command": command, "vnp_TmnCode": TMN, **fields}
    order = wire.QUERYDR_REQUEST if command == "querydr" else wire.REFUND_REQUEST
    body["vnp_SecureHash"] = wire.pipe_hash(secret.encode(), body, order)
    return body


__all__ = ["AGENCY", "OTHER_SECRET", "OTHER_TMN", "SECRET", "TMN", "MerchantStub", "VnpayStack", "api_body", "get",
           "no_faults_fixture", "query_of", "urlencode", "vnpay_stack_fixture",
           "write_terminals"]
