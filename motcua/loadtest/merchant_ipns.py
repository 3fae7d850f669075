"""Every IPN of a merchant run judged, races shown as races, and the findings of its payment URLs.

*Scenario*: the merchant's developer reads "credited twice: 3" and needs the cause. For each breach this
module gives the evidence: the IPN calls of that order (sent, answered, ``RspCode``, tampered or not)
and, for a double credit, how many of them were in flight at once, so a read-then-write handler without
a lock shows up as a race, not as a riddle. Payments that ended without money (declined, cancelled,
expired) are judged too: the merchant may confirm their IPN once (``00``, as VNPay's samples do) but must
not credit them, confirm them twice, or let a failed IPN overwrite an order already paid.

The findings (`mock_services.gateway.vnpay.findings`, read from ``GET /vnpay/ipn-records``) become the
summary's ``conformance``: each deviation with its count and an example, and the ``conformance`` gate's
measure (the deviations noted, ``refused`` findings not counted again; the scenario's ``[slo] conformance``
or ``--slo conformance=N`` makes it fatal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FAILED_BREACHES: dict[str, str] = {
    "credited_failed": "credited a payment that failed (its status shows paid or a credit)",
    "confirmed_twice": "answered 00 twice to one failed payment's IPNs (the second must be 02)",
    "failed_after_success": "answered 00 to a failed IPN of an order already paid",
}
"""Breaches judged on the IPNs of payments that ended without money."""
EVIDENCE_LISTED = 10
UNPAID_CODES = {"cancelled": "24", "expired": "11"}
"""The vnp_ResponseCode the IPN of a payment that never reached a bank carries (the gateway's VNPay front)."""


def clock(epoch_s: float) -> str:
    """``HH:MM:SS.mmm`` UTC of an epoch time, for evidence lines."""
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%H:%M:%S.%f")[:-3] + "Z"


def calls(payment: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The payment's IPN calls as evidence: kind, tampered, sent and answered (epoch s), answer."""
    return [{"kind": d["kind"], "tampered": d["tampered"], "sent_at": round(d["sent_at"], 3),
             "answered_at": round(d["answered_at"], 3), "rsp_code": d["rsp_code"] or d["error"] or "no answer"}
            for d in sorted(payment["deliveries"], key=lambda d: d["sent_at"])]


def in_flight(deliveries: Iterable[Mapping[str, Any]]) -> int:
    """The most IPN calls of one payment that were open at the same moment (sent, not yet answered)."""
    edges = []
    for d in deliveries:
        edges += [(d["sent_at"], 1), (d["answered_at"], -1)]
    most = now = 0
    for _at, step in sorted(edges, key=lambda e: (e[0], e[1])):
        now += step
        most = max(most, now)
    return most


def race_of(payment: Mapping[str, Any]) -> dict[str, Any]:
    """Evidence of a double credit: the calls, how many were in flight at once, and the answers given."""
    genuine = [d for d in payment["deliveries"] if not d["tampered"]]
    return {"txn_ref": payment["txn_ref"], "payment_id": payment["payment_id"],
            "in_flight_at_once": in_flight(genuine), "answers": [d["rsp_code"] for d in genuine],
            "race": in_flight(genuine) > 1, "calls": calls(payment)}


def judge_unpaid(unpaid: Sequence[Mapping[str, Any]], approved: Sequence[Mapping[str, Any]],
                 status_of: Mapping[str, Any]) -> tuple[dict[str, list[str]], list[dict[str, Any]], dict[str, int]]:
    """The failed-payment breaches, their evidence and the RspCode mix of the unpaid payments' IPNs.

    `status_of`: the order status seen at the merchant by `txn_ref` (``paid``, ``credits``), where known.
    """
    breaches: dict[str, list[str]] = {kind: [] for kind in FAILED_BREACHES}
    evidence: list[dict[str, Any]] = []
    codes: dict[str, int] = {}
    paid_refs = {p["txn_ref"]: p for p in approved}
    for p in unpaid:
        ref, genuine = p["txn_ref"], [d for d in p["deliveries"] if not d["tampered"]]
        for d in p["deliveries"]:
            key = d["rsp_code"] or "no answer"
            codes[key] = codes.get(key, 0) + 1
        found = []
        if sum(1 for d in genuine if d["rsp_code"] == "00") > 1:
            found.append("confirmed_twice")
        status = status_of.get(ref)
        if status is not None and ref not in paid_refs and (status.get("paid") or (status.get("credits") or 0) > 0):
            found.append("credited_failed")
        success = paid_refs.get(ref)
        if success is not None and any(d["rsp_code"] == "00" and d["sent_at"] > success["bank_approved_at"]
                                       for d in genuine):
            found.append("failed_after_success")
        for kind in found:
            breaches[kind].append(ref)
        if found and len(evidence) < EVIDENCE_LISTED:
            evidence.append({"breach": found, "txn_ref": ref, "payment_id": p["payment_id"], "state": p["state"],
                             "response_code": p.get("response_code") or UNPAID_CODES.get(p["state"]),
                             "status": status, "calls": calls(p)})
    return breaches, evidence, dict(sorted(codes.items()))


def conformance(findings: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The summary's ``conformance``: deviations (count, example each), refusals, and the gate's measure."""
    deviations = [f for f in findings if f["kind"] != "refused"]
    refused = [f for f in findings if f["kind"] == "refused"]
    return {"deviations": sum(f["count"] for f in deviations), "refused": sum(f["count"] for f in refused),
            "findings": [dict(f) for f in findings]}


def findings_table(conf: Mapping[str, Any]) -> str:
    """The findings as a Markdown table (console and README): kind, detail, count, example."""
    rows = ["| finding | detail | count | example |", "| --- | --- | --- | --- |"]
    for f in conf["findings"]:
        example = str(f["example"]).replace("|", "\\|")[:90]
        rows.append(f"| {f['kind']} | {f['detail'] or '—'} | {f['count']} | {example} |")
    if len(rows) == 2:
        rows.append("| (none) | | 0 | |")
    return "\n".join(rows)
