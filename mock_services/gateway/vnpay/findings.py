"""What the VNPay front noticed about the payment URLs a merchant sends: deviations from the documented
contract, accepted or refused, with a count and the first example of each (docs/contracts.md §1d).

*Scenario*: a district portal built on an open-source VNPay package sends payment URLs without
``vnp_ExpireDate``, with diacritics in ``vnp_OrderInfo`` and ``vnp_CreateDate`` in UTC. A real VNPay takes
them; so does the front by default, but it writes each deviation down here, so that the load test's
summary names them (``conformance``) instead of leaving the merchant's developer to guess. Refusals (code
01, 03, 70 …) are findings too, with the field named: the cause of journeys that never reached a bank.
``GET /vnpay/ipn-records`` hands them out with the IPN records.
"""

from __future__ import annotations

import collections
import time
from typing import Any

MAX_EVENTS = 1_000_000
EXAMPLE_CHARS = 200

DEVIATIONS = {
    "expire_date_missing": "vnp_ExpireDate missing (the front gives the payment 15 minutes)",
    "order_info_diacritics": "vnp_OrderInfo holds diacritics or other non-ASCII characters",
    "create_date_not_utc7": "vnp_CreateDate is not Viet Nam time (UTC+7) by the gateway's clock",
    "secure_hash_type_present": "vnp_SecureHashType sent (a VNPay 2.0 habit; 2.1.0 leaves it out)",
    "secure_hash_upper_case": "vnp_SecureHash in upper-case hex (VNPay's samples write lower case)",
    "signature_encoder": "signed with an encoder other than the documented WHATWG form encoding",
    "txn_ref_reused": "vnp_TxnRef reused within the day for another order or amount (refused with 01)",
    "ip_addr_not_ip": "vnp_IpAddr is not an IP address",
    "unknown_parameter": "a parameter VNPay 2.1.0 does not document",
    "refused": "payment URL refused (the error page's code and field)",
}
"""Every kind of finding and what it means; ``signature_encoder`` findings name the encoder."""


class Findings:
    """The findings of this gateway process, by terminal (bounded: the oldest are dropped)."""

    def __init__(self, limit: int = MAX_EVENTS) -> None:
        self.events: collections.deque[tuple[str, str, str, float, str]] = collections.deque(maxlen=limit)

    def note(self, tmn_code: str, kind: str, detail: str, example: str, *, now: float | None = None) -> None:
        """One deviation seen: `kind` (a `DEVIATIONS` key), `detail` (which encoder, which code and field)."""
        assert kind in DEVIATIONS, kind
        self.events.append((tmn_code, kind, detail, now if now is not None else time.time(),
                            example[:EXAMPLE_CHARS]))

    def summary(self, tmn_code: str, since: float) -> list[dict[str, Any]]:
        """``[{kind, detail, meaning, count, example, first_at}]`` of the terminal since `since`, commonest first."""
        counts: collections.Counter[tuple[str, str]] = collections.Counter()
        first: dict[tuple[str, str], tuple[float, str]] = {}
        for tmn, kind, detail, at, example in self.events:
            if tmn == tmn_code and at >= since:
                counts[(kind, detail)] += 1
                first.setdefault((kind, detail), (at, example))
        return [{"kind": kind, "detail": detail, "meaning": DEVIATIONS[kind], "count": count,
                 "example": first[(kind, detail)][1], "first_at": first[(kind, detail)][0]}
                for (kind, detail), count in counts.most_common()]
