"""A real gateway and bank (two processes) plus an in-process agency stand-in that answers IPNs.

The stand-in's IPN URL carries a script: ``/ipn?script=99,hang,00&amount=200000`` answers the first
attempt of each payment with 99, lets the second time out, and confirms the third; it checks the
gateway's signature (97) and the amount (04) like a real agency would. Every IPN it receives is
recorded in `AgencyStub.received`.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiohttp import web
from helpers_mock_http import ServerThread, ServiceProcess, call, signed_call
from motcua.mock_services.bank import load_catalogue
from motcua.mock_services.common import signing
from motcua.mock_services.common.http import TEST_ADMIN_TOKEN

AGENCY_CODE = "000.00.12.H37"
ADMIN = {"X-Admin-Token": TEST_ADMIN_TOKEN}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AgencyStub:
    """Answers IPNs by script and records them."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.counts: dict[str, int] = defaultdict(int)
        app = web.Application()
        app.router.add_post("/ipn", self.ipn)
        self.server = ServerThread(app)
        self.url = self.server.url

    async def ipn(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            signing.verify({"gateway": signing.TEST_KEYS["gateway"]}, "POST", request.raw_path, request.headers, raw)
            sig_ok = True
        except signing.SignatureError:
            sig_ok = False
        body = await request.json()
        pid = body["payment_id"]
        index = self.counts[pid]
        self.counts[pid] += 1
        self.received.append({**body, "sig_ok": sig_ok, "at": time.time()})
        script = request.query.get("script", "00").split(",")
        action = script[min(index, len(script) - 1)]
        if not sig_ok:
            action = "97"
        elif "amount" in request.query and int(request.query["amount"]) != body["amount_vnd"]:
            action = "04"
        if action == "hang":
            await asyncio.sleep(30)
        if action == "500":
            return web.Response(status=500, text="boom")
        return web.json_response({"RspCode": action, "Message": "stub"})

    def for_payment(self, payment_id: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["payment_id"] == payment_id]

    def ipn_url(self, script: str = "00", amount: int | None = None) -> str:
        url = f"{self.url}/ipn?script={script}"
        return url + (f"&amount={amount}" if amount is not None else "")

    def stop(self) -> None:
        self.server.stop()


class PaymentStack:
    """Gateway + bank processes on fixed free ports (so either can be restarted on the same port)."""

    def __init__(self, data_dir: Path, *, gateway_args: list[str] | None = None, bank_args: list[str] | None = None,
                 time_scale: float = 0.01) -> None:
        self.data_dir = Path(data_dir)
        self.gateway_port, self.bank_port = free_port(), free_port()
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.bank_url = f"http://127.0.0.1:{self.bank_port}"
        common = ["--time-scale", str(time_scale), "--admin-token", TEST_ADMIN_TOKEN, "--seed", "11"]
        self.gateway_argv = [*common, "--bank-url", self.bank_url, "--ipn-schedule", ",".join(["20"] * 9),
                             "--ipn-timeout-s", "3", *(gateway_args or [])]
        catalogue = write_catalogue_without_declines(self.data_dir / "banks-no-declines.toml")
        self.bank_argv = [*common, "--gateway-url", self.gateway_url, "--latency-scale", "0",
                          "--catalogue", str(catalogue), *(bank_args or [])]
        self.bank = self._start("bank")
        self.gateway = self._start("gateway")
        self.agency = AgencyStub()

    def _start(self, name: str) -> ServiceProcess:
        port = self.gateway_port if name == "gateway" else self.bank_port
        argv = self.gateway_argv if name == "gateway" else self.bank_argv
        return ServiceProcess(name, self.data_dir, argv, port=port)

    def restart(self, name: str) -> None:
        setattr(self, name, self._start(name))

    def stop(self) -> None:
        self.gateway.stop()
        self.bank.stop()
        self.agency.stop()

    # ------------------------------------------------------------------ actions

    def clear_faults(self) -> None:
        self.faults("gateway", {})
        self.faults("bank", {})

    def faults(self, service: str, table: dict[str, Any]) -> None:
        url = (self.gateway_url if service == "gateway" else self.bank_url) + "/admin/faults"
        status, body = call("PUT", url, table, headers=ADMIN)
        assert status == 200, body

    def create(self, amount: int = 200_000, *, script: str = "00", key: str | None = None, check_amount: bool = True,
               expires_in_s: float = 900, **overrides: Any) -> tuple[int, Any]:
        fields = {"ipn_url": self.agency.ipn_url(script, amount if check_amount else None),
                  "expires_in_s": expires_in_s, **overrides}
        body = new_payment_body(amount, **fields)
        return signed_call("agency", "POST", self.gateway_url + "/payments", body,
                           extra={"Idempotency-Key": key or uuid.uuid4().hex})

    def checkout(self, payment_id: str, bank: str = "VIETINBANK") -> tuple[int, Any]:
        return call("POST", f"{self.gateway_url}/payments/{payment_id}/checkout", {"bank_code": bank})

    def charge(self, token: str, bank: str = "VIETINBANK", otp: str = "123456") -> tuple[int, Any]:
        return call("POST", self.bank_url + "/charge", {"charge_token": token, "bank_code": bank, "otp": otp})

    def pay(self, amount: int = 200_000, *, script: str = "00", bank: str = "VIETINBANK") -> tuple[str, Any]:
        """Create → checkout → charge; return (payment_id, the bank's verdict)."""
        status, created = self.create(amount, script=script)
        assert status == 201, created
        status, out = self.checkout(created["payment_id"], bank)
        assert status == 200, out
        status, verdict = self.charge(out["charge_token"], bank)
        assert status == 200, verdict
        return created["payment_id"], verdict

    def query(self, payment_id: str) -> dict[str, Any]:
        status, body = signed_call("agency", "GET", f"{self.gateway_url}/payments/{payment_id}")
        assert status == 200, body
        return body

    def stats(self, service: str = "gateway") -> dict[str, Any]:
        return call("GET", (self.gateway_url if service == "gateway" else self.bank_url) + "/stats")[1]


def write_catalogue_without_declines(path: Path) -> Path:
    """The default bank catalogue with every decline share set to zero, so that tests know the verdict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for bank in load_catalogue().values():
        lines += ["[[banks]]", f'code = "{bank.code}"', f'name = "{bank.name}"', f'kind = "{bank.kind}"']
        lines += [f"{k} = {getattr(bank, k)}" for k in ("p50_ms", "p95_ms", "notify_p50_ms", "notify_p95_ms")]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def new_payment_body(amount: int = 200_000, *, ipn_url: str = "http://127.0.0.1:9/ipn", seq: int = 1,
                     **overrides: Any) -> dict[str, Any]:
    body = {
        "agency_code": AGENCY_CODE,
        "dossier_code": f"{AGENCY_CODE}-240607-{seq:04d}",
        "procedure_code": "1.001234",
        "group": "fee",
        "amount_vnd": amount,
        "payer": {"name": "Nguyễn Văn An", "cccd": "020090001234", "phone": "0912345678"},
        "ipn_url": ipn_url,
        "return_url": "http://127.0.0.1:9/return",
        "expires_in_s": 900,
    }
    body.update(overrides)
    return body
