"""``[slo]``: the service-level objectives a load test gates on (a breach exits 3).

*Scenario.* In Lạng Sơn's file the agency must learn of 95% of payments within 30 seconds of the bank's
approval, 99% of payments must be created within a second, no bank-approved payment may end unconfirmed, and at
most 1% of journeys may fail; ``thresholds`` adds k6-style limits on any metric (`motcua.loadtest.thresholds`).
"""

from __future__ import annotations

import dataclasses

from motcua.typed_config import spec


@dataclasses.dataclass(frozen=True, kw_only=True)
class SLO:
    """Service-level objectives the load test gates on."""

    callback_p95_ms: float = spec("95th percentile of bank approval → dossier marked paid", unit="ms", gt=0)
    create_p99_ms: float = spec("99th percentile of creating a payment", unit="ms", gt=0)
    error_rate: float = spec("share of requests that may fail", share=True)
    dropped_arrivals: float = spec("share of scheduled arrivals the load generator may drop", 0.01, share=True)
    lost_callbacks: int = spec("bank-approved payments whose IPN may never arrive", 0, ge=0)
    late_callbacks: int = spec("bank-approved payments whose IPN may arrive after the callback deadline", 0, ge=0)
    journey_failures: float = spec("share of finished journeys that may end other than the journey expects", 0.01,
                                   share=True)
    thresholds: tuple[str, ...] = spec(
        "thresholds on any measured metric, k6-style: 'callback.p95{bank=AGRIBANK} < 20s', "
        "'journey_failures.rate < 1%' (parsed by motcua.loadtest.thresholds when a load test is planned)",
        default_factory=tuple)
    conformance: int | None = spec("deviations from VNPay's documented contract a merchant's payment URLs may "
                                   "show (--merchant runs; unset: reported, not gated)", None, ge=0)
