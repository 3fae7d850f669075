"""A citizen paying at a merchant system under test that integrates VNPay 2.1.0 (``--protocol vnpay --merchant``).

*Scenario*: Anh Phạm Văn Đức pays his business-registration fee on a district's portal, which its vendor
built against VNPay. He starts the payment on the portal (the merchant file's ``[start]``: method, URL,
a body filled with his Faker ``vi_VN`` details and the fee), the portal sends his browser to
``vpcpay.html`` — here, motcua's VNPay front — he picks his bank, confirms with the OTP, and comes back
through the gateway's return redirect to the portal's return page. If the portal has a status page, he
keeps it open until it says paid (`StatusDesk`, the ``status_sees_paid`` metric, by bank and group).

If the portal needs a session, he logs in first (``[login]``: the cookies stay with his visit), and the
start request carries the file's headers. Most citizens pay; a share cancel at the payer page (the
merchant file's ``cancel_share``: the gateway sends them back with ``vnp_ResponseCode=24``,
``vnp_TransactionNo=0``, bank code and card type present, so the merchant's cancel path is exercised, and
its IPN judged) and a share abandon it (``abandon_share``: the payment stays open until it expires). No
restarts, unlike `locustfiles.citizen`. CALLBACK is measured after the run from the gateway's own records
(`motcua.loadtest.merchant`).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import gevent.pool
from motcua.locustfiles.citizen import GOOD_OTP, JourneyFailed, Outcome
from motcua.locustfiles.officer import OfficerDesk

from motcua.loadtest.callbacks import POLL_CONTEXT
from motcua.loadtest.merchant_file import START_REQUEST, MerchantFile, dig, request_kwargs

PAY_PATH = "/paymentv2/vpcpay.html"
STATUS_CONCURRENCY = 50
"""Status pages looked at at once (the session's connection pool has as many)."""


class MerchantVisit:
    """start at the merchant → the gateway's payer page → choose a bank → charge (OTP) → return page."""

    def __init__(self, client, params, rng, person, urls: dict[str, str], merchant: MerchantFile, desk, ref: str
                 ) -> None:
        self.client, self.params, self.rng, self.person = client, params, rng, person
        self.urls, self.merchant, self.desk, self.ref = urls, merchant, desk, ref

    def run(self) -> Outcome:
        try:
            return self._pay()
        except JourneyFailed as exc:
            return Outcome("failed", exc.args[0], exc.args[1] if len(exc.args) > 1 else "")

    def _pay(self) -> Outcome:
        group = self.params.choose_group(self.rng)
        procedure = self.params.choose_procedure(group, self.rng)
        payer = self.person.payer()
        values = {**payer, "email": f"{payer['phone']}@example.vn", "amount_vnd": procedure.fee_vnd,
                  "procedure": procedure.code, "group": group, "ref": self.ref}
        if self.merchant.login is not None:
            self.login(values)
        pay_url = self.start(values)
        txn_ref = dict(parse_qsl(urlsplit(pay_url).query)).get("vnp_TxnRef", "")
        page = self.payer_page(pay_url)
        draw = self.rng.random()
        if draw < self.merchant.cancel_share:
            self.cancel(page)
            return Outcome("abandoned", "cancel", "cancelled at the payer page (24)")
        if draw < self.merchant.cancel_share + self.merchant.abandon_share:
            return Outcome("abandoned", "payment_page", "left the payer page")
        bank = self.params.choose_bank(self.rng)
        chosen = self._call("POST", f"{self.urls['gateway']}{page['choose_url']}", "bank_choice",
                            name="/paymentv2/pay/[id]", json={"bank_code": bank})
        verdict = self._call("POST", chosen["charge_url"], "charge", name="/charge",
                             json={"charge_token": chosen["charge_token"], "bank_code": bank, "otp": GOOD_OTP})
        if verdict.get("response_code") != "00":
            return Outcome("declined", "charge", str(verdict.get("response_code")))
        approved_at = float(verdict.get("approved_at") or time.time())
        self.return_page(chosen["return_url"])
        if self.desk is not None and txn_ref:
            self.desk.watch(txn_ref, approved_at, bank, group)
        return Outcome("paid", "return_page")

    # ------------------------------------------------------------------ the steps

    def login(self, values: dict[str, Any]) -> None:
        """The merchant's login route (``[login]``); the session keeps its cookies for the start request."""
        assert self.merchant.login is not None
        url, kwargs = request_kwargs(self.merchant.login, values)
        with self.client.request(self.merchant.login.method, url, name="merchant: login", catch_response=True,
                                 allow_redirects=False, **kwargs) as resp:
            if not 200 <= resp.status_code < 400:
                resp.failure(f"{resp.status_code}")
                raise JourneyFailed("merchant_login", f"login answered {resp.status_code}")
            resp.success()

    def cancel(self, page: dict[str, Any]) -> None:
        """Cancel at the payer page: the gateway redirects to the merchant's return page with code 24."""
        with self.client.post(f"{self.urls['gateway']}{page['cancel_url']}", name="/paymentv2/cancel/[id]",
                              allow_redirects=False, catch_response=True) as resp:
            location = resp.headers.get("Location") if resp.status_code == 302 else None
            if location is None:
                resp.failure(f"{resp.status_code}")
                raise JourneyFailed("cancel", f"cancel answered {resp.status_code} without a redirect")
            resp.success()
        self.merchant_return(location)

    def start(self, values: dict[str, Any]) -> str:
        """The merchant's start route; the vpcpay.html URL from its JSON answer or its redirect."""
        start = self.merchant.start
        url, kwargs = request_kwargs(start, values)
        with self.client.request(start.method, url, name=START_REQUEST, allow_redirects=False,
                                 catch_response=True, **kwargs) as resp:
            if start.pay_url_in == "redirect":
                pay_url = resp.headers.get("Location") if resp.status_code in (301, 302, 303, 307) else None
            else:
                pay_url = dig(_json(resp), start.pay_url_field) if 200 <= resp.status_code < 300 else None
            if not isinstance(pay_url, str) or PAY_PATH not in pay_url:
                problem = f"answered {resp.status_code} without a {PAY_PATH} URL ({start.pay_url_in})"
                resp.failure(problem)
                raise JourneyFailed("merchant_start", problem)
            resp.success()
        return pay_url

    def payer_page(self, pay_url: str) -> dict[str, Any]:
        """The gateway's payer page (JSON); a refused URL redirects to the error page, which names the field."""
        with self.client.get(pay_url, name=PAY_PATH, allow_redirects=False, catch_response=True,
                             headers={"Accept": "application/json"}) as resp:
            if resp.status_code == 302:
                error = dict(parse_qsl(urlsplit(resp.headers.get("Location", "")).query))
                problem = f"the gateway refused the merchant's URL: code {error.get('code')} {error.get('field')}"
                resp.failure(problem)
                raise JourneyFailed("payment_page", problem)
            page = _json(resp)
            if resp.status_code != 200 or not isinstance(page, dict) or "choose_url" not in page:
                resp.failure(f"{resp.status_code}")
                raise JourneyFailed("payment_page", f"payer page answered {resp.status_code}")
            resp.success()
        return page

    def return_page(self, gateway_return: str) -> None:
        """The gateway's return redirect, then the merchant's return page (any 2xx/3xx counts)."""
        with self.client.get(gateway_return, name="/paymentv2/return/[id]", allow_redirects=False,
                             catch_response=True) as resp:
            location = resp.headers.get("Location") if resp.status_code == 302 else None
            if resp.status_code not in (200, 202, 302):
                resp.failure(f"{resp.status_code}")
                raise JourneyFailed("return_page", f"gateway return answered {resp.status_code}")
            resp.success()
        if location:
            self.merchant_return(location)

    def merchant_return(self, location: str) -> None:
        """The merchant's return page (vnp_ReturnUrl with the signed result); any 2xx/3xx counts."""
        with self.client.get(location, name="merchant: return page", allow_redirects=False,
                             catch_response=True) as resp:
            if not 200 <= resp.status_code < 400:
                resp.failure(f"{resp.status_code}")
                raise JourneyFailed("return_page", f"merchant return page answered {resp.status_code}")
            resp.success()

    def _call(self, method: str, url: str, step: str, *, name: str, json: Any = None) -> dict[str, Any]:
        with self.client.request(method, url, name=name, json=json, catch_response=True) as resp:
            data = _json(resp)
            if not 200 <= resp.status_code < 300 or not isinstance(data, dict):
                resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
                raise JourneyFailed(step, f"{name} answered {resp.status_code}")
            resp.success()
        return data


def _json(resp) -> Any:
    try:
        return resp.json()
    except (ValueError, TypeError):
        return None


class StatusDesk(OfficerDesk):
    """The citizen watching the merchant's status page until it says paid (``[status]`` of the merchant file)."""

    def __init__(self, client, merchant: MerchantFile, harness, *, poll_s: float, deadline_s: float) -> None:
        super().__init__(client, "", harness, poll_s=poll_s, deadline_s=deadline_s)
        self.merchant = merchant
        self.pool = gevent.pool.Pool(STATUS_CONCURRENCY)

    def statuses(self, codes: list[str]) -> list[str | None]:
        """Every citizen refreshes her own page: the orders are looked at concurrently, not one after another."""
        return list(self.pool.imap(self.status, codes))

    def status(self, code: str) -> str | None:
        status = self.merchant.status
        assert status is not None
        url = status.url.format_map({"txn_ref": code})
        with self.client.get(url, name="merchant: order status", catch_response=True, context=POLL_CONTEXT) as resp:
            data = _json(resp)
            if resp.status_code != 200 or data is None:
                resp.failure(f"{resp.status_code}")
                return None
            resp.success()
        return "paid" if dig(data, status.paid_field) is True else "not paid"
