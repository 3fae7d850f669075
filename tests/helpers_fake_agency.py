"""An in-process stand-in for the agency's records as `motcua.safety` reads them: ``GET /events``,
``GET /stats``, ``POST /reconcile`` (nothing to recover) and ``GET /healthz`` — served by
`helpers_mock_http.ServerThread` on a free loopback port. The ``fake_agency`` fixture (conftest) starts one.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from helpers_mock_http import ServerThread

from motcua import safety


class FakeAgency:
    """The agency's journal, counters and reconciliation as `motcua.safety` reads them — nothing else.

    `credit(harness)` journals one IPN confirmation per approval in a load test's harness.json."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/stats", self._stats)
        app.router.add_get("/events", self._events)
        app.router.add_post("/reconcile", self._reconcile)
        self.server = ServerThread(app)
        self.url = self.server.url

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"service": "agency (fake)"})

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response({"events": len(self.events), "double_credits": 0})

    async def _events(self, request: web.Request) -> web.Response:
        since, limit = int(request.query["since"]), int(request.query["limit"])
        page = [e for e in self.events if e["seq"] > since][:limit]
        return web.json_response({"events": page, "next": page[-1]["seq"] if page else since})

    async def _reconcile(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"date": body["date"], **dict.fromkeys(safety.RECONCILIATION_COUNTS, 0)})

    def credit(self, harness: dict[str, Any]) -> None:
        for a in harness["approvals"]:
            self.events.append({"seq": len(self.events) + 1, "type": "payment_confirmed", "at": a["approved_at"] + 0.2,
                                "payment_id": a["payment_id"], "dossier_code": a["dossier_code"],
                                "amount_vnd": a["amount_vnd"], "bank_approved_at": a["approved_at"],
                                "ipn_acked_at": a["approved_at"] + 0.2})

    def urls(self) -> list[str]:
        return [arg for name in ("gateway", "agency", "bank") for arg in (f"--{name}-url", self.url)]
