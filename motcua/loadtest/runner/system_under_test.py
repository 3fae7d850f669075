"""The system under test: the three mock services started (and stopped) for the run, or a real system given by URLs.

*Scenario*: by default a load test brings its own payment platform — the gateway, the bank and the agency
mocks (`motcua.mock_services.supervisor.MockStack`) — configured from the scenario's banks and the fault
file; with ``--gateway-url --agency-url --bank-url`` it loads a system someone else started, after checking
that each answers ``/healthz``. Either way the caller gets the three base URLs; mocks started here are
stopped when the ``with`` block ends (also on errors and Ctrl-C) and their logs copied into the run folder.
The merchant mode (`motcua.loadtest.merchant`) starts the same stack with its own terminal file and port.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from motcua.errors import ServiceError
from motcua.loadtest.runner.options import LoadtestOptions
from motcua.runs import Run
from motcua.safety import get_json

if TYPE_CHECKING:
    from motcua.scenario import Scenario

MOCK_LOG_TAIL_BYTES = 2_000_000
"""How much of each mock's log (its end) the run folder keeps, under ``mocks/``."""


@contextlib.contextmanager
def system_under_test(
    options: LoadtestOptions,
    run: Run,
    scenario: Scenario,
    *,
    terminals_file: Path | None = None,
    gateway_port: int = 0,
) -> Iterator[dict[str, str]]:
    """The URLs of the system under test (``gateway``, ``bank``, ``agency``): given ones, or a `MockStack`
    started (and stopped) here.

    Mocks started here get the scenario's banks (latencies, notification delays, declines) as the bank
    service's catalogue, so the scenario, not the mock's default catalogue, decides how banks behave;
    `terminals_file` (VNPay terminals) and `gateway_port` (0: a free port) go to the gateway.
    """
    if options.agency_url:
        # LoadtestOptions checks that the three URLs come together
        urls = {"gateway": str(options.gateway_url), "agency": options.agency_url, "bank": str(options.bank_url)}
        check_reachable(urls)
        yield urls
        return
    from motcua.mock_services.supervisor import MockStack, StackConfig

    with tempfile.TemporaryDirectory(prefix="motcua-loadtest-") as tmp:
        catalogue = write_bank_catalogue(scenario, run.path("mocks", "bank-catalogue.toml"))
        run.add_input(catalogue, "bank catalogue (from the scenario)")
        config = StackConfig(
            data_dir=Path(tmp),
            seed=options.seed,
            faults_file=options.faults_file,
            time_scale=options.time_scale,
            extra_args={"bank": ["--catalogue", str(catalogue)],
                        **({"gateway": ["--vnpay-strict", "true"]} if options.strict else {})},
            agency_protocol=options.protocol,
            terminals_file=terminals_file,
            gateway_port=gateway_port,
        )
        with MockStack(config) as stack:
            try:
                yield stack.urls
            finally:
                for name in ("gateway", "bank", "agency"):
                    log = stack.log_path(name)
                    if log.exists():
                        (run.dir / "mocks").mkdir(exist_ok=True)
                        (run.dir / "mocks" / log.name).write_bytes(log.read_bytes()[-MOCK_LOG_TAIL_BYTES:])


def write_bank_catalogue(scenario: Scenario, path: Path) -> Path:
    """The scenario's ``[[payment_system.banks]]`` as the bank service's catalogue (same `BankProfile` type)."""
    from motcua.payment_platform import BANK_CATALOGUE, BankCatalogue

    catalogue = BankCatalogue(banks=scenario.payment_system.banks)
    return BANK_CATALOGUE.write(catalogue, path, comment=f"Written by motcua loadtest from {scenario.file} "
                                                         "([[payment_system.banks]]).")


def check_reachable(urls: Mapping[str, str]) -> None:
    """`ServiceError` naming the flag of the first given URL that does not answer ``/healthz``."""
    for name, url in urls.items():
        try:
            get_json(f"{url}/healthz", timeout=5)
        except ServiceError as exc:
            raise ServiceError(f"--{name}-url {url}: {exc}; start the system or check the URL") from None
