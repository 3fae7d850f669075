"""How one gateway process behaves (`GatewayConfig`), declared once: defaults, checks and command-line options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from motcua.mock_services.common import signing
from motcua.mock_services.common.service_config import ServiceConfig, check, is_http_url, option
from motcua.mock_services.common.vnpay_terminals import Terminal, load_terminals

DEFAULT_IPN_DELAYS_S = (300.0,) * 9
"""VNPay's documented IPN retry: at most 10 attempts, 5 minutes apart (waits before attempts 2…10)."""


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"1,5,30"`` → (1.0, 5.0, 30.0): waits in seconds before IPN attempts 2, 3, 4 (`GatewayConfig` checks them)."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"must be comma-separated seconds ≥ 0 such as 300,300,300; got {text!r}") from None


@dataclass(frozen=True, kw_only=True)
class GatewayConfig(ServiceConfig):
    """How one gateway process behaves; every delay of a schedule is multiplied by `time_scale`."""

    bank_url: str | None = option("--bank-url", "base URL of the bank service (for charge_url and inquiry)",
                                  default=None)
    ipn_delays_s: tuple[float, ...] = option(
        "--ipn-schedule", "waits (s) before IPN attempts 2..N, comma-separated; default 9 × 300 (10 attempts)",
        default=DEFAULT_IPN_DELAYS_S, load=parse_schedule)
    """Waits before IPN attempts 2, 3, …; the number of attempts is one more than its length."""
    ipn_timeout_s: float = option("--ipn-timeout-s", "per-attempt IPN timeout (s), not scaled", default=10.0,
                                  read=float)
    """An agency that does not answer an IPN within this time is retried later (not scaled)."""
    bank_grace_s: float = option("--bank-grace-s", "after a deadline, wait this long (scaled) for the bank before "
                                 "asking it", default=120.0, read=float)
    """A payment still awaiting its bank this long after its deadline is settled by inquiry (scaled, ≥ 2 s)."""
    sweep_interval_s: float = 1.0
    commit_linger_ms: float = option("--commit-linger-ms", "group commit: wait this long for more writes before "
                                     "committing (0: next loop turn)", default=2.0, read=float)
    """Group commit: wait this long for more writes before committing (more per commit, less CPU each)."""
    keys: Mapping[str, bytes] = field(default_factory=lambda: dict(signing.TEST_KEYS))
    terminals: Mapping[str, Terminal] = option(
        "--terminals", "TOML file of VNPay merchant terminals (default: the bundled TEST terminal)",
        default_factory=load_terminals, load=load_terminals)
    """VNPay merchant terminals by tmn_code (default: the bundled TEST terminal)."""
    default_ipn_url: str = option("--default-ipn-url", "VNPay IPN URL for terminals whose file entry gives none",
                                  default="")
    """IPN URL of a terminal that gives none."""
    vnpay_strict: bool = option("--vnpay-strict", "refuse VNPay payment URLs that deviate from the documented "
                                "contract (default: accept what a real VNPay accepts and note the deviation)",
                                default=False, read=lambda text: text.lower() in ("1", "true", "yes"))
    """Refuse deviations from the documented VNPay contract instead of noting them (docs/contracts.md §1d)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        delays = self.ipn_delays_s
        check(bool(delays) and all(d >= 0 for d in delays), "ipn_delays_s", delays,
              "must be comma-separated seconds ≥ 0 such as 300,300,300")
        check(self.ipn_timeout_s > 0, "ipn_timeout_s", self.ipn_timeout_s, "must be above zero")
        check(0 <= self.commit_linger_ms <= 1000, "commit_linger_ms", self.commit_linger_ms, "must be within 0–1000")
        check(not self.default_ipn_url or is_http_url(self.default_ipn_url), "default_ipn_url", self.default_ipn_url,
              "must be an http(s) URL")

    @property
    def max_ipn_attempts(self) -> int:
        return len(self.ipn_delays_s) + 1

    def ipn_wait_s(self, attempts_made: int) -> float:
        return self.ipn_delays_s[attempts_made - 1] * self.time_scale
