"""Stateful fuzzing across the three mocks: dossier → payment → checkout → charge → bank notification → IPN
→ refund, with random detours (wrong OTPs, cancels, manual transfers, forged but signed bank notifications,
tampered, unsigned and duplicate IPNs, over-refunds), each request signed with the published TEST keys.

A seeded random walk, not a Hypothesis state machine: the servers keep their state between examples, so a
replayed sequence would take other branches and Hypothesis would call its own strategy flaky. Every answer
must be no 5xx and conform to the status, content type and body the service's document publishes; at the
end, after the retries settle and the agency reconciles, every payment the bank (or the holder of the bank's
key, or an officer) approved is paid at the agency exactly once for its amount, and nothing else is paid.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import jsonschema
import numpy as np
import pytest
import requests
from helpers_fuzz import Signer
from motcua.mock_services.common.catalogue import load_fee_catalogue
from motcua.mock_services.supervisor import MockStack, StackConfig

from motcua import safety

QUICK_JOURNEYS, SLOW_JOURNEYS = 25, 400
PAYER = {"name": "Nguyễn Văn An", "cccd": "020090001234", "phone": "0912345678"}



class Walk:
    """One seeded walk over the three services; counts the requests by service and operation."""

    def __init__(self, urls: dict[str, str], seed: int) -> None:
        self.urls, self.rng = urls, np.random.default_rng(seed)
        self.http = requests.Session()
        self.docs = {name: self.http.get(url + "/openapi.json", timeout=10).json() for name, url in urls.items()}
        self.banks = [b["code"] for b in self.http.get(urls["bank"] + "/banks", timeout=10).json()]
        self.procedures = [p.code for p in load_fee_catalogue()]
        self.counts: Counter = Counter()
        self.approved: dict[str, int] = {}
        """payment id → amount: what a bank (or the bank key's holder, or an officer) approved."""
        self.dossier_of: dict[str, str] = {}

    def send(self, service: str, method: str, template: str, *, path: str | None = None, body: Any = None,
             signer: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One request; checks it against the document and returns (status, JSON body)."""
        url = self.urls[service] + (path or template)
        auth = Signer(signer) if signer else None
        r = self.http.request(method, url, json=body, headers=headers, auth=auth, timeout=30)
        self.counts[(service, f"{method} {template}")] += 1
        assert r.status_code < 500, f"{service} {method} {url}: {r.status_code} {r.text[:300]}"
        responses = self.docs[service]["paths"][template][method.lower()]["responses"]
        assert str(r.status_code) in responses, f"{service} {method} {template} answered undocumented {r.status_code}"
        content = responses[str(r.status_code)].get("content", {})
        assert r.headers["Content-Type"].split(";")[0] in content, f"{method} {template}: {r.headers['Content-Type']}"
        data = r.json()
        schema = content["application/json"]["schema"]
        jsonschema.validate(data, {**schema, "components": self.docs[service]["components"]},
                            cls=jsonschema.Draft202012Validator)
        return r.status_code, data

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    # ------------------------------------------------------------------ one citizen

    def journey(self) -> None:
        body: dict[str, Any] = {"procedure_code": str(self.rng.choice(self.procedures)), "payer": PAYER}
        if self.chance(0.3):
            body["amount_vnd"] = int(self.rng.choice([0, 1, 25_000, 200_000, 10_000_000]))
        status, filed = self.send("agency", "POST", "/dossiers", body=body)
        assert status == 201, filed
        code = filed["dossier_code"]
        self.send("agency", "GET", "/dossiers/{code}", path=f"/dossiers/{code}")
        if filed["payment"] is None:
            return
        pid = filed["payment"]["payment_id"]
        self.dossier_of[pid] = code
        route = self.rng.choice(["bank", "bank", "bank", "cancel", "manual", "forged"])
        getattr(self, f"_{route}")(pid, filed["amount_vnd"])
        self._detours(pid, code, filed["amount_vnd"])

    def _bank(self, pid: str, amount: int) -> None:
        bank = str(self.rng.choice(self.banks))
        status, out = self.send("gateway", "POST", "/payments/{payment_id}/checkout",
                                path=f"/payments/{pid}/checkout", body={"bank_code": bank})
        assert status == 200, out
        if self.chance(0.2):  # another bank after checkout: 409
            other = next(b for b in self.banks if b != bank)
            assert self.send("gateway", "POST", "/payments/{payment_id}/checkout", path=f"/payments/{pid}/checkout",
                             body={"bank_code": other})[0] == 409
        if self.chance(0.2):
            status, _ = self.send("bank", "POST", "/charge", body={"charge_token": out["charge_token"],
                                                                    "bank_code": bank, "otp": "000000"})
            assert status == 400
        if self.chance(0.1):
            return  # the citizen walks away at the bank page: the sweep settles it by inquiry
        status, verdict = self.send("bank", "POST", "/charge", body={"charge_token": out["charge_token"],
                                                                      "bank_code": bank, "otp": "123456"})
        assert status == 200 and verdict["amount_vnd"] == amount
        if verdict["response_code"] == "00":
            self.approved[pid] = amount
        again = self.send("bank", "POST", "/charge", body={"charge_token": out["charge_token"], "bank_code": bank,
                                                            "otp": "654321"})[1]
        assert again["bank_txn_no"] == verdict["bank_txn_no"], "one charge per payment"
        self.send("bank", "GET", "/charges/{payment_id}", path=f"/charges/{pid}", signer="gateway")

    def _cancel(self, pid: str, amount: int) -> None:
        status, out = self.send("gateway", "POST", "/payments/{payment_id}/cancel", path=f"/payments/{pid}/cancel")
        assert status == 200 and out["state"] == "cancelled"
        assert self.send("gateway", "POST", "/payments/{payment_id}/cancel", path=f"/payments/{pid}/cancel")[0] == 409

    def _manual(self, pid: str, amount: int) -> None:
        status, _ = self.send("gateway", "POST", "/payments/{payment_id}/manual-transfer",
                              path=f"/payments/{pid}/manual-transfer", signer="agency")
        assert status == 200
        approved = self.chance(0.7)
        status, out = self.send("gateway", "POST", "/payments/{payment_id}/confirm-transfer",
                                path=f"/payments/{pid}/confirm-transfer", body={"approved": approved},
                                signer="agency")
        assert status == 200 and out["state"] == ("paid" if approved else "failed")
        if approved:
            self.approved[pid] = amount

    def _forged(self, pid: str, amount: int) -> None:
        """A notification signed with the bank's key for a charge the bank never made (the key is the bank's
        word); a wrong amount is refused, a right one applied."""
        self.send("gateway", "POST", "/payments/{payment_id}/checkout", path=f"/payments/{pid}/checkout",
                  body={"bank_code": self.banks[0]})
        code = str(self.rng.choice(["00", "00", "51", "24"]))
        wrong = self.chance(0.3)
        note = {"payment_id": pid, "bank_code": self.banks[0], "response_code": code,
                "bank_txn_no": "FORGED" + uuid.uuid4().hex[:12].upper(), "amount_vnd": amount + (1000 if wrong else 0),
                "approved_at": time.time() if code == "00" else None}
        status, out = self.send("gateway", "POST", "/bank-notifications", body=note, signer="bank")
        if wrong:
            assert status in (409, 422), out
        else:
            assert status == 200, out
            if code == "00":
                self.approved[pid] = amount

    def _detours(self, pid: str, code: str, amount: int) -> None:
        if self.chance(0.3):  # a tampered IPN (signed) and an unsigned one: refused by the agency
            ipn = {"payment_id": pid, "dossier_code": code, "amount_vnd": amount + 1, "response_code": "00"}
            assert self.send("agency", "POST", "/ipn", body=ipn, signer="gateway")[1]["RspCode"] == "04"
            assert self.send("agency", "POST", "/ipn", body={**ipn, "amount_vnd": amount})[1]["RspCode"] == "97"
        if self.chance(0.3):
            self.send("gateway", "GET", "/payments/{payment_id}", path=f"/payments/{pid}", signer="agency")
        if pid in self.approved and self.chance(0.4):
            share = float(self.rng.choice([0.3, 1.0, 1.5]))
            status, out = self.send("gateway", "POST", "/payments/{payment_id}/refund",
                                    path=f"/payments/{pid}/refund", body={"amount_vnd": max(1, int(amount * share))},
                                    signer="agency")
            assert status in (200, 409, 422), out  # 409 not paid yet (notification pending), 422 above the amount

    # ------------------------------------------------------------------ the end

    def settle(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            gateway = self.http.get(self.urls["gateway"] + "/stats", timeout=10).json()
            bank = self.http.get(self.urls["bank"] + "/stats", timeout=10).json()
            if not gateway["ipn"]["pending"] and not bank["notify"].get("pending", 0):
                return
            time.sleep(0.5)
        raise AssertionError(f"IPNs/notifications still pending after {timeout_s} s")

    def verify(self, started: float) -> dict[str, Any]:
        safety.reconcile(self.urls["agency"], safety.days_touched(started - 60, time.time()))
        lost, wrong, credited_without = [], [], []
        for pid, code in self.dossier_of.items():
            view = self.send("agency", "GET", "/dossiers/{code}", path=f"/dossiers/{code}")[1]
            assert view["credits"] <= 1
            paid = view["status"] in ("paid", "paid_by_reconciliation")
            if pid in self.approved and not paid:
                lost.append(code)
            if paid and pid not in self.approved:
                credited_without.append(code)
            if paid and view["amount_vnd"] != self.approved.get(pid):
                wrong.append(code)
        stats = self.send("agency", "GET", "/stats")[1]
        assert stats["double_credits"] == 0
        assert not (lost or wrong or credited_without), (lost[:5], wrong[:5], credited_without[:5])
        return stats


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("walk")
    with MockStack(StackConfig(data_dir=data, seed=5, time_scale=0.01,
                               extra_args={"bank": ["--latency-scale", "0"]})) as st:
        yield st


def _walk(stack: MockStack, journeys: int, seed: int) -> Walk:
    walk, started = Walk(stack.urls, seed), time.time()
    for _ in range(journeys):
        walk.journey()
    walk.settle()
    stats = walk.verify(started)
    print(f"\nstateful walk, seed {seed}: {journeys} journeys, {sum(walk.counts.values())} requests, "
          f"{len(walk.approved)} approved, agency paid {stats['paid']} + {stats['paid_by_reconciliation']} by "
          f"reconciliation, IPN answers {stats['ipn_by_code']}")
    for (service, op), n in sorted(walk.counts.items()):
        print(f"  {service:8} {op:45} {n}")
    return walk


def test_signed_walk_through_the_payment_flow(stack):
    walk = _walk(stack, QUICK_JOURNEYS, seed=1)
    assert walk.approved, "no payment was approved: the walk did not reach the end of the flow"


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_long_signed_walk_through_the_payment_flow(stack):
    walk = _walk(stack, SLOW_JOURNEYS, seed=2)
    assert sum(walk.counts.values()) >= 2000
