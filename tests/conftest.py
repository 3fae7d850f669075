"""Fixtures shared by the test modules.

``stack`` — the services a module's tests work against, started once per module and stopped after it:

- the three mock services as real processes (`mock_services.supervisor.MockStack`), with the module's
  ``MOCK_STACK`` settings (a dict of `StackConfig` fields, e.g. ``{"seed": 5, "time_scale": 0.002}``);
- or, when the module sets ``STACK = "payment"``, a real gateway and bank with a scripted agency
  stand-in for IPNs (`helpers_payment_stack.PaymentStack`).

``fake_agency`` — an in-process stand-in for the agency's journal, counters and reconciliation, the
records `motcua.safety` reads (see `helpers_fake_agency`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir = tmp_path_factory.mktemp("stack")
    if getattr(request.module, "STACK", "mock") == "payment":
        from helpers_payment_stack import PaymentStack

        payment = PaymentStack(data_dir)
        try:
            yield payment
        finally:
            payment.stop()
        return
    from motcua.mock_services.supervisor import MockStack, StackConfig

    with MockStack(StackConfig(data_dir=data_dir, **getattr(request.module, "MOCK_STACK", {}))) as mock:
        yield mock


@pytest.fixture
def fake_agency() -> Iterator[Any]:
    from helpers_fake_agency import FakeAgency

    agency = FakeAgency()
    try:
        yield agency
    finally:
        agency.server.stop()
