"""Fault injection: the ways the real payment systems fail, reproducible under a seed.

A tester describes faults in one TOML file (or the same table as JSON through ``PUT /admin/faults``),
with one section per service (shape in docs/contracts.md §2)::

    seed = 7
    [gateway]
    latency = { kind = "lognormal", p50_ms = 20, p95_ms = 200, routes = ["POST /payments"] }
    errors = { status = 503, rate = 0.05 }
    reset = { rate = 0.01 }           # the TCP connection is reset (RST) instead of an answer
    hang = { rate = 0.001, hang_s = 600 }   # no answer until the client gives up
    [gateway.ipn]
    lost = 0.1                        # the IPN is never sent; only reconciliation recovers it
    duplicate = { rate = 0.05, copies = 3 }
    reorder = 0.1                     # held back so that later IPNs overtake it
    early = 0.05                      # first attempt sent at once, racing the commit (see IpnFaults.early)
    amount_mismatch = 0.01            # first attempt carries a wrong amount (the agency answers 04)
    bad_signature = 0.01              # first attempt carries a bad signature (the agency answers 97)
    [bank]
    freeze = { start_s = 5, duration_s = 5 }   # every charge hangs during the window
    outage = { banks = ["AGRIBANK"], code = "75" }
    toxicity = 0.02                   # that fraction of charges fail with 75
    pending = 0.02                    # the bank never notifies: the agency must query or reconcile

``routes`` name aiohttp's canonical paths (``"POST /payments/{payment_id}/checkout"``); no ``routes`` means
every route of the service except the built-in ones (/healthz, /metrics, /openapi.json, /admin/*).
``latency``, ``errors``, ``reset`` and ``hang`` take one table, an array of tables, or a bare rate.

The file's shape is declared once, as the dataclasses below (`FaultFile` and its sections), and read through
`motcua.typed_config` (`FAULT_FILE`), so its errors read like those of every other configuration file;
the ``FaultTable`` JSON Schema each ``/openapi.json`` publishes is generated from the same dataclasses
(`mock_services.common.openapi`).

Public API (used by all three services)::

    table = load_fault_file(path)                 # -> FaultTable, or FaultConfigError naming file/field/value
    table = parse_faults(mapping, source="PUT /admin/faults")
    faults = table.for_service("gateway")          # -> ServiceFaults (its own numpy Generator)
    action = faults.http_action("POST", "/payments")   # -> HttpAction(delay_s, status, reset, hang_s)
    faults.ipn.lost, faults.ipn.duplicate_copies, ... ; faults.bank.freeze_active(now_s)
    faults.chance(rate)                  # a draw from the service's own generator, in arrival order
    faults.chance(rate, key="pay-123")   # an order-independent draw keyed by (seed, kind, key)

Reproducibility: each service section gets its own `numpy.random.Generator` spawned from
``SeedSequence(seed)`` (no global random state). Draws per request follow arrival order; decisions
about one payment (lost IPN, pending at the bank…) use a keyed hash so they do not depend on the
interleaving of concurrent requests. Payer cancel, expiry and duplicate create are behaviours of
the client; the load tests drive them.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from motcua.mock_services.errors import FaultConfigError as FaultConfigError

from motcua.payment_platform import BANK_CODE
from motcua.typed_config import ConfigFile, FieldProblem, spec

SERVICES = ("gateway", "bank", "agency")
Z95 = 1.6448536269514722
"""The 95th percentile of the standard normal: p95 = p50 · exp(Z95 · sigma) for a lognormal."""
DEFAULT_HANG_S = 600.0
ROUTE = r"(?:[A-Z]+ )?/[!-~]*"
"""A "METHOD /path" (or a bare path): printable ASCII without spaces, as aiohttp's canonical paths are."""


def lognormal_ms(rng: np.random.Generator, p50_ms: float, p95_ms: float) -> float:
    """One draw of a lognormal delay with the given median and 95th percentile (ms)."""
    if p50_ms <= 0:
        return 0.0
    sigma = max(math.log(max(p95_ms, p50_ms) / p50_ms), 0.0) / Z95
    return float(p50_ms * math.exp(sigma * rng.standard_normal()))


# --------------------------------------------------------------------------- rules (the file's schema)


def _rate(doc: str, default: float = 0.0) -> Any:
    return spec(doc, default, share=True, hint="a rate between 0 and 1, e.g. 0.05 for 5 %")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A fault applied at `rate` to requests on `routes` (``"METHOD /path"``; empty = every route)."""

    rate: float = _rate("share of the matching requests it hits")
    routes: tuple[str, ...] = spec('routes it applies to (none: every route of the service)', (), pattern=ROUTE,
                                   pattern_hint='a "METHOD /path" string, e.g. "POST /payments"')

    def matches(self, method: str, route: str) -> bool:
        if not self.routes:
            return True
        key = f"{method.upper()} {route}"
        return key in self.routes or route in self.routes


@dataclass(frozen=True, kw_only=True)
class LatencyRule(Rule):
    """A delay: ``fixed`` (`ms`), ``uniform`` (`min_ms`..`max_ms`) or ``lognormal`` (`p50_ms`, `p95_ms`)."""

    rate: float = _rate("share of the matching requests it delays", 1.0)
    kind: Literal["fixed", "uniform", "lognormal"] = spec("the delay's distribution", "fixed")
    ms: float = spec("the fixed delay", 0.0, unit="ms", ge=0)
    min_ms: float = spec("shortest uniform delay", 0.0, unit="ms", ge=0)
    max_ms: float = spec("longest uniform delay", 0.0, unit="ms", ge=0)
    p50_ms: float = spec("median of the lognormal delay", 0.0, unit="ms", ge=0)
    p95_ms: float = spec("95th percentile of the lognormal delay", 0.0, unit="ms", ge=0)

    def check(self) -> None:
        if self.kind == "uniform" and self.max_ms < self.min_ms:
            raise FieldProblem("max_ms", self.max_ms, f"below min_ms = {self.min_ms}")
        if self.kind == "lognormal" and self.p50_ms <= 0:
            raise FieldProblem("p50_ms", self.p50_ms, "must be > 0 for a lognormal delay")
        if self.kind == "lognormal" and self.p95_ms < self.p50_ms:
            raise FieldProblem("p95_ms", self.p95_ms, f"below p50_ms = {self.p50_ms}")

    def sample_s(self, rng: np.random.Generator) -> float:
        if self.kind == "fixed":
            return self.ms / 1000.0
        if self.kind == "uniform":
            return float(rng.uniform(self.min_ms, self.max_ms)) / 1000.0
        return lognormal_ms(rng, self.p50_ms, self.p95_ms) / 1000.0


@dataclass(frozen=True, kw_only=True)
class ErrorRule(Rule):
    """The service answers `status` instead of handling the request."""

    status: int = spec("the HTTP status answered", 503, ge=500, le=599, hint="an HTTP 5xx status such as 500 or 503")


@dataclass(frozen=True, kw_only=True)
class HangRule(Rule):
    """The service never answers (until `hang_s` has passed); the client must give up."""

    hang_s: float = spec("how long the request hangs", DEFAULT_HANG_S, unit="s", ge=0.001, le=86400)


def _rules(doc: str) -> Any:
    """A list of rules that also takes one table, or a bare rate as short for ``{ rate = … }``."""
    return spec(doc, (), shorthand="rate", one_or_many=True)


@dataclass(frozen=True, kw_only=True)
class Duplicate:
    """Extra copies of an IPN sent with its first attempt."""

    rate: float = _rate("share of IPNs duplicated")
    copies: int = spec("extra copies sent", 1, ge=1, le=100)


@dataclass(frozen=True, kw_only=True)
class IpnFaults:
    """Faults of the gateway's IPN delivery to the agency (rates in 0–1).

    - ``lost``: the IPN is never sent; only reconciliation (đối soát) recovers the payment.
    - ``duplicate`` (``rate``, ``copies``): `copies` extra copies are sent with the first attempt.
    - ``reorder``: the first attempt is held back by ``reorder_delay_s`` so that later IPNs overtake it.
    - ``early``: the first attempt is sent at once, before the gateway has committed the payment as paid,
      so the agency may receive the IPN before any record of it exists (a querydr then still says
      ``awaiting_bank``); the committed outbox delivers it again afterwards.
    - ``amount_mismatch``: the first attempt carries an amount 1,000 VND too high (the agency answers 04).
    - ``bad_signature``: the first attempt carries a wrong signature (the agency answers 97).
    """

    lost: float = _rate("share of IPNs never sent")
    duplicate: Duplicate = spec("extra copies of the first attempt (a bare rate: one copy)",
                                default_factory=Duplicate, shorthand="rate")
    reorder: float = _rate("share of IPNs held back so that later ones overtake them")
    reorder_delay_s: float = spec("how long a reordered IPN is held back", 1.0, unit="s", ge=0, le=3600)
    early: float = _rate("share of IPNs sent before the payment is committed")
    amount_mismatch: float = _rate("share of first attempts with an amount 1,000 VND too high")
    bad_signature: float = _rate("share of first attempts with a wrong signature")

    @property
    def duplicate_rate(self) -> float:
        return self.duplicate.rate

    @property
    def duplicate_copies(self) -> int:
        return self.duplicate.copies


@dataclass(frozen=True, kw_only=True)
class Freeze:
    """Every charge hangs while the window is open; seconds counted from when the fault table was loaded."""

    start_s: float = spec("when the freeze begins", 0.0, unit="s", ge=0)
    duration_s: float = spec("how long it lasts", 0.0, unit="s", ge=0)


@dataclass(frozen=True, kw_only=True)
class Outage:
    """These banks answer every charge with `code` (default 75, under maintenance)."""

    banks: tuple[str, ...] = spec("bank codes in outage", (), pattern=BANK_CODE,
                                  hint='a list of bank codes, e.g. ["AGRIBANK"]')
    code: str = spec("the response code they answer", "75", pattern=r"[0-9]{2}",
                     pattern_hint='a two-digit response code string such as "75"')


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """The HTTP faults of one service's section (the agency's whole section)."""

    latency: tuple[LatencyRule, ...] = _rules("delays")
    errors: tuple[ErrorRule, ...] = _rules("5xx answers instead of handling the request")
    reset: tuple[Rule, ...] = _rules("the TCP connection is reset (RST) instead of an answer")
    hang: tuple[HangRule, ...] = _rules("no answer until the client gives up")

    @property
    def has_http_faults(self) -> bool:
        return bool(self.latency or self.errors or self.reset or self.hang)


@dataclass(frozen=True, kw_only=True)
class GatewayFaults(ServiceSpec):
    """The gateway's section: HTTP faults and ``[gateway.ipn]``."""

    ipn: IpnFaults = spec("faults of the IPN delivery to the agency", default_factory=IpnFaults)


@dataclass(frozen=True, kw_only=True)
class BankFaults(ServiceSpec):
    """The bank service's section: HTTP faults, a freeze window, outages, toxicity, withheld notifications.

    - ``freeze``: every charge hangs while the window is open.
    - ``outage``: these banks answer every charge with its ``code``.
    - ``toxicity``: that fraction of all charges fail with 75.
    - ``pending``: that fraction of approved charges are never notified to the gateway.
    """

    freeze: Freeze | None = spec("a window in which every charge hangs", None)
    outage: Outage = spec("banks under maintenance", default_factory=Outage)
    toxicity: float = _rate("share of charges that fail with 75")
    pending: float = _rate("share of approved charges never notified to the gateway")

    def freeze_active(self, elapsed_s: float) -> bool:
        if self.freeze is None:
            return False
        return self.freeze.start_s <= elapsed_s < self.freeze.start_s + self.freeze.duration_s

    def freeze_remaining_s(self, elapsed_s: float) -> float:
        if self.freeze is None or not self.freeze_active(elapsed_s):
            return 0.0
        return self.freeze.start_s + self.freeze.duration_s - elapsed_s


@dataclass(frozen=True, kw_only=True)
class FaultFile:
    """A fault file (docs/contracts.md §2): the seed and one section per service."""

    seed: int | None = spec("seed of every fault draw (default: the service's --seed)", None, ge=0)
    gateway: GatewayFaults | None = spec("faults of the gateway", None)
    bank: BankFaults | None = spec("faults of the bank service", None)
    agency: ServiceSpec | None = spec("faults of the agency system", None)


FAULT_FILE = ConfigFile(FaultFile, "fault file", error=FaultConfigError, hint="see docs/contracts.md §2 for its shape")
NO_IPN_FAULTS = IpnFaults()
NO_BANK_FAULTS = BankFaults()


@dataclass(frozen=True)
class HttpAction:
    """What the fault middleware does to one request: wait `delay_s`, then answer `status`, reset or hang."""

    delay_s: float = 0.0
    status: int | None = None
    reset: bool = False
    hang_s: float | None = None

    @property
    def is_noop(self) -> bool:
        return self.delay_s == 0.0 and self.status is None and not self.reset and self.hang_s is None


NO_ACTION = HttpAction()


@dataclass(frozen=True)
class FaultTable:
    """A whole fault file: the seed, each service's section, and the raw table (for ``GET /admin/faults``)."""

    seed: int
    services: Mapping[str, ServiceSpec]
    raw: Mapping[str, Any]
    source: str = "<defaults>"

    def for_service(self, name: str, *, clock_start_s: float = 0.0) -> ServiceFaults:
        if name not in SERVICES:
            raise ValueError(f"service must be one of {SERVICES}, got {name!r}")
        return ServiceFaults(
            name, self.services.get(name, ServiceSpec()), self.seed, raw=self.raw, clock_start_s=clock_start_s
        )


class ServiceFaults:
    """The faults one running service applies, with its own random generator.

    `clock_start_s` is the monotonic time the table was loaded; time windows (``freeze``) count from it.
    """

    def __init__(
        self, service: str, spec: ServiceSpec, seed: int, *, raw: Mapping[str, Any] | None = None,
        clock_start_s: float = 0.0,
    ) -> None:
        self.service = service
        self.spec = spec
        self.seed = seed
        self.raw = dict(raw or {})
        self.clock_start_s = clock_start_s
        # One independent stream per service, so adding faults to one service does not shift another's draws.
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, SERVICES.index(service)])))

    @property
    def ipn(self) -> IpnFaults:
        return self.spec.ipn if isinstance(self.spec, GatewayFaults) else NO_IPN_FAULTS

    @property
    def bank(self) -> BankFaults:
        return self.spec if isinstance(self.spec, BankFaults) else NO_BANK_FAULTS

    def chance(self, rate: float, key: str | None = None, kind: str = "") -> bool:
        """True with probability `rate`: keyed (order-independent) if `key` is given, else from the generator."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        if key is None:
            return bool(self.rng.random() < rate)
        return keyed_uniform(self.seed, f"{self.service}:{kind}:{key}") < rate

    def http_action(self, method: str, route: str) -> HttpAction:
        """Decide, for one request, the delay and whether it fails, resets or hangs."""
        spec = self.spec
        if not spec.has_http_faults:
            return NO_ACTION
        delay = 0.0
        for latency in spec.latency:
            if latency.matches(method, route) and self.chance(latency.rate):
                delay += latency.sample_s(self.rng)
        for hang in spec.hang:
            if hang.matches(method, route) and self.chance(hang.rate):
                return HttpAction(delay_s=delay, hang_s=hang.hang_s)
        for reset in spec.reset:
            if reset.matches(method, route) and self.chance(reset.rate):
                return HttpAction(delay_s=delay, reset=True)
        for error in spec.errors:
            if error.matches(method, route) and self.chance(error.rate):
                return HttpAction(delay_s=delay, status=error.status)
        return HttpAction(delay_s=delay) if delay else NO_ACTION


def keyed_uniform(seed: int, key: str) -> float:
    """A uniform number in [0, 1) determined by (seed, key) alone."""
    digest = hashlib.blake2b(f"{seed}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


# --------------------------------------------------------------------------- reading


def parse_faults(table: object, *, source: str = "<fault table>", default_seed: int = 0) -> FaultTable:
    """Validate a fault table (from TOML or JSON) into a `FaultTable`; raise `FaultConfigError`."""
    parsed = FAULT_FILE.parse(table, file=source)
    assert isinstance(table, Mapping)  # the parse above refuses anything else
    services = {name: getattr(parsed, name) for name in SERVICES if getattr(parsed, name) is not None}
    seed = default_seed if parsed.seed is None else parsed.seed
    return FaultTable(seed=seed, services=services, raw=dict(table), source=source)


def load_fault_file(path: str | Path, *, default_seed: int = 0) -> FaultTable:
    """Read and validate a TOML fault file; errors name the file, the field and the value."""
    return parse_faults(FAULT_FILE.read(path), source=str(path), default_seed=default_seed)


NO_FAULTS = FaultTable(seed=0, services={}, raw={})


# --------------------------------------------------------------------------- checking against the services


def did_you_mean(value: str, known: Collection[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest of `known`, or the list of them when none is close."""
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known: {', '.join(sorted(known))}"


def check_fault_table(
    table: FaultTable, *, routes: Mapping[str, Collection[str]], banks: Collection[str] | None = None
) -> None:
    """`FaultConfigError` for a fault that could never fire: a route no service serves, or a bank not in `banks`.

    `routes` maps each service to its ``"METHOD /path"`` routes (as its ``/openapi.json`` lists them); a rule's
    bare path matches when some method of the service serves it. `banks` are the bank codes the run's catalogue
    holds (None: not checked). The shape of the file is checked when it is read (`parse_faults`); this is the
    second check, against the system the file is meant for.
    """
    for service, section in table.services.items():
        known = set(routes.get(service, ()))
        paths = {route.split(" ", 1)[-1] for route in known}
        for kind in ("latency", "errors", "reset", "hang"):
            for index, rule in enumerate(getattr(section, kind)):
                for route in rule.routes:
                    if route in known or route in paths:
                        continue
                    where = f"{service}.{kind}[{index}].routes"
                    raise FaultConfigError(
                        table.source, where, route,
                        f"not a route of the {service}; {did_you_mean(route, known if ' ' in route else paths)} "
                        "(routes as its /openapi.json lists them)",
                    )
    bank = table.services.get("bank")
    if banks is not None and isinstance(bank, BankFaults):
        for code in bank.outage.banks:
            if code not in banks:
                raise FaultConfigError(
                    table.source, "bank.outage.banks", code, f"not a bank of this run; {did_you_mean(code, banks)}"
                )
