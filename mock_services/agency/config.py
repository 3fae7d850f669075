"""What one agency system needs to run (`AgencyConfig`), declared once: defaults, checks and command-line options."""

# `option(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from motcua.mock_services.common import signing
from motcua.mock_services.common.catalogue import FeeCatalogue, load_fee_catalogue
from motcua.mock_services.common.ids import DEFAULT_AGENCY_CODE, check_agency_code
from motcua.mock_services.common.service_config import ServiceConfig, check, is_http_url, option
from motcua.mock_services.common.vnpay_terminals import Terminal

PROTOCOLS = ("motcua", "vnpay")
"""How the agency integrates the gateway: motcua's JSON API, or VNPay 2.1.0 (`mock_services.agency.vnpay`)."""
MAX_EXPIRES_IN_S = 604_800
"""A payment may be asked to stay payable for at most 7 days."""


@dataclass(frozen=True, kw_only=True)
class AgencyConfig(ServiceConfig):
    """What one agency system needs to run (it schedules nothing: `time_scale` is checked, not used)."""

    gateway_url: str = option("--gateway-url", "base URL of the payment gateway", required=True)
    """The gateway's base URL (a trailing ``/`` is dropped)."""
    agency_code: str = option("--agency-code", "this agency's code (000.00.12.H37 form)",
                              default=DEFAULT_AGENCY_CODE)
    catalogue: FeeCatalogue = option("--catalogue", "fee catalogue TOML (default scenarios/fee-catalogue.toml)",
                                     default_factory=load_fee_catalogue, load=load_fee_catalogue)
    public_url: str = option("--public-url", "URL the gateway uses to reach this service")
    """The agency's own base URL as the gateway reaches it (the IPN URL is ``<public_url>/ipn``); on the command
    line ``http://<host>:<port>`` unless given."""
    keys: Mapping[str, bytes] = field(default_factory=lambda: dict(signing.TEST_KEYS))
    """Shared secrets by key id (TEST KEYS ONLY by default)."""
    gateway_timeout_s: float = option("--gateway-timeout-s", "timeout of one call to the gateway", default=5.0,
                                      read=float)
    expires_in_s: int = option("--payment-expires-s", "the payments it asks for expire this many seconds after "
                               "creation (1–604800)", default=900, read=int)
    protocol: str = option("--protocol", "integrate the gateway by motcua's JSON API or by VNPay 2.1.0 (signed "
                           "URLs, IPN GET)", default="motcua", choices=PROTOCOLS)
    """How the agency integrates the gateway: motcua (JSON API) or vnpay (VNPay 2.1.0, `mock_services.agency.vnpay`)."""
    vnpay_terminal: Terminal | None = None
    """The agency's VNPay terminal (``--protocol vnpay``; on the command line from ``--terminals``, ``--tmn-code``)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("gateway_url", "public_url"):
            url = getattr(self, name)
            check(is_http_url(url), name, url, "must be an http(s) URL")
            object.__setattr__(self, name, url.rstrip("/"))
        check_agency_code(self.agency_code)  # IdError: "agency_code must look like '000.00.12.H37' …, got …"
        check(1 <= self.expires_in_s <= MAX_EXPIRES_IN_S, "expires_in_s", self.expires_in_s,
              f"must be within 1–{MAX_EXPIRES_IN_S} seconds")
        check(self.protocol in PROTOCOLS, "protocol", self.protocol, f"must be one of {', '.join(PROTOCOLS)}")
