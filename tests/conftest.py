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
from pathlib import Path
from typing import Any

import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under pytest-xdist, the controller starts the shared quick run (tests/helpers_run.py) with the session."""
    config = session.config
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", default=None):
        return
    if not _selects_a_shared_run_module(config):
        return
    from helpers_run import start_in_background

    config.stash[_SHARED_RUN] = start_in_background(config._tmp_path_factory.getbasetemp())


def pytest_sessionfinish(session: pytest.Session) -> None:
    process = session.config.stash.get(_SHARED_RUN, None)
    if process is not None and process.poll() is None:  # the session ended early: stop the run
        process.terminate()
        process.wait(timeout=30)


_SHARED_RUN = pytest.StashKey[Any]()


def _selects_a_shared_run_module(config: pytest.Config) -> bool:
    from helpers_run import MODULES

    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0])
        if path.name in MODULES or (path.is_dir() and any((path / name).is_file() for name in MODULES)):
            return True
    return False


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
