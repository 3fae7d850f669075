"""``[payment_system]``: the national payment platform as citizens meet it — failures, callback delays, banks.

*Scenario.* A citizen of Lạng Sơn pays a dossier's fee online through one of the connected banks and
e-wallets; a payment may fail, and the agency system learns of a success only after a callback delay — a
slow one leaves the dossier shown unpaid long enough to worry the citizen. `SystemQuality` is what the
adoption model's trust reacts to; a load test's measurements replace it (`Scenario.with_quality`).
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import math

from motcua.errors import ScenarioError
from motcua.payment_platform import BankProfile, GroupMix, check_banks
from motcua.typed_config import FieldProblem, Reader, check_percentile_order, check_share_sum, spec

Z95_ROUNDED = 1.6448536
"""z with Φ(z) = 0.95 (the standard normal's 95th percentile), to the 8 digits that the lognormal fit of
`SystemQuality.unpaid_notice_probability` has always used.

``statistics.NormalDist().inv_cdf(0.95)`` = 1.6448536269514715 differs in the 9th digit: taking it would move
the probability by about 1e-7 of itself (lang-son-2024: 0.0076923516 → 0.0076923508) and so change the
``assumed_told_unpaid_share`` a run writes to ``feedback/quality.json``. It is kept as written so that the same
inputs give the same files; ``tests/test_scenario.py`` pins it to the exact quantile within 1e-7.
"""
PERCENTILE_RULE = "the 95th percentile cannot be below the median"
"""Why a callback delay's p95 may not be below its p50 (`check_percentile_order`), said after the values."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallbackDelay:
    """Delay from the bank's approval to the agency system marking the dossier paid, in seconds."""

    p50: float = spec("median", unit="s", ge=0)
    p95: float = spec("95th percentile", unit="s", ge=0)

    def check(self) -> None:
        check_percentile_order(self, "p50", "p95", why=PERCENTILE_RULE)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SystemQuality:
    """How well the payment system serves citizens; what the adoption model's trust reacts to.

    A citizen whose payment failed, or who paid but is still told the dossier is unpaid after
    `unpaid_notice_after_s`, loses trust. Replace it with a load test's measurements via
    `Scenario.with_quality`.
    """

    failure_rate: float = spec("share of payment attempts that fail", share=True)
    callback_p50_s: float = spec("median callback delay", unit="s", ge=0)
    callback_p95_s: float = spec("95th percentile callback delay", unit="s", ge=0)
    unpaid_notice_after_s: float = spec("delay after which a citizen who paid sees 'unpaid' and worries",
                                        unit="s", gt=0)

    def check(self) -> None:
        check_percentile_order(self, "callback_p50_s", "callback_p95_s", why=PERCENTILE_RULE)

    @classmethod
    def from_measurements(cls, *, failure_rate: float, callback_p50_ms: float, callback_p95_ms: float,
                          unpaid_notice_after_s: float, source: str = "load test") -> SystemQuality:
        """Build from a load test's figures (latencies in ms as the load test reports them), validated."""
        data = {"failure_rate": failure_rate, "callback_p50_s": callback_p50_ms / 1000,
                "callback_p95_s": callback_p95_ms / 1000, "unpaid_notice_after_s": unpaid_notice_after_s}
        return Reader(source, error=ScenarioError).read(cls, data, "quality")

    def unpaid_notice_probability(self) -> float:
        """Share of paid citizens told 'unpaid': P(callback delay > unpaid_notice_after_s), lognormal fit.

        The callback delay is taken as lognormal with median p50 and 95th percentile p95: μ = ln p50 and
        σ = ln(p95 / p50) / z₀.₉₅ (`Z95_ROUNDED`); a p95 equal to the p50 gives a (nearly) fixed delay.
        """
        from statistics import NormalDist

        if self.callback_p50_s <= 0:
            return 0.0
        mu = math.log(self.callback_p50_s)
        spread = math.log(max(self.callback_p95_s, self.callback_p50_s) / self.callback_p50_s)
        sigma = max(spread / Z95_ROUNDED, 1e-9)
        return 1 - NormalDist(mu, sigma).cdf(math.log(self.unpaid_notice_after_s))


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentSystem:
    """The national payment platform as citizens meet it: failures, callback delays, groups and banks."""

    failure_rate: float = spec("share of payment attempts that fail", share=True)
    callback_delay_s: CallbackDelay = spec("delay until the agency system learns of the payment")
    unpaid_notice_after_s: float = spec("delay after which a citizen who paid sees 'unpaid'", unit="s", gt=0)
    groups: GroupMix = spec("mix of payment groups")
    banks: tuple[BankProfile, ...] = spec("connected banks and e-wallets (shares sum to 1)")
    fee_catalogue: str = spec("fee catalogue file, relative to the scenario file", "fee-catalogue.toml")

    def check(self) -> None:
        check_banks(self.banks)
        for i, bank in enumerate(self.banks):
            if bank.share is None:
                raise FieldProblem(f"banks[{i}].share", None, "required in a scenario: the share of payments "
                                                            "through this bank (the shares sum to 1)")
        check_share_sum(self.bank_shares(), "the bank shares", field="banks")

    def bank_shares(self) -> dict[str, float]:
        """Share of payments by bank code (every bank of a checked scenario has one)."""
        return {b.code: b.share or 0.0 for b in self.banks}

    @property
    def quality(self) -> SystemQuality:
        return SystemQuality(failure_rate=self.failure_rate, callback_p50_s=self.callback_delay_s.p50,
                             callback_p95_s=self.callback_delay_s.p95, unpaid_notice_after_s=self.unpaid_notice_after_s)
