"""The reconciler (đối soát): on a schedule, the agency pulls the gateway's report of paid payments.

*Scenario*: every ``reconcile_every_s`` seconds the one-stop-shop system asks the national payment
platform for the day's successful payments of its agency and marks any dossier whose IPN it missed as
paid-by-reconciliation — Phú Thọ's cure for "the bank's status was not synchronised with the dossier".
In the load test it is one Locust user (``fixed_count = 1``) that calls the agency's ``POST /reconcile``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from locust import FastHttpUser, task
from locust.contrib.fasthttp import FastHttpSession

VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")


def vn_today() -> str:
    """Today's date in Việt Nam (the reconciliation report's day)."""
    return dt.datetime.now(VN_TZ).date().isoformat()


def reconcile(client: FastHttpSession, agency_url: str, day: str | None = None) -> dict[str, Any] | None:
    """One reconciliation pass for `day` (default: today in Việt Nam)."""
    body = {"date": day or vn_today()}
    url = f"{agency_url.rstrip('/')}/reconcile"
    with client.post(url, json=body, name="/reconcile", catch_response=True) as r:
        if r.status_code != 200:
            r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
            return None
        return r.json()


class ReconcilerUser(FastHttpUser):
    """The agency's scheduled reconciliation job (one for the whole run)."""

    fixed_count = 1

    def wait_time(self) -> float:
        """The scenario's ``load.reconcile_every_s``."""
        return self.environment.motcua_params.reconcile_every_s

    def on_start(self) -> None:
        self.agency_url = self.environment.motcua_urls["agency"]

    @task
    def reconcile_today(self) -> None:
        reconcile(self.client, self.agency_url)
