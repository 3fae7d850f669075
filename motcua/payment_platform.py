"""The national payment platform's vocabulary, declared once: payment groups, bank answers, bank profiles.

Scenario: a citizen pays through the national payment platform (Nền tảng thanh toán trực tuyến) in one of
five payment groups and through one bank or e-wallet (VietinBank, Agribank, VNPT-Pay, MoMo …). The
scenario (`motcua.scenario`, ``[[payment_system.banks]]``), the bank service's catalogue
(`mock_services/banks.toml`), the fee catalogue, the gateway and the load test all use the declarations
here, so a group or a bank field exists in exactly one place.

- `GroupMix` declares the payment groups (one field each); `PAYMENT_GROUPS` is derived from it.
- `RESPONSE_CODES` are the banks' VNPay-style answers; `DECLINE_CODES` are all but ``00``.
- `BankProfile` is one bank or e-wallet (latencies, notification delays, decline mix, and in a scenario
  its share of payments); `BANK_CATALOGUE` is the bank service's catalogue file of such profiles.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

from motcua.errors import BankCatalogueError as BankCatalogueError  # re-exported: the file kind below raises it
from motcua.typed_config import (
    ConfigFile,
    FieldProblem,
    check_percentile_order,
    check_share_sum,
    check_unique,
    join,
    spec,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GroupMix:
    """Share of online payments by group on the national payment platform (sums to 1)."""

    fee: float = spec("fees and charges of public services (phí, lệ phí)", share=True)
    tax: float = spec("personal and business taxes", share=True)
    insurance: float = spec("social and health insurance contributions", share=True)
    fine: float = spec("administrative fines", share=True)
    electricity: float = spec("electricity bills", share=True)

    def check(self) -> None:
        check_share_sum(self.shares(), "the payment group shares")

    def shares(self) -> dict[str, float]:
        """The mix as ``{group: share}``, in `PAYMENT_GROUPS` order."""
        return {group: getattr(self, group) for group in PAYMENT_GROUPS}


PAYMENT_GROUPS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(GroupMix))
"""The five payment groups: fees and charges, taxes, social and health insurance, administrative fines,
electricity bills (the fields of `GroupMix`, in order)."""

RESPONSE_CODES = {
    "00": "approved",
    "07": "suspicious transaction",
    "11": "payment window expired",
    "24": "cancelled by the payer",
    "51": "insufficient funds",
    "65": "over the daily limit",
    "75": "bank under maintenance",
}
"""The banks' answers to a charge (VNPay-style response codes) and what each means."""
DECLINE_CODES = tuple(code for code in RESPONSE_CODES if code != "00")
"""The response codes a bank's decline mix may name (every answer but ``00`` approved)."""
BANK_CODE = r"[A-Z0-9][A-Z0-9_-]{1,31}"
NOTIFY_CAP_FACTOR = 2.0
"""A bank's notification delay is lognormal (p50, p95) truncated at a cap: ``notify_max_ms`` when declared, else
this × ``notify_p95_ms``. The load test's default callback deadline follows the cap (docs/contracts.md §SLO)."""
CHARGE_CAP_FACTOR = 2.0
"""A bank's charge latency is lognormal (p50, p95) truncated likewise: ``max_ms`` when declared, else this ×
``p95_ms`` (no endless tail: a citizen's charge never hangs for minutes by chance alone; a freeze is a fault)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class BankProfile:
    """One bank or e-wallet (ngân hàng, ví điện tử): how fast it answers, how late it notifies, how often it declines.

    The same declaration serves the scenario's ``[[payment_system.banks]]`` (where `share` is required) and the
    bank service's catalogue (where `share` is optional and unused).
    """

    code: str = spec("bank code used on the wire", pattern=BANK_CODE,
                     pattern_hint="a unique upper-case code like 'BIDV'")
    name: str = spec("name")
    kind: Literal["bank", "ewallet"] = spec("bank or e-wallet", "bank")
    share: float | None = spec("share of payments through this bank (required in a scenario)", None, share=True)
    p50_ms: float = spec("median charge latency", unit="ms", ge=0)
    p95_ms: float = spec("95th percentile charge latency", unit="ms", ge=0)
    max_ms: float | None = spec(
        f"cap of the charge latency: longer draws are cut to it (default {CHARGE_CAP_FACTOR:g} × p95_ms)",
        None, unit="ms", gt=0)
    notify_p50_ms: float = spec("median delay of the bank's notification to the gateway", unit="ms", ge=0)
    notify_p95_ms: float = spec("95th percentile notification delay", unit="ms", ge=0)
    notify_max_ms: float | None = spec(
        f"cap of the notification delay: longer draws are cut to it (default {NOTIFY_CAP_FACTOR:g} × notify_p95_ms)",
        None, unit="ms", gt=0)
    decline: dict[str, float] = spec(f"share of charges declined, by response code ({', '.join(DECLINE_CODES)})",
                                     default_factory=dict, share=True)

    def check(self) -> None:
        check_percentile_order(self, "p50_ms", "p95_ms")
        check_percentile_order(self, "notify_p50_ms", "notify_p95_ms")
        if self.max_ms is not None and self.max_ms < self.p95_ms:
            raise FieldProblem("max_ms", self.max_ms, "must be ≥ p95_ms (a cap above the tail)")
        if self.notify_max_ms is not None and self.notify_max_ms < self.notify_p95_ms:
            raise FieldProblem("notify_max_ms", self.notify_max_ms, "must be ≥ notify_p95_ms (a cap above the tail)")
        for code in self.decline:
            if code not in DECLINE_CODES:
                raise FieldProblem(join("decline", code), self.decline[code],
                                   f"unknown response code {code!r}; known: {', '.join(DECLINE_CODES)}")
        if math.fsum(self.decline.values()) > 1:
            raise FieldProblem("decline", self.decline, "decline shares sum above 1")

    @property
    def charge_cap_ms(self) -> float:
        """The longest charge latency the bank draws: `max_ms`, else `CHARGE_CAP_FACTOR` × p95."""
        return self.max_ms if self.max_ms is not None else CHARGE_CAP_FACTOR * self.p95_ms

    @property
    def notify_cap_ms(self) -> float:
        """The longest notification delay the bank draws: `notify_max_ms`, else `NOTIFY_CAP_FACTOR` × p95."""
        return self.notify_max_ms if self.notify_max_ms is not None else NOTIFY_CAP_FACTOR * self.notify_p95_ms

    def public(self) -> dict[str, Any]:
        """The profile as the bank service's ``GET /banks`` shows it (docs/contracts.md §1)."""
        return {"code": self.code, "name": self.name, "kind": self.kind, "p50_ms": self.p50_ms,
                "p95_ms": self.p95_ms, "max_ms": self.charge_cap_ms, "notify_p50_ms": self.notify_p50_ms,
                "notify_p95_ms": self.notify_p95_ms, "notify_max_ms": self.notify_cap_ms,
                "decline_mix": dict(self.decline)}

    def verdict(self, u: float) -> str:
        """The response code for a uniform draw `u`: declines take the bottom of [0, 1), approval the rest."""
        edge = 0.0
        for code, share in sorted(self.decline.items()):
            edge += share
            if u < edge:
                return code
        return "00"


def check_banks(banks: tuple[BankProfile, ...], field: str = "banks") -> None:
    """Rules of any list of banks: at least one, codes unique."""
    if not banks:
        raise FieldProblem(field, [], "at least one bank is needed")
    check_unique([b.code for b in banks], field, "code")


@dataclasses.dataclass(frozen=True, kw_only=True)
class BankCatalogue:
    """The bank service's catalogue file: the banks and e-wallets it plays (``[[banks]]``)."""

    banks: tuple[BankProfile, ...] = spec("the banks and e-wallets, as [[banks]] tables")

    def check(self) -> None:
        check_banks(self.banks)

    def by_code(self) -> dict[str, BankProfile]:
        return {bank.code: bank for bank in self.banks}


BANK_CATALOGUE = ConfigFile(
    BankCatalogue, "bank catalogue", error=BankCatalogueError,
    hint="pass a TOML file of [[banks]] tables (see mock_services/banks.toml)",
)
