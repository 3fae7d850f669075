"""Signed messages between the services: HMAC-SHA512 over a canonical string with a timestamp.

Modelled on the VNPay contract (``vnp_SecureHash`` is HMAC-SHA512 over the request data), adapted
to JSON bodies. The canonical string of a message is::

    <timestamp>\\n<METHOD>\\n<path with query>\\n<hex SHA-256 of the body>

and three headers carry the signature::

    X-Motcua-Key-Id     which shared secret signed it (one per agency, bank or the gateway)
    X-Motcua-Timestamp  Unix seconds when it was signed
    X-Motcua-Signature  hex HMAC-SHA512 of the canonical string

A message is accepted only if the key is known, the signature matches (constant-time
comparison) and the timestamp is within the tolerance window; anything older or from the
future is refused as a replay.

TEST KEYS ONLY: the secrets in `TEST_KEYS` are published in this repository and protect nothing.
A real deployment loads its secrets from its own configuration, never from source code.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from motcua.mock_services.errors import SignatureError as SignatureError

HEADER_KEY_ID = "X-Motcua-Key-Id"
HEADER_TIMESTAMP = "X-Motcua-Timestamp"
HEADER_SIGNATURE = "X-Motcua-Signature"
DEFAULT_TOLERANCE_S = 300
"""Messages more than five minutes old (or ahead) are refused as replays."""

# TEST KEYS ONLY — published here, protect nothing. Key ids: "gateway" signs IPNs and reports,
# "bank" signs bank notifications, "agency:<agency code>" or "agency" signs agency requests.
TEST_KEYS: dict[str, bytes] = {
    "gateway": b"TEST-ONLY-gateway-secret-not-for-production",
    "bank": b"TEST-ONLY-bank-secret-not-for-production",
    "agency": b"TEST-ONLY-agency-secret-not-for-production",
}


def canonical(method: str, path: str, timestamp: int, body: bytes) -> bytes:
    """The exact bytes that are signed."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{timestamp}\n{method.upper()}\n{path}\n{digest}".encode()


def signature(secret: bytes, method: str, path: str, timestamp: int, body: bytes) -> str:
    return hmac.digest(secret, canonical(method, path, timestamp, body), "sha512").hex()  # one-shot C HMAC


def sign(
    key_id: str,
    secret: bytes,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers that sign a message from `key_id`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        HEADER_KEY_ID: key_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: signature(secret, method, path, ts, body),
    }


def verify(
    keys: Mapping[str, bytes],
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> str:
    """Check a signed message; return the key id that signed it or raise `SignatureError`."""
    key_id = headers.get(HEADER_KEY_ID)
    ts_text = headers.get(HEADER_TIMESTAMP)
    given = headers.get(HEADER_SIGNATURE)
    if not key_id or not ts_text or not given:
        raise SignatureError(
            f"missing signature headers: {HEADER_KEY_ID}, {HEADER_TIMESTAMP} and {HEADER_SIGNATURE} are required"
        )
    secret = keys.get(key_id)
    if secret is None:
        raise SignatureError(f"unknown key id {key_id!r}")
    try:
        ts = int(ts_text)
    except ValueError:
        raise SignatureError(f"{HEADER_TIMESTAMP} must be Unix seconds, got {ts_text!r}") from None
    expected = signature(secret, method, path, ts, body)
    if not hmac.compare_digest(expected, given.strip().lower()):
        raise SignatureError("signature does not match the message")
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError(
            f"timestamp {ts} is {current - ts:+.0f} s from now, outside the ±{tolerance_s} s window (replay?)"
        )
    return key_id
