"""How one bank service behaves (`BankConfig`), declared once: defaults, checks and command-line options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from motcua.mock_services.bank.catalogue import load_catalogue
from motcua.mock_services.common import signing
from motcua.mock_services.common.service_config import ServiceConfig, check, option

from motcua.payment_platform import BankProfile


@dataclass(frozen=True, kw_only=True)
class BankConfig(ServiceConfig):
    """How one bank service behaves; `time_scale` multiplies its notification delays and retry waits."""

    gateway_url: str | None = option("--gateway-url", "base URL of the gateway (bank notifications go there)",
                                     default=None)
    catalogue: Mapping[str, BankProfile] = option("--catalogue", "TOML catalogue of banks (ASSUMED mix)",
                                                  default_factory=load_catalogue, load=load_catalogue)
    """The banks and e-wallets by code (default: the bundled ``mock_services/banks.toml``)."""
    latency_scale: float = option("--latency-scale", "multiplies charge latencies (0: none)", default=1.0,
                                  read=float)
    """Multiplies the charge latency (0: answer at once)."""
    notify_timeout_s: float = 10.0
    keys: Mapping[str, bytes] = field(default_factory=lambda: dict(signing.TEST_KEYS))

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.latency_scale >= 0, "latency_scale", self.latency_scale, "must be ≥ 0")
