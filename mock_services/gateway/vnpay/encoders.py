"""The URL encoders VNPay's official samples sign with, and which one a merchant's signature was made with.

VNPay signs ``key=value`` pairs URL-encoded "as the merchant's language does" (docs/contracts.md §1b): the
documented reference is the WHATWG form encoding, but the official samples each use their platform's
encoder, and those differ on a handful of characters. Written from each encoder's documented behaviour:

================================  ==========================  ========  ===========
encoder (samples that use it)     kept as is besides A-Za-z0-9  space     hex
================================  ==========================  ========  ===========
``form``: WHATWG                  ``* - . _``                 ``+``     upper
application/x-www-form-urlencoded
(Node ``URLSearchParams``, HTML
forms; Java ``URLEncoder`` keeps
the same set, JDK docs)
``php_urlencode`` (PHP manual)    ``- . _``                   ``+``     upper
``python_quote_plus`` (urllib     ``- . _ ~`` (RFC 3986         ``+``     upper
docs; VNPay's Python sample)      unreserved)
``dotnet_webutility``             ``- . _ ! * ( )``           ``+``     upper
(``WebUtility.UrlEncode``)
``dotnet_httputility``            ``- . _ ! * ( )``           ``+``     lower
(``HttpUtility.UrlEncode``)
``node_uri_component_plus``       ``- . _ ! ~ * ' ( )``       ``+``     upper
(``encodeURIComponent`` with
``%20`` → ``+``: VNPay's Node
sample)
``node_querystring``              ``- . _ ! ~ * ' ( )``       ``%20``   upper
(``querystring.escape``,
``encodeURIComponent``)
``rfc3986`` (``qs`` default,      ``- . _ ~``                 ``%20``   upper
PHP ``rawurlencode``)
================================  ==========================  ========  ===========

`matching_encoder` computes the signature of every distinct encoding and compares each with
``hmac.compare_digest`` (no early exit: the time does not say which matched beyond how many encodings
differ for these parameters, which follows from the parameters themselves).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from motcua.mock_services.common import vnpay_wire as wire

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


@dataclass(frozen=True)
class Encoder:
    """One platform's URL encoding of a string's UTF-8 bytes."""

    name: str
    """How findings name it (``form``, ``php_urlencode`` …)."""
    samples: str
    """Which VNPay samples or libraries sign with it."""
    keep: frozenset[str]
    """Characters written as they are (besides ASCII letters and digits)."""
    space: str
    """What a space becomes: ``+`` or ``%20``."""
    upper_hex: bool = True
    """``%2A`` (upper) or ``%2a`` (lower)."""

    def encode(self, text: str) -> str:
        out = []
        for char in text:
            if char in _ALNUM or char in self.keep:
                out.append(char)
            elif char == " ":
                out.append(self.space)
            else:
                out.extend(f"%{byte:02X}" if self.upper_hex else f"%{byte:02x}" for byte in char.encode())
        return "".join(out)

    def sign_data(self, params: Mapping[str, Any]) -> str:
        """The signed text of a query with this encoder (sorted, non-empty, without the hash fields)."""
        return "&".join(
            f"{self.encode(key)}={self.encode(str(value))}" for key, value in sorted(params.items())
            if key not in wire.HASH_FIELDS and value is not None and value != ""
        )


ENCODERS = (
    Encoder("form", "WHATWG form encoding: Node URLSearchParams, HTML forms, Java URLEncoder", frozenset("*-._"), "+"),
    Encoder("php_urlencode", "PHP urlencode (VNPay's PHP sample)", frozenset("-._"), "+"),
    Encoder("python_quote_plus", "Python urllib.parse.quote_plus (VNPay's Python sample)", frozenset("-._~"), "+"),
    Encoder("dotnet_webutility", "C# WebUtility.UrlEncode (VNPay's .NET sample)", frozenset("-._!*()"), "+"),
    Encoder("dotnet_httputility", "C# HttpUtility.UrlEncode (lower-case hex)", frozenset("-._!*()"), "+",
            upper_hex=False),
    Encoder("node_uri_component_plus", "JavaScript encodeURIComponent with %20 → + (VNPay's Node sample)",
            frozenset("-._!~*'()"), "+"),
    Encoder("node_querystring", "Node querystring.escape / encodeURIComponent", frozenset("-._!~*'()"), "%20"),
    Encoder("rfc3986", "RFC 3986 percent-encoding: qs (default), PHP rawurlencode", frozenset("-._~"), "%20"),
)
"""Every encoder a merchant's signature is checked against, the documented one (``form``) first."""
BY_NAME = {e.name: e for e in ENCODERS}
REFERENCE = "form"


def matching_encoder(params: Mapping[str, str], secret: bytes, *, strict: bool = False) -> str | None:
    """The name of the encoder whose signature equals ``vnp_SecureHash`` (the documented one when several
    encodings coincide), or None. `strict`: the documented encoding only. Upper-case hex is compared
    as lower case (see `hash_is_upper_case`)."""
    given = params.get("vnp_SecureHash", "")
    given_bytes = (given if strict else given.lower()).encode()
    candidates = ENCODERS[:1] if strict else ENCODERS
    seen: dict[str, str] = {}  # signed text → the first encoder that produces it
    for encoder in candidates:
        seen.setdefault(encoder.sign_data(params), encoder.name)
    found = None
    for data, name in seen.items():
        digest = hmac.new(secret, data.encode(), hashlib.sha512).hexdigest().encode()
        if hmac.compare_digest(digest, given_bytes) and found is None:
            found = name
    return found


def hash_is_upper_case(params: Mapping[str, str]) -> bool:
    """``vnp_SecureHash`` written in upper-case hex (VNPay's samples write lower case)."""
    given = params.get("vnp_SecureHash", "")
    return given != given.lower()
