"""End to end through the three real services: each fault kind does what docs/contracts.md §2 says,
and after reconciliation every bank-approved payment is paid exactly once for the right amount.

One stack serves every scenario; the faults are switched at run time through ``PUT /admin/faults``
(the same table goes to all three services, each takes its own section). Delays are compressed
(``time_scale`` 0.002: an IPN retry every 0.6 s) and bank latencies shortened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from helpers_mock_http import call, signed_call, wait_for
from helpers_stack import approved_payment, dossier, set_faults, stats, wait_paid
from motcua.mock_services.check import CheckConfig, CheckResult, run_check
from motcua.mock_services.supervisor import SERVICES, MockStack

from motcua.errors import InvariantBreach

PAYMENTS = 24
MOCK_STACK = {"seed": 5, "time_scale": 0.002, "extra_args": {"bank": ["--latency-scale", "0.05"]}}


def _faults(stack: MockStack, table: dict[str, Any]) -> None:
    for name in SERVICES:
        set_faults(stack.url(name), {"seed": 11, **table})


def _check(stack: MockStack, *, payments: int = PAYMENTS, reconcile: bool = True, seed: int = 1) -> CheckResult:
    config = CheckConfig(payments=payments, concurrency=8, seed=seed, reconcile=reconcile, quiet_s=2.0)
    return asyncio.run(run_check(stack.urls, config))


def _codes(result: CheckResult) -> dict[str, int]:
    return result.summary["ipn_by_code"]


def _approved(result: CheckResult) -> int:
    return result.summary["approved"]


def _all_by_ipn(r: CheckResult) -> None:
    assert r.summary["paid_by_ipn"] == _approved(r) > 0 and r.summary["paid_by_reconciliation"] == 0


def expect_clean(r: CheckResult) -> None:
    _all_by_ipn(r)
    assert _codes(r) == {"00": _approved(r)} and r.summary["reconciliation"]["recovered"] == 0


def expect_lost(r: CheckResult) -> None:
    # No IPN ever reaches the agency; the reconciliation recovers every approved payment.
    assert r.summary["ipn_received_agency"] == 0 and r.summary["ipn_attempts_gateway"] == 0
    assert r.summary["paid_by_reconciliation"] == r.summary["reconciliation"]["recovered"] == _approved(r) > 0


def expect_duplicates(r: CheckResult) -> None:
    _all_by_ipn(r)
    assert _codes(r) == {"00": _approved(r), "02": 3 * _approved(r)}


def expect_amount_mismatch(r: CheckResult) -> None:
    _all_by_ipn(r)  # the retry carries the right amount
    assert _codes(r) == {"00": _approved(r), "04": _approved(r)}


def expect_bad_signature(r: CheckResult) -> None:
    _all_by_ipn(r)
    assert _codes(r) == {"00": _approved(r), "97": _approved(r)}


def expect_early(r: CheckResult) -> None:
    _all_by_ipn(r)  # the early copy and the real IPN: one confirms, the other is a duplicate
    assert _codes(r)["00"] == _approved(r) and _codes(r).get("02", 0) >= 1


def expect_all_declined(r: CheckResult) -> None:
    assert _approved(r) == 0 and r.summary["declined"] == {"75": PAYMENTS}
    assert r.summary["paid_by_ipn"] == r.summary["paid_by_reconciliation"] == 0


def expect_outage(r: CheckResult) -> None:
    at_vietinbank = [a for a in r.attempts if a.bank_code == "VIETINBANK"]
    assert at_vietinbank and all(a.response_code == "75" for a in at_vietinbank)
    assert _approved(r) > 0


def expect_pending_settled_by_query(r: CheckResult) -> None:
    # The bank never notifies; the reconciliation's querydr makes the gateway ask the bank.
    assert _approved(r) > 0 and r.summary["reconciliation"]["queried"] >= _approved(r)
    assert r.summary["paid_by_ipn"] + r.summary["paid_by_reconciliation"] == _approved(r)


def expect_retries_through_errors(r: CheckResult) -> None:
    _all_by_ipn(r)


def expect_agency_latency(r: CheckResult) -> None:
    _all_by_ipn(r)
    assert r.summary["callback_latency_ms"]["p50"] >= 150


SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[CheckResult], None]]] = {
    "no faults": ({}, expect_clean),
    "lost IPNs": ({"gateway": {"ipn": {"lost": 1.0}}}, expect_lost),
    "duplicated IPNs": ({"gateway": {"ipn": {"duplicate": {"rate": 1.0, "copies": 3}}}}, expect_duplicates),
    "amount mismatch": ({"gateway": {"ipn": {"amount_mismatch": 1.0}}}, expect_amount_mismatch),
    "bad signature": ({"gateway": {"ipn": {"bad_signature": 1.0}}}, expect_bad_signature),
    "early IPN": ({"gateway": {"ipn": {"early": 1.0}}}, expect_early),
    "reordered IPNs": ({"gateway": {"ipn": {"reorder": 0.5}}}, _all_by_ipn),
    "bank toxicity": ({"bank": {"toxicity": 1.0}}, expect_all_declined),
    "bank outage": ({"bank": {"outage": {"banks": ["VIETINBANK"], "code": "75"}}}, expect_outage),
    "bank pending": ({"bank": {"pending": 1.0}}, expect_pending_settled_by_query),
    "bank freeze": ({"bank": {"freeze": {"start_s": 0, "duration_s": 1}}}, _all_by_ipn),
    "gateway 503s": ({"gateway": {"errors": {"status": 503, "rate": 0.3, "routes": ["POST /payments"]}}},
                     expect_retries_through_errors),
    "agency 503s": ({"agency": {"errors": {"status": 503, "rate": 0.5, "routes": ["POST /ipn"]}}},
                    expect_retries_through_errors),
    "agency latency": ({"agency": {"latency": {"kind": "fixed", "ms": 200, "routes": ["POST /ipn"]}}},
                       expect_agency_latency),
    "agency resets": ({"agency": {"reset": {"rate": 0.5, "routes": ["POST /ipn"]}}}, expect_retries_through_errors),
    "agency hangs": ({"agency": {"hang": {"rate": 0.5, "hang_s": 0.3, "routes": ["POST /ipn"]}}},
                     expect_retries_through_errors),
    "gateway latency": ({"gateway": {"latency": {"kind": "lognormal", "p50_ms": 20, "p95_ms": 80}}}, _all_by_ipn),
}  # fmt: skip
SLOW = {"reordered IPNs", "bank freeze", "gateway 503s", "early IPN", "gateway latency"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in SCENARIOS]
)
def test_fault_kind_behaves_as_documented_and_the_invariant_holds(stack, name):
    table, expect = SCENARIOS[name]
    _faults(stack, table)
    try:
        result = _check(stack)
    finally:
        _faults(stack, {})
    assert result.ok, result.summary["invariant"]
    assert result.summary["flow_errors"] <= (3 if name == "gateway 503s" else 0), result.summary["flow_error_examples"]
    expect(result)


def test_without_reconciliation_lost_ipns_break_the_invariant(stack):
    _faults(stack, {"gateway": {"ipn": {"lost": 1.0}}})
    try:
        result = _check(stack, payments=8, reconcile=False)
    finally:
        _faults(stack, {})
    lost = result.verdict.breaches["lost"]
    assert not result.ok and lost.count == len(result.summary["invariant"]["lost"]) == _approved(result) > 0
    with pytest.raises(InvariantBreach, match=rf"{lost.count} lost \(bank-approved, not paid at the agency\)"):
        result.raise_if_broken()


REFUSE_IPNS = {"seed": 1, "agency": {"errors": {"status": 503, "rate": 1.0, "routes": ["POST /ipn"]}}}
"""The agency answers every IPN with 503, so the gateway keeps it pending and retries."""


def _querydr(stack: MockStack, filed: dict[str, Any]) -> dict[str, Any]:
    return signed_call("agency", "GET", f"{stack.gateway_url}/payments/{filed['payment']['payment_id']}")[1]


def test_gateway_killed_after_bank_approval_delivers_the_ipn_after_restart(stack):
    """kill -9 of the gateway while its IPN is not yet acknowledged; the outbox survives the restart."""
    set_faults(stack.agency_url, REFUSE_IPNS)
    try:
        filed, _charge = approved_payment(stack.urls)
        code = filed["dossier_code"]

        def querydr() -> dict[str, Any]:
            return _querydr(stack, filed)

        # The bank notified the gateway and the gateway tried the IPN, but the agency has not acknowledged it.
        wait_for(lambda: querydr()["state"] == "paid" and querydr()["ipn_attempts"] >= 1, timeout=20)
        assert querydr()["ipn_acked_at"] is None
        assert dossier(stack.agency_url, code)["status"] == "awaiting_payment"
        stack.kill("gateway")
    finally:
        set_faults(stack.agency_url, {"seed": 1})
    stack.restart("gateway")
    view = wait_paid(stack.agency_url, code, timeout=30)
    assert view["status"] == "paid" and view["paid_via"] == "ipn" and view["credits"] == 1
    # The gateway commits the acknowledgement after the agency's answer reaches it: a group commit later.
    wait_for(lambda: querydr()["ipn_acked_at"] is not None, timeout=10)
    assert stats(stack.agency_url)["double_credits"] == 0


def test_agency_killed_before_acknowledging_gets_the_ipn_after_restart(stack):
    """kill -9 of the agency itself: the filed dossier survives (committed before the 201), and the
    gateway's retries deliver the IPN once the agency is back."""
    set_faults(stack.agency_url, REFUSE_IPNS)
    filed, _charge = approved_payment(stack.urls)

    def querydr() -> dict[str, Any]:
        return _querydr(stack, filed)

    wait_for(lambda: querydr()["ipn_attempts"] >= 1, timeout=20)
    stack.kill("agency")
    stack.restart("agency")  # a new process: no faults
    view = wait_paid(stack.agency_url, filed["dossier_code"], timeout=30)
    assert view["paid_via"] == "ipn" and view["credits"] == 1 and view["amount_vnd"] == filed["amount_vnd"]
    # the gateway commits the ack in the group commit after the agency's answer: wait for it, not check once
    wait_for(lambda: querydr()["ipn_acked_at"] is not None, timeout=10)


def test_every_agency_counter_is_consistent_with_this_tests_own_payments(stack):
    """The agency's counters over payments made here alone (not what earlier tests left): duplicated IPNs never credit
    twice, lost ones are credited by reconciliation, and every credit is counted as paid one way or the other."""
    before = stats(stack.agency_url)
    _faults(stack, {"gateway": {"ipn": {"duplicate": 0.5, "lost": 0.4}}})
    try:
        result = _check(stack, payments=16, seed=9)
    finally:
        _faults(stack, {})
    after = stats(stack.agency_url)
    grew = {key: after[key] - before[key] for key in ("credits", "paid", "paid_by_reconciliation")}
    assert result.ok, result.summary["invariant"]
    # at least this test's approvals (its reconciliation pass may also settle what earlier tests left pending)
    assert grew["credits"] >= result.summary["approved"] > 0
    assert grew["credits"] == grew["paid"] + grew["paid_by_reconciliation"]
    assert grew["paid"] > 0 and grew["paid_by_reconciliation"] > 0, grew  # both paths taken: 40% of IPNs lost
    assert after["double_credits"] == before["double_credits"] == 0
    status, metrics = call("GET", f"{stack.agency_url}/metrics")
    assert status == 200 and "motcua_agency_ipn_total" in metrics


@pytest.mark.slow
def test_default_check_with_three_hundred_payments(stack):
    from motcua.mock_services.check import DEFAULT_FAULTS_FILE
    from motcua.mock_services.common.faults import load_fault_file

    _faults(stack, load_fault_file(DEFAULT_FAULTS_FILE).raw)
    try:
        result = _check(stack, payments=300, seed=2)
    finally:
        _faults(stack, {})
    assert result.ok, result.summary["invariant"]
    assert result.summary["approved"] > 250 and result.summary["callback_latency_ms"]["count"] > 200
