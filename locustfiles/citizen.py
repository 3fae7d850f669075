"""The citizen payer (người nộp): file a dossier online and pay its fee.

*Scenario*: Chị Hoàng Thị Lan needs a judicial record certificate (200,000 VND). She logs in with
VNeID — since 15 June 2024 a level-1 account may not pay online, so level-1 citizens are sent away —
fills in the dossier, opens the payment page, picks her bank, confirms the charge with the OTP her
bank sends, and lands on the return page that shows her dossier. At every step she may give up, or
make a mistake that sends her back to the start (the source reports' "one mistake and you start
again"); a restart after the dossier was submitted files a second dossier, as real citizens do.

`citizen_journey` is one such visit. It is timed by the caller from the *intended* arrival
(open model) or from the moment the user started it (closed model). Probabilities, groups, banks and
fees come from the scenario (`motcua.loadtest.params.JourneyParams`), payers from Faker ``vi_VN``
(`mock_services.common.people`). The identity step has no mock service: the VNeID level is drawn and
level 1 is refused, exactly as the portal's rule says, without an HTTP call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from motcua.loadtest.callbacks import Approval

if TYPE_CHECKING:
    from locust.contrib.fasthttp import FastHttpSession
    from motcua.locustfiles.officer import OfficerDesk
    from motcua.mock_services.common.people import Person

    from motcua.loadtest.params import JourneyParams

WRONG_OTP = "000000"  # the bank mock's always-wrong OTP (docs/contracts.md §1)
GOOD_OTP = "123456"


class JourneyFailed(Exception):
    """A step of the journey got an answer the citizen could not go on with (a JOURNEY failure)."""


@dataclass
class Outcome:
    """How a citizen's visit ended: ``paid``, ``declined``, ``abandoned``, ``refused`` or ``failed``."""

    result: str
    step: str = ""
    detail: str = ""
    restarts: int = 0

    @property
    def name(self) -> str:
        if self.result in ("paid", "no_fee"):
            return f"citizen {self.result}"
        if self.result == "refused":
            return "citizen refused (VNeID level 1)"
        return f"citizen {self.result} at {self.step}"


class Restart(Exception):
    """The citizen made a mistake at `step` and starts again from the identity step."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


class PaymentWitness(Protocol):
    """What a visit tells the harness (`motcua.loadtest.plugin.Harness`): the bank's answer to each charge."""

    def approve(self, approval: Approval) -> None: ...
    def decline(self, payment_id: str, dossier_code: str) -> None: ...


class CitizenVisit:
    """One citizen's online visit: identity → dossier → payment page → bank → charge (OTP) → return page."""

    def __init__(self, client: FastHttpSession, params: JourneyParams, rng: np.random.Generator, person: Person,
                 urls: dict[str, str], harness: PaymentWitness, desk: OfficerDesk) -> None:
        self.client, self.params, self.rng, self.person = client, params, rng, person
        self.urls, self.harness, self.desk = urls, harness, desk

    def run(self) -> Outcome:
        restarts = 0
        while True:
            try:
                outcome = self._attempt()
            except Restart as again:
                restarts += 1
                if restarts > self.params.max_restarts:
                    return Outcome("abandoned", again.step, "too many mistakes", restarts)
                continue
            except JourneyFailed as exc:
                outcome = Outcome("failed", exc.args[0], exc.args[1] if len(exc.args) > 1 else "")
            outcome.restarts = restarts
            return outcome

    # ------------------------------------------------------------------ the steps

    def _attempt(self) -> Outcome:
        if self._gives_up("identity"):
            return Outcome("abandoned", "identity")
        if self.rng.random() >= self.params.vneid_level2_share:
            return Outcome("refused", "identity")
        dossier = self.submit_dossier()
        if dossier["payment"] is None:
            return Outcome("no_fee", "dossier")
        payment_id = dossier["payment"]["payment_id"]
        # the payment page is the gateway's bank form; the mock serves it as the checkout call itself (pay_url)
        if self._gives_up("payment_page"):
            return Outcome("abandoned", "payment_page")
        if self._gives_up("bank_choice"):
            return Outcome("abandoned", "bank_choice")
        bank = self.params.choose_bank(self.rng)
        checkout = self.choose_bank(dossier["payment"], bank)
        if self._gives_up("charge"):
            return Outcome("abandoned", "charge")
        charge = self.charge(checkout, bank)
        if charge["response_code"] != "00":
            self.harness.decline(payment_id, dossier["dossier_code"])
            return Outcome("declined", "charge", charge["response_code"])
        self.harness.approve(
            Approval(
                payment_id,
                dossier["dossier_code"],
                bank,
                self.group,
                int(charge.get("amount_vnd", dossier["amount_vnd"])),  # what the bank charged
                float(charge["approved_at"]),
            )
        )
        self.return_page(charge.get("return_url") or f"{self.urls['agency']}/dossiers/{dossier['dossier_code']}")
        self.desk.watch(dossier["dossier_code"], time.time(), bank, self.group)
        return Outcome("paid", "return_page")

    def _gives_up(self, step: str) -> bool:
        """Abandon at `step` (True), or make a mistake there and start again (raises `Restart`)."""
        if self.rng.random() < self.params.abandon[step]:
            return True
        if self.rng.random() < self.params.mistake_restart[step] and step != "charge":
            raise Restart(step)
        return False

    def submit_dossier(self) -> dict:
        self.group = self.params.choose_group(self.rng)
        procedure = self.params.choose_procedure(self.group, self.rng)
        body = {"procedure_code": procedure.code, "payer": self.person.payer(), "group": self.group}
        return self._json("POST", f"{self.urls['agency']}/dossiers", "dossier", name="/dossiers", json=body)

    def choose_bank(self, payment: dict, bank: str) -> dict:
        url = payment.get("pay_url") or f"{self.urls['gateway']}/payments/{payment['payment_id']}/checkout"
        if "/paymentv2/vpcpay.html" in url:  # an agency integrating by VNPay: open the signed URL, then choose
            page = self._json("GET", url, "payment_page", name="/paymentv2/vpcpay.html", accept_json=True)
            url = f"{self.urls['gateway']}{page['choose_url']}"
            return self._json("POST", url, "bank_choice", name="/paymentv2/pay/[id]", json={"bank_code": bank})
        return self._json("POST", url, "bank_choice", name="/payments/[id]/checkout", json={"bank_code": bank})

    def charge(self, checkout: dict, bank: str) -> dict:
        url = checkout.get("charge_url") or f"{self.urls['bank']}/charge"
        if self.rng.random() < self.params.mistake_restart["charge"]:
            # a mistyped OTP: the bank refuses it (400 wrong_otp, expected), and the citizen starts again
            body = {"charge_token": checkout["charge_token"], "bank_code": bank, "otp": WRONG_OTP}
            with self.client.post(url, json=body, name="/charge (wrong OTP)", catch_response=True) as resp:
                if resp.status_code == 400:
                    resp.success()
                else:
                    resp.failure(f"wrong OTP answered {resp.status_code}, expected 400 wrong_otp")
            raise Restart("charge")
        body = {"charge_token": checkout["charge_token"], "bank_code": bank, "otp": GOOD_OTP}
        return self._json("POST", url, "charge", name="/charge", json=body)

    def return_page(self, url: str) -> None:
        self._json("GET", url, "return_page", name="/dossiers/[code] (return page)", parse=False)

    def _json(self, method: str, url: str, step: str, *, name: str, json: dict[str, Any] | None = None,
              parse: bool = True, accept_json: bool = False) -> Any:
        headers = {"Accept": "application/json"} if accept_json else None
        with self.client.request(method, url, name=name, json=json, headers=headers, catch_response=True) as resp:
            if not 200 <= resp.status_code < 300:
                text = (resp.text or "")[:200]
                resp.failure(f"{resp.status_code}: {text}")
                raise JourneyFailed(step, f"{name} answered {resp.status_code}")
            if not parse:
                return None
            try:
                return resp.json()
            except ValueError:
                resp.failure("answer is not JSON")
                raise JourneyFailed(step, f"{name} answered non-JSON") from None
