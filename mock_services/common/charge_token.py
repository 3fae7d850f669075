"""The charge token: the gateway's signed promise to a bank that a payment of this amount may be charged.

At checkout the gateway gives the citizen's browser a token; the browser presents it to the bank
with the OTP. The bank trusts only what the token says (payment id, amount, bank, return URL, expiry),
so a citizen cannot change the amount on the way. Format::

    <base64url JSON claims>.<issued-at Unix seconds>.<hex HMAC-SHA512>

signed with the gateway's key over `signing.canonical("TOKEN", "/charge", issued_at, claims)`.
TEST KEYS ONLY (see `mock_services.common.signing`).
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass

from motcua.mock_services.common import signing
from motcua.mock_services.errors import ChargeTokenError as ChargeTokenError


@dataclass(frozen=True)
class ChargeClaims:
    """What a charge token grants: charging `amount_vnd` for `payment_id` at `bank_code` until `expires_at`."""

    payment_id: str
    amount_vnd: int
    bank_code: str
    return_url: str
    expires_at: float


def make_charge_token(claims: ChargeClaims, secret: bytes, issued_at: int) -> str:
    payload = json.dumps(claims.__dict__, separators=(",", ":"), sort_keys=True).encode()
    sig = signing.signature(secret, "TOKEN", "/charge", issued_at, payload)
    return f"{base64.urlsafe_b64encode(payload).decode().rstrip('=')}.{issued_at}.{sig}"


def read_charge_token(token: str, secret: bytes) -> ChargeClaims:
    """The claims of a genuine token; raise `ChargeTokenError` otherwise (expiry is the caller's check)."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or not parts[1].isdigit():
        raise ChargeTokenError("charge_token must be '<claims>.<issued_at>.<signature>' as given by the checkout")
    encoded, issued, sig = parts
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, TypeError):
        raise ChargeTokenError("charge_token claims are not base64url") from None
    expected = signing.signature(secret, "TOKEN", "/charge", int(issued), payload)
    if not hmac.compare_digest(expected, sig):
        raise ChargeTokenError("charge_token signature does not match (tampered or not issued by the gateway)")
    try:
        return ChargeClaims(**json.loads(payload))
    except (ValueError, TypeError) as exc:
        raise ChargeTokenError(f"charge_token claims are unreadable: {exc}") from None
