"""Each service's /openapi.json is a valid OpenAPI 3.1 document, lists every route it serves, and real
answers validate against the schemas it declares."""

from __future__ import annotations

import re
import uuid

import jsonschema
import pytest
from helpers_mock_http import call, signed_call, wait_for
from helpers_payment_stack import ADMIN, AGENCY_CODE
from motcua.mock_services.gateway.ledger import vn_day
from openapi_spec_validator import validate

STACK = "payment"  # conftest.stack: a real gateway and bank, an agency stand-in


def _doc(url):
    status, doc = call("GET", url + "/openapi.json")
    assert status == 200
    return doc


def check(doc, path, method, status, body):
    """Validate `body` against the schema `doc` declares for that answer."""
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which the document does not list"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": doc["components"]},
                        cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("service", ["gateway", "bank"])
def test_document_is_valid_and_covers_every_route(stack, service, tmp_path):
    url = stack.gateway_url if service == "gateway" else stack.bank_url
    doc = _doc(url)
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    if service == "gateway":
        from motcua.mock_services.gateway import GatewayConfig, build_app

        app = build_app(GatewayConfig(data_dir=tmp_path))
    else:
        from motcua.mock_services.bank import BankConfig, build_app

        app = build_app(BankConfig(data_dir=tmp_path))
    served = {(r.method.lower(), r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented


def test_agency_document_is_valid():
    from motcua.mock_services.agency.openapi import OPENAPI

    validate(OPENAPI)


def test_gateway_answers_match_the_document(stack):
    doc = _doc(stack.gateway_url)
    key = uuid.uuid4().hex
    status, created = stack.create(90_000, key=key)
    check(doc, "/payments", "POST", status, created)
    status, again = stack.create(90_000, key=key)
    check(doc, "/payments", "POST", status, again)
    for bad in (stack.create(0), stack.create(90_000, key=key, procedure_code="other")):
        check(doc, "/payments", "POST", *bad)
    pid = created["payment_id"]
    check(doc, "/payments/{payment_id}", "GET", 200, stack.query(pid))
    status, out = stack.checkout(pid)
    check(doc, "/payments/{payment_id}/checkout", "POST", status, out)
    verdict = stack.charge(out["charge_token"])[1]
    wait_for(lambda: stack.query(pid)["ipn_acked_at"])
    note = {k: verdict[k] for k in ("payment_id", "bank_code", "response_code", "bank_txn_no", "amount_vnd",
                                    "approved_at")}
    check(doc, "/bank-notifications", "POST", *signed_call("bank", "POST", stack.gateway_url + "/bank-notifications",
                                                            note))
    check(doc, "/payments/{payment_id}/cancel", "POST", *call("POST", f"{stack.gateway_url}/payments/{pid}/cancel"))
    check(doc, "/payments/{payment_id}/refund", "POST",
          *signed_call("agency", "POST", f"{stack.gateway_url}/payments/{pid}/refund", {"amount_vnd": 1000}))
    day = vn_day(verdict["approved_at"])
    check(doc, "/reconciliation", "GET", *signed_call(
        "agency", "GET", f"{stack.gateway_url}/reconciliation?agency_code={AGENCY_CODE}&date={day}"))
    check(doc, "/stats", "GET", *call("GET", stack.gateway_url + "/stats"))
    check(doc, "/healthz", "GET", *call("GET", stack.gateway_url + "/healthz"))
    check(doc, "/admin/faults", "GET", *call("GET", stack.gateway_url + "/admin/faults", headers=ADMIN))
    with pytest.raises(jsonschema.ValidationError, match="'state' is a required property"):
        check(doc, "/payments", "POST", 201, {"payment_id": pid})  # the check has teeth


def test_bank_answers_match_the_document(stack):
    doc = _doc(stack.bank_url)
    check(doc, "/banks", "GET", *call("GET", stack.bank_url + "/banks"))
    _, created = stack.create()
    token = stack.checkout(created["payment_id"])[1]["charge_token"]
    check(doc, "/charge", "POST", *stack.charge(token, otp="000000"))
    check(doc, "/charge", "POST", *stack.charge(token))
    check(doc, "/charges/{payment_id}", "GET",
          *signed_call("gateway", "GET", f"{stack.bank_url}/charges/{created['payment_id']}"))
    check(doc, "/charges/{payment_id}", "GET", *call("GET", f"{stack.bank_url}/charges/x"))
    check(doc, "/stats", "GET", *call("GET", stack.bank_url + "/stats"))


def test_metrics_are_prometheus_text(stack):
    status, text = call("GET", stack.gateway_url + "/metrics")
    assert status == 200
    assert re.search(r'motcua_http_requests_total\{method="POST",route="/payments",status="201"\} \d', text)
    assert "motcua_gateway_ipn_sent_total" in text
