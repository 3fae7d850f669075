"""VietQR at the one-stop-shop counter (Sơn La's QR lever): the officer shows a QR, the citizen pays it by phone.

*Scenario*: Bà Lò Thị Hoa brings her dossier to the counter of a district's one-stop shop. The officer
(cán bộ một cửa) files it in the agency's system, which creates the payment at the gateway, and turns the
screen: a dynamic VietQR with the fee and the payment's id (``GET /payments/{id}/vietqr``; now and then
the officer prints it, ``?format=png``). Bà Hoa scans it with her bank's app and confirms with the OTP (the
bank mock's ``POST /vietqr/pay``). The officer refreshes the dossier until it says paid — the moment the
counter can go on — and the next citizen steps up. Each officer is one Locust user (a counter).

    locust -f locustfiles/counter_qr.py --headless --host AGENCY_URL --counter-gateway-url GATEWAY_URL \\
        --counter-bank-url BANK_URL -u 4 -r 4 --run-time 30s

Request names: ``counter: file dossier``, ``counter: show VietQR``, ``citizen: pay VietQR``, ``counter:
dossier paid?``; the ``COUNTER`` entry ``QR shown → dossier paid`` is the wait at the counter.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from locust import FastHttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project root, for `mock_services`

from motcua.mock_services.common.people import PeopleGenerator

PROCEDURES = ("LLTP", "HKD", "GCN-QSDD", "GPXD")
"""Fee-bearing procedures of scenarios/fee-catalogue.toml filed at the counter."""
BANKS = ("VIETCOMBANK", "VIETINBANK", "BIDV", "AGRIBANK", "TECHCOMBANK")
PAID = ("paid", "paid_by_reconciliation")
PRINT_EVERY = 5
"""Every fifth QR is also printed (the PNG)."""


@events.init_command_line_parser.add_listener
def _args(parser, **_kw) -> None:
    group = parser.add_argument_group("counter", "VietQR at the counter")
    group.add_argument("--counter-gateway-url", default="", help="gateway base URL")
    group.add_argument("--counter-bank-url", default="", help="bank base URL")
    group.add_argument("--counter-seed", type=int, default=1, help="seed of the citizens")
    group.add_argument("--counter-wait-s", type=float, default=30.0, help="how long the officer waits for paid")


class CounterOfficer(FastHttpUser):
    """One counter: file → show the QR → the citizen pays by phone → wait for paid → next citizen."""

    wait_time = between(0.2, 1.0)
    _counters = iter(range(1_000_000))

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        self.gateway, self.bank = opts.counter_gateway_url.rstrip("/"), opts.counter_bank_url.rstrip("/")
        self.number = next(self._counters)
        self.people = PeopleGenerator(opts.counter_seed * 1000 + self.number)
        self.served = 0

    @task
    def serve_a_citizen(self) -> None:
        person = self.people.person()
        procedure = PROCEDURES[self.served % len(PROCEDURES)]
        bank = BANKS[(self.served + self.number) % len(BANKS)]
        self.served += 1
        with self.client.post("/dossiers", json={"procedure_code": procedure, "payer": person.payer()},
                              name="counter: file dossier", catch_response=True) as resp:
            if resp.status_code != 201:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
                return
            dossier = resp.json()
        payment_id = dossier["payment"]["payment_id"]
        with self.client.get(f"{self.gateway}/payments/{payment_id}/vietqr", name="counter: show VietQR",
                             catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}")
                return
            qr = resp.json()
        shown_at = time.time()
        if self.served % PRINT_EVERY == 0:
            self.client.get(f"{self.gateway}{qr['png_url']}", name="counter: print VietQR (PNG)")
        with self.client.post(f"{self.bank}/vietqr/pay", json={"payload": qr["payload"], "bank_code": bank,
                                                               "otp": "123456"},
                              name="citizen: pay VietQR", catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
                return
            if resp.json().get("response_code") != "00":
                return  # declined by her bank: she will come back another day
        self._wait_until_paid(dossier["dossier_code"], shown_at)

    def _wait_until_paid(self, code: str, shown_at: float) -> None:
        limit = shown_at + self.environment.parsed_options.counter_wait_s
        while time.time() < limit:
            resp = self.client.get(f"/dossiers/{code}", name="counter: dossier paid?")
            if resp.status_code == 200 and resp.json().get("status") in PAID:
                self._counter_sample((time.time() - shown_at) * 1000, None)
                return
            time.sleep(0.2)
        self._counter_sample((time.time() - shown_at) * 1000, RuntimeError(f"{code} not paid in time"))

    def _counter_sample(self, ms: float, error: Exception | None) -> None:
        self.environment.events.request.fire(request_type="COUNTER", name="QR shown → dossier paid",
                                             response_time=ms, response_length=0, exception=error, context={})
