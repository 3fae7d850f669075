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

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motcua.errors import InputError

SERVICES = ("gateway", "bank", "agency")
Z95 = 1.6448536269514722
"""The 95th percentile of the standard normal: p95 = p50 · exp(Z95 · sigma) for a lognormal."""
DEFAULT_HANG_S = 600.0


class ConfigFileError(InputError):
    """A configuration file of a mock service is wrong: ``"<source>: <field> = <value>: <problem>"``."""

    def __init__(self, source: str, field: str, value: object, problem: str) -> None:
        self.source, self.field, self.value, self.problem = source, field, value, problem
        super().__init__(f"{source}: {field} = {value!r}: {problem}")


class FaultConfigError(ConfigFileError):
    """A fault file or fault table is wrong; names the source, the field and the value."""


# --------------------------------------------------------------------------- latency


@dataclass(frozen=True, kw_only=True)
class Latency:
    """A delay distribution: ``fixed`` (ms), ``uniform`` (min_ms..max_ms) or ``lognormal`` (p50_ms, p95_ms)."""

    kind: str
    ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0

    def sample_s(self, rng: np.random.Generator) -> float:
        if self.kind == "fixed":
            return self.ms / 1000.0
        if self.kind == "uniform":
            return float(rng.uniform(self.min_ms, self.max_ms)) / 1000.0
        return lognormal_ms(rng, self.p50_ms, self.p95_ms) / 1000.0


def lognormal_ms(rng: np.random.Generator, p50_ms: float, p95_ms: float) -> float:
    """One draw of a lognormal delay with the given median and 95th percentile (ms)."""
    if p50_ms <= 0:
        return 0.0
    sigma = max(math.log(max(p95_ms, p50_ms) / p50_ms), 0.0) / Z95
    return float(p50_ms * math.exp(sigma * rng.standard_normal()))


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A fault applied at `rate` to requests on `routes` (``"METHOD /path"``; empty = every route)."""

    rate: float = 1.0
    routes: tuple[str, ...] = ()

    def matches(self, method: str, route: str) -> bool:
        if not self.routes:
            return True
        key = f"{method.upper()} {route}"
        return key in self.routes or route in self.routes


@dataclass(frozen=True, kw_only=True)
class LatencyRule(Rule):
    latency: Latency


@dataclass(frozen=True, kw_only=True)
class ErrorRule(Rule):
    status: int = 503


@dataclass(frozen=True, kw_only=True)
class HangRule(Rule):
    hang_s: float = DEFAULT_HANG_S


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


@dataclass(frozen=True, kw_only=True)
class IpnFaults:
    """Faults of the gateway's IPN delivery to the agency (rates in 0–1).

    - ``lost``: the IPN is never sent; only reconciliation (đối soát) recovers the payment.
    - ``duplicate_rate``/``duplicate_copies``: `copies` extra copies are sent with the first attempt.
    - ``reorder``: the first attempt is held back by ``reorder_delay_s`` so that later IPNs overtake it.
    - ``early``: the first attempt is sent at once, before the gateway has committed the payment as paid,
      so the agency may receive the IPN before any record of it exists (a querydr then still says
      ``awaiting_bank``); the committed outbox delivers it again afterwards.
    - ``amount_mismatch``: the first attempt carries an amount 1,000 VND too high (the agency answers 04).
    - ``bad_signature``: the first attempt carries a wrong signature (the agency answers 97).
    """

    lost: float = 0.0
    duplicate_rate: float = 0.0
    duplicate_copies: int = 1
    reorder: float = 0.0
    reorder_delay_s: float = 1.0
    early: float = 0.0
    amount_mismatch: float = 0.0
    bad_signature: float = 0.0


@dataclass(frozen=True, kw_only=True)
class BankFaults:
    """Faults of the bank service.

    - ``freeze_start_s``/``freeze_duration_s``: every charge hangs while the window is open; seconds
      counted from when the fault table was loaded.
    - ``outage_banks``/``outage_code``: these banks answer every charge with `outage_code` (default 75).
    - ``toxicity``: that fraction of all charges fail with 75.
    - ``pending``: that fraction of approved charges are never notified to the gateway.
    """

    freeze_start_s: float | None = None
    freeze_duration_s: float = 0.0
    outage_banks: tuple[str, ...] = ()
    outage_code: str = "75"
    toxicity: float = 0.0
    pending: float = 0.0

    def freeze_active(self, elapsed_s: float) -> bool:
        if self.freeze_start_s is None:
            return False
        return self.freeze_start_s <= elapsed_s < self.freeze_start_s + self.freeze_duration_s

    def freeze_remaining_s(self, elapsed_s: float) -> float:
        if not self.freeze_active(elapsed_s):
            return 0.0
        return self.freeze_start_s + self.freeze_duration_s - elapsed_s  # type: ignore[operator]


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """The parsed, validated faults of one service section."""

    latency: tuple[LatencyRule, ...] = ()
    errors: tuple[ErrorRule, ...] = ()
    reset: tuple[Rule, ...] = ()
    hang: tuple[HangRule, ...] = ()
    ipn: IpnFaults = field(default_factory=IpnFaults)
    bank: BankFaults = field(default_factory=BankFaults)

    @property
    def has_http_faults(self) -> bool:
        return bool(self.latency or self.errors or self.reset or self.hang)


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
        return self.spec.ipn

    @property
    def bank(self) -> BankFaults:
        return self.spec.bank

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
        for rule in spec.latency:
            if rule.matches(method, route) and self.chance(rule.rate):
                delay += rule.latency.sample_s(self.rng)
        for rule in spec.hang:
            if rule.matches(method, route) and self.chance(rule.rate):
                return HttpAction(delay_s=delay, hang_s=rule.hang_s)
        for rule in spec.reset:
            if rule.matches(method, route) and self.chance(rule.rate):
                return HttpAction(delay_s=delay, reset=True)
        for rule in spec.errors:
            if rule.matches(method, route) and self.chance(rule.rate):
                return HttpAction(delay_s=delay, status=rule.status)
        return HttpAction(delay_s=delay) if delay else NO_ACTION


def keyed_uniform(seed: int, key: str) -> float:
    """A uniform number in [0, 1) determined by (seed, key) alone."""
    digest = hashlib.blake2b(f"{seed}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


# --------------------------------------------------------------------------- parsing


class _Reader:
    """Reads one table with the source and dotted path at hand, so every error names both."""

    def __init__(self, source: str, prefix: str, table: object) -> None:
        self.source, self.prefix = source, prefix
        if not isinstance(table, Mapping):
            raise FaultConfigError(source, prefix or "<top>", table, "must be a table")
        self.table: Mapping[str, Any] = table

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def fail(self, key: str, value: object, problem: str) -> FaultConfigError:
        return FaultConfigError(self.source, self.name(key), value, problem)

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, self.table[key], f"unknown key; allowed here: {', '.join(sorted(allowed))}")

    def number(self, key: str, default: float, *, low: float = 0.0, high: float = math.inf) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(key, value, f"must be a number within {low}–{high}")
        return float(value)

    def rate(self, key: str, default: float = 0.0) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise self.fail(key, value, "must be a rate between 0 and 1 (e.g. 0.05 for 5 %)")
        return float(value)

    def routes(self) -> tuple[str, ...]:
        value = self.table.get("routes", [])
        if not isinstance(value, list) or not all(isinstance(r, str) and r for r in value):
            raise self.fail("routes", value, 'must be a list of "METHOD /path" strings, e.g. ["POST /payments"]')
        return tuple(value)

    def sub(self, key: str) -> _Reader:
        return _Reader(self.source, self.name(key), self.table[key])


def _rate_or_table(reader: _Reader, key: str) -> _Reader:
    """Accept ``key = 0.01`` as shorthand for ``key = { rate = 0.01 }``."""
    value = reader.table[key]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _Reader(reader.source, reader.name(key), {"rate": value})
    return reader.sub(key)


def _parse_latency(reader: _Reader) -> LatencyRule:
    reader.check_keys({"kind", "ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "rate", "routes"})
    kind = reader.table.get("kind", "fixed")
    if kind == "fixed":
        latency = Latency(kind=kind, ms=reader.number("ms", 0.0))
    elif kind == "uniform":
        low, high = reader.number("min_ms", 0.0), reader.number("max_ms", 0.0)
        if high < low:
            raise reader.fail("max_ms", high, f"must be ≥ min_ms ({low})")
        latency = Latency(kind=kind, min_ms=low, max_ms=high)
    elif kind == "lognormal":
        p50, p95 = reader.number("p50_ms", 0.0, low=1e-9), reader.number("p95_ms", 0.0, low=1e-9)
        if p95 < p50:
            raise reader.fail("p95_ms", p95, f"must be ≥ p50_ms ({p50})")
        latency = Latency(kind=kind, p50_ms=p50, p95_ms=p95)
    else:
        raise reader.fail("kind", kind, 'must be "fixed", "uniform" or "lognormal"')
    return LatencyRule(latency=latency, rate=reader.rate("rate", 1.0), routes=reader.routes())


def _parse_errors(reader: _Reader) -> ErrorRule:
    reader.check_keys({"status", "rate", "routes"})
    status = reader.table.get("status", 503)
    if isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599:
        raise reader.fail("status", status, "must be an HTTP 5xx status such as 500 or 503")
    return ErrorRule(status=status, rate=reader.rate("rate"), routes=reader.routes())


def _parse_ipn(reader: _Reader) -> IpnFaults:
    reader.check_keys({"lost", "duplicate", "reorder", "reorder_delay_s", "early", "amount_mismatch", "bad_signature"})
    copies, dup_rate = 1, 0.0
    if "duplicate" in reader.table:
        dup = _rate_or_table(reader, "duplicate")
        dup.check_keys({"rate", "copies"})
        dup_rate = dup.rate("rate")
        copies = int(dup.number("copies", 1, low=1, high=100))
    return IpnFaults(
        lost=reader.rate("lost"),
        duplicate_rate=dup_rate,
        duplicate_copies=copies,
        reorder=reader.rate("reorder"),
        reorder_delay_s=reader.number("reorder_delay_s", 1.0, high=3600),
        early=reader.rate("early"),
        amount_mismatch=reader.rate("amount_mismatch"),
        bad_signature=reader.rate("bad_signature"),
    )


def _parse_bank(reader: _Reader) -> BankFaults:
    start, duration = None, 0.0
    if "freeze" in reader.table:
        freeze = reader.sub("freeze")
        freeze.check_keys({"start_s", "duration_s"})
        start, duration = freeze.number("start_s", 0.0), freeze.number("duration_s", 0.0)
    banks: tuple[str, ...] = ()
    code = "75"
    if "outage" in reader.table:
        outage = reader.sub("outage")
        outage.check_keys({"banks", "code"})
        value = outage.table.get("banks", [])
        if not isinstance(value, list) or not all(isinstance(b, str) and b for b in value):
            raise outage.fail("banks", value, 'must be a list of bank codes, e.g. ["AGRIBANK"]')
        banks = tuple(value)
        code = outage.table.get("code", "75")
        if not isinstance(code, str) or len(code) != 2 or not code.isdigit():
            raise outage.fail("code", code, 'must be a two-digit response code string such as "75"')
    return BankFaults(
        freeze_start_s=start, freeze_duration_s=duration, outage_banks=banks, outage_code=code,
        toxicity=reader.rate("toxicity"), pending=reader.rate("pending"),
    )


def _parse_plain_rule(item: _Reader) -> Rule:
    item.check_keys({"rate", "routes"})
    return Rule(rate=item.rate("rate"), routes=item.routes())


def _parse_hang(item: _Reader) -> HangRule:
    item.check_keys({"rate", "routes", "hang_s"})
    return HangRule(rate=item.rate("rate"), routes=item.routes(),
                    hang_s=item.number("hang_s", DEFAULT_HANG_S, low=0.001, high=86400))


def _rules(reader: _Reader, key: str, parse: Any) -> tuple[Any, ...]:
    """One rule (a table, or a bare rate as short for ``{ rate = … }``) or an array of rules."""
    if key not in reader.table:
        return ()
    value = reader.table[key]
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        name = f"{reader.name(key)}[{i}]" if isinstance(value, list) else reader.name(key)
        if isinstance(item, int | float) and not isinstance(item, bool):
            item = {"rate": item}
        out.append(parse(_Reader(reader.source, name, item)))
    return tuple(out)


def _parse_service(reader: _Reader, service: str) -> ServiceSpec:
    allowed = {"latency", "errors", "reset", "hang"}
    allowed |= {"ipn"} if service == "gateway" else set()
    allowed |= {"freeze", "outage", "toxicity", "pending"} if service == "bank" else set()
    reader.check_keys(allowed)
    return ServiceSpec(
        latency=_rules(reader, "latency", _parse_latency),
        errors=_rules(reader, "errors", _parse_errors),
        reset=_rules(reader, "reset", _parse_plain_rule),
        hang=_rules(reader, "hang", _parse_hang),
        ipn=_parse_ipn(reader.sub("ipn")) if "ipn" in reader.table else IpnFaults(),
        bank=_parse_bank(reader) if service == "bank" else BankFaults(),
    )


def parse_faults(table: object, *, source: str = "<fault table>", default_seed: int = 0) -> FaultTable:
    """Validate a fault table (from TOML or JSON) into a `FaultTable`; raise `FaultConfigError`."""
    reader = _Reader(source, "", table)
    reader.check_keys({"seed", *SERVICES})
    seed = reader.table.get("seed", default_seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise reader.fail("seed", seed, "must be a non-negative integer")
    services = {name: _parse_service(reader.sub(name), name) for name in SERVICES if name in reader.table}
    return FaultTable(seed=seed, services=services, raw=dict(reader.table), source=source)


def load_fault_file(path: str | Path, *, default_seed: int = 0) -> FaultTable:
    """Read and validate a TOML fault file; errors name the file, the field and the value."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FaultConfigError(str(path), "<file>", None, f"cannot read the fault file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FaultConfigError(str(path), "<file>", None, f"not valid TOML: {exc}") from None
    return parse_faults(data, source=str(path), default_seed=default_seed)


NO_FAULTS = FaultTable(seed=0, services={}, raw={})
