"""Schemathesis fuzzing of every operation of the three mock services, signed and with the admin token.

The default run is bounded (a few cases per operation and mode); the ``slow`` run sends at least 1,000
cases per service. Both print the case counts per service and operation (tests/helpers_fuzz.py says
what each case is checked for).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers_fuzz import SERVICES, FuzzRun
from motcua.mock_services.agency.openapi import OPENAPI as AGENCY_DOC
from motcua.mock_services.bank.openapi import OPENAPI as BANK_DOC
from motcua.mock_services.gateway.openapi import OPENAPI as GATEWAY_DOC
from motcua.mock_services.supervisor import MockStack, StackConfig

DOCS = {"gateway": GATEWAY_DOC, "bank": BANK_DOC, "agency": AGENCY_DOC}
OPERATIONS = [(s, path, m.upper()) for s in SERVICES for path, ops in DOCS[s]["paths"].items() for m in ops]
QUICK_EXAMPLES = 6
SLOW_MIN_CASES = 1000


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz")
    with MockStack(StackConfig(data_dir=data, seed=3, time_scale=0.01,
                                 extra_args={"bank": ["--latency-scale", "0"]})) as stack:
        run = FuzzRun(stack.urls, data)
        yield run
        print("\n" + run.table())
        out = os.environ.get("MOTCUA_FUZZ_COUNTS")
        if out:
            run.save(Path(out))


def test_live_documents_are_the_published_ones(fuzz):
    import requests

    for service, doc in DOCS.items():
        assert requests.get(fuzz.urls[service] + "/openapi.json", timeout=10).json() == doc


@pytest.mark.parametrize(("service", "path", "method"), OPERATIONS, ids=[f"{s}:{m} {p}" for s, p, m in OPERATIONS])
def test_operation_survives_signed_fuzzing(fuzz, service, path, method):
    sent = fuzz.fuzz(service, path, method, QUICK_EXAMPLES)
    assert sent >= 1, f"no case could be generated for {service} {method} {path}"


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("service", SERVICES)
def test_service_survives_a_thousand_signed_cases(fuzz, service):
    operations = [(p, m) for s, p, m in OPERATIONS if s == service]
    per_op = SLOW_MIN_CASES // len(operations) + 5
    total, round_ = 0, 0
    while total < SLOW_MIN_CASES and round_ < 5:  # operations without inputs give few cases: draw again
        round_ += 1
        total += sum(fuzz.fuzz(service, path, method, per_op, round_=round_) for path, method in operations)
    print(f"\n{service}: {total} cases in {round_} round(s)")
    assert total >= SLOW_MIN_CASES, f"{service}: only {total} cases"
