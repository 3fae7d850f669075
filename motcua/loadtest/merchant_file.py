"""The merchant file: how motcua drives a merchant system under test (``--merchant FILE``; docs/contracts.md §6b).

*Scenario*: the district portal's order route needs a logged-in session, so its file says how a citizen
logs in (``[login]``: the session's cookies are kept for the rest of the visit), which headers the start
request carries (``Authorization``…), and whether its body is JSON or a form. The citizens' journeys
(`locustfiles.merchant`) read it; `motcua.loadtest.merchant` runs and judges it. Read through
`motcua.typed_config`: an error names file, field and value.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009
from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlparse

from motcua.errors import ConfigError
from motcua.loadtest.runner.options import LOOPBACK
from motcua.typed_config import ConfigFile, FieldProblem, spec

PLACEHOLDERS = ("name", "cccd", "phone", "email", "amount_vnd", "procedure", "group", "ref")
"""What a ``[start]`` body or URL may contain: the citizen (Faker vi_VN), the fee and a unique reference."""
URL_PATTERN = r"https?://[^\s]{1,2040}"
START_REQUEST = "merchant: start payment"
"""The Locust name of the citizen's start request (its p99 is the ``create_p99_ms`` gate)."""


def _placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def _check_template(path: str, text: str, allowed: tuple[str, ...]) -> None:
    try:
        names = _placeholders(text)
    except ValueError as exc:
        raise FieldProblem(path, text, f"is not a valid template ({exc}); write {{name}}, and {{{{ for a brace") \
            from None
    unknown = sorted(names - set(allowed))
    if unknown:
        raise FieldProblem(path, text, f"unknown placeholder {{{unknown[0]}}}; known: "
                           + ", ".join(f"{{{p}}}" for p in allowed))


@dataclass(frozen=True, kw_only=True)
class StartPayment:
    """How a citizen starts a payment at the merchant; the answer carries the ``vpcpay.html`` URL."""

    method: Literal["GET", "POST"] = spec("HTTP method of the merchant's route that starts a payment", "POST")
    url: str = spec("that route; may contain placeholders such as {ref}", pattern=URL_PATTERN,
                    pattern_hint="an http(s) URL")
    body: Mapping[str, str] = spec("fields sent (JSON for POST, query for GET); values are templates, and a "
                                   "value that is exactly \"{amount_vnd}\" is sent as a number",
                                   default_factory=dict)
    encoding: Literal["json", "form"] = spec("how a POST body is sent", "json")
    headers: Mapping[str, str] = spec("headers of the request (e.g. Authorization = \"Bearer …\"); values are "
                                      "templates", default_factory=dict)
    pay_url_in: Literal["json", "redirect"] = spec("where the answer gives the payment URL: a JSON field, or the "
                                                   "Location of a redirect", "json")
    pay_url_field: str = spec("dotted path of the payment URL in the JSON answer", "pay_url")

    def check(self) -> None:
        _check_request(self.url, self.body, self.headers)


def _check_request(url: str, body: Mapping[str, str], headers: Mapping[str, str]) -> None:
    _check_template("url", url, PLACEHOLDERS)
    for key, value in body.items():
        _check_template(f"body.{key}", value, PLACEHOLDERS)
    for key, value in headers.items():
        _check_template(f"headers.{key}", value, PLACEHOLDERS)


@dataclass(frozen=True, kw_only=True)
class Login:
    """How a citizen logs in before starting a payment; the session's cookies go with every later request."""

    method: Literal["GET", "POST"] = spec("HTTP method of the merchant's login route", "POST")
    url: str = spec("the login route", pattern=URL_PATTERN, pattern_hint="an http(s) URL")
    body: Mapping[str, str] = spec("fields sent (templates, as [start] body)", default_factory=dict)
    encoding: Literal["json", "form"] = spec("how a POST body is sent", "form")
    headers: Mapping[str, str] = spec("headers of the request (templates)", default_factory=dict)

    def check(self) -> None:
        _check_request(self.url, self.body, self.headers)


@dataclass(frozen=True, kw_only=True)
class MerchantIpn:
    """The merchant's IPN URL: registered on the mock terminal, which the gateway calls with GET."""

    url: str = spec("the merchant's IPN route", pattern=URL_PATTERN, pattern_hint="an http(s) URL")


@dataclass(frozen=True, kw_only=True)
class OrderStatus:
    """Where a citizen (or the merchant's staff) sees whether an order is paid."""

    url: str = spec("status route of one order; {txn_ref} is the order's vnp_TxnRef", pattern=URL_PATTERN,
                    pattern_hint="an http(s) URL with {txn_ref}")
    paid_field: str = spec("dotted path of a JSON field that is true once the order is paid", "paid")
    credits_field: str = spec("dotted path of a JSON field counting the order's credits (empty: none)", "")

    def check(self) -> None:
        _check_template("url", self.url, ("txn_ref",))
        if "txn_ref" not in _placeholders(self.url):
            raise FieldProblem("url", self.url, "must contain {txn_ref}, the order's vnp_TxnRef")


@dataclass(frozen=True, kw_only=True)
class MerchantFile:
    """A merchant system under test (``--merchant FILE``)."""

    name: str = spec("a label for the report", "merchant under test")
    gateway_port: int = spec("loopback port of motcua's VNPay front during the run: configure the merchant's "
                             "VNPay host as http://127.0.0.1:PORT (terminal MOTCUA01, the bundled TEST secret)",
                             18080, ge=1024, le=65535)
    start: StartPayment = spec("[start]: how a citizen starts a payment")
    ipn: MerchantIpn = spec("[ipn]: the merchant's IPN URL")
    status: OrderStatus | None = spec("[status]: optional order status URL", None)
    login: Login | None = spec("[login]: optional login step before [start]; its cookies are kept", None)
    cancel_share: float = spec("share of citizens who cancel at the gateway's payer page (the merchant's cancel "
                               "path: vnp_ResponseCode 24)", 0.05, share=True)
    abandon_share: float = spec("share of citizens who leave the payer page without paying (the payment expires)",
                                0.05, share=True)

    def check(self) -> None:
        if self.cancel_share + self.abandon_share > 1:
            raise FieldProblem("abandon_share", self.abandon_share, f"cancel_share + abandon_share must be at most 1 "
                               f"(cancel_share is {self.cancel_share})")

    def urls(self) -> dict[str, str]:
        out = {"start.url": self.start.url, "ipn.url": self.ipn.url}
        if self.login is not None:
            out["login.url"] = self.login.url
        if self.status is not None:
            out["status.url"] = self.status.url
        return out


MERCHANT_FILE = ConfigFile(MerchantFile, "merchant file", hint="see docs/contracts.md §6b")
"""The merchant file kind, read through `motcua.typed_config` like every configuration file."""


def load_merchant(path: str | Path, *, allow_non_loopback: bool = False) -> MerchantFile:
    """The merchant file at `path`; `ConfigError` (exit 2) naming file, field and value otherwise."""
    merchant = MERCHANT_FILE.load(path)
    if not allow_non_loopback:
        for key, url in merchant.urls().items():
            host = urlparse(url.replace("{", "").replace("}", "")).hostname or ""
            if host not in LOOPBACK:
                raise ConfigError(str(path), key, url, f"host {host!r} is not loopback; this workbench only loads "
                                    "127.0.0.1 unless --allow-non-loopback is given (and you own the system)")
    return merchant


def fill(template: str, values: Mapping[str, Any]) -> str:
    return template.format_map(dict(values))


def start_request(start: StartPayment | Login, values: Mapping[str, Any]) -> tuple[str, Any]:
    """The filled URL and body of a citizen's start (or login) request (amount as a number where asked)."""
    body: dict[str, Any] = {}
    for key, template in start.body.items():
        body[key] = int(values["amount_vnd"]) if template == "{amount_vnd}" else fill(template, values)
    return fill(start.url, values), body


def request_kwargs(step: StartPayment | Login, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The URL and the keyword arguments (body, headers) of the step's request, for a requests-like client."""
    url, body = start_request(step, values)
    headers = {key: fill(value, values) for key, value in step.headers.items()}
    kwargs: dict[str, Any] = {}
    if step.method == "GET":
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(body)}" if body else url
    elif step.encoding == "form":
        kwargs["data"] = urlencode(body)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    else:
        kwargs["json"] = body
    if headers:
        kwargs["headers"] = headers
    return url, kwargs


def dig(data: Any, dotted: str) -> Any:
    """``a.b.c`` of a JSON value; None when absent."""
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data
