"""VietQR (NAPAS EMVCo merchant-presented QR) payloads: build, read and check the CRC.

Scene (Sơn La's QR lever): at the one-stop-shop counter the officer shows the citizen a dynamic QR for the
dossier's fee; the citizen scans it with any bank's app, which transfers exactly that amount to the
collection account with the bill number, and the payment completes like any other (bank notification →
IPN). The payload is a string of TLV fields (2-digit id, 2-digit length, value)::

    00 01                       payload format
    01 12                       dynamic (with an amount); 11 is static
    38 { 00 A000000727          NAPAS GUID
         01 { 00 BIN, 01 account }
         02 QRIBFTTA }          transfer to an account (QRIBFTTC: to a card)
    53 704                      VND
    54 amount                   whole VND
    58 VN
    62 { 01 bill number, 08 purpose }   each ≤ 25 characters
    63 CRC                      CRC-16/CCITT-FALSE over everything before it, "6304" included; 4 upper-case hex

The collection account below is motcua's ASSUMED test account, not a real one.
"""

from __future__ import annotations

from dataclasses import dataclass

from motcua.mock_services.errors import VietQrError as VietQrError

NAPAS_GUID = "A000000727"
TO_ACCOUNT = "QRIBFTTA"
COLLECTION_BIN = "970415"
"""Bank identification number of the collection account's bank (VietinBank's BIN; the account is ASSUMED)."""
COLLECTION_ACCOUNT = "113366668888"
"""motcua's ASSUMED test collection account (not a real account)."""
MAX_ADDITIONAL = 25


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) of `text`, as 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in text.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQrError(f"tag {tag}: value of {len(value)} characters; at most 99")
    return f"{tag}{len(value):02d}{value}"


def ascii_text(text: str, limit: int = MAX_ADDITIONAL) -> str:
    """Upper-case ASCII letters, digits and spaces (what bank apps show), cut to `limit`."""
    import unicodedata

    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    kept = "".join(c for c in plain if c.isascii() and (c.isalnum() or c in " -."))
    return kept.upper()[:limit]


def build(amount_vnd: int, bill_number: str, purpose: str, *, bin_code: str = COLLECTION_BIN,
          account: str = COLLECTION_ACCOUNT) -> str:
    """The dynamic VietQR payload of one payment (amount in whole VND)."""
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int) or amount_vnd <= 0:
        raise VietQrError(f"amount must be a positive whole number of VND, got {amount_vnd!r}")
    if not 1 <= len(bill_number) <= MAX_ADDITIONAL:
        raise VietQrError(f"bill number {bill_number!r} must be 1–{MAX_ADDITIONAL} characters")
    beneficiary = tlv("00", bin_code) + tlv("01", account)
    merchant = tlv("00", NAPAS_GUID) + tlv("01", beneficiary) + tlv("02", TO_ACCOUNT)
    additional = tlv("01", bill_number) + tlv("08", ascii_text(purpose))
    body = (tlv("00", "01") + tlv("01", "12") + tlv("38", merchant) + tlv("53", "704") + tlv("54", str(amount_vnd))
            + tlv("58", "VN") + tlv("62", additional) + "6304")
    return body + crc16(body)


def fields(text: str, where: str = "payload") -> dict[str, str]:
    """The TLV fields of `text` by tag; VietQrError when a length runs past the end."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        tag, length = text[i:i + 2], text[i + 2:i + 4]
        if len(tag) < 2 or not length.isdigit():
            raise VietQrError(f"{where}: a field at {i} has no 2-digit length")
        value = text[i + 4:i + 4 + int(length)]
        if len(value) != int(length):
            raise VietQrError(f"{where}: tag {tag} says {length} characters, only {len(value)} left")
        out[tag] = value
        i += 4 + int(length)
    return out


@dataclass(frozen=True)
class VietQr:
    """What a bank app reads from a dynamic VietQR."""

    bin_code: str
    account: str
    amount_vnd: int
    bill_number: str
    purpose: str


def parse(payload: str) -> VietQr:
    """Check the CRC and the tags of a dynamic transfer-to-account VietQR; VietQrError naming the tag otherwise."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQrError("tag 63 (CRC) must end the payload")
    if crc16(payload[:-4]) != payload[-4:].upper():
        raise VietQrError(f"tag 63: CRC {payload[-4:]} does not match {crc16(payload[:-4])}: the payload was altered")
    top = fields(payload[:-8])
    expected = {"00": "01", "01": "12", "53": "704", "58": "VN"}
    for tag, value in expected.items():
        if top.get(tag) != value:
            raise VietQrError(f"tag {tag} must be {value} (dynamic VND transfer), got {top.get(tag)!r}")
    merchant = fields(top.get("38", ""), "tag 38")
    if merchant.get("00") != NAPAS_GUID or merchant.get("02") != TO_ACCOUNT:
        raise VietQrError(f"tag 38 must be NAPAS ({NAPAS_GUID}) to an account ({TO_ACCOUNT})")
    beneficiary = fields(merchant.get("01", ""), "tag 38.01")
    amount = top.get("54", "")
    if not amount.isdigit() or int(amount) <= 0:
        raise VietQrError(f"tag 54 (amount) must be a positive whole number of VND, got {amount!r}")
    additional = fields(top.get("62", ""), "tag 62")
    if not additional.get("01"):
        raise VietQrError("tag 62.01 (bill number) is missing")
    return VietQr(beneficiary.get("00", ""), beneficiary.get("01", ""), int(amount), additional["01"],
                  additional.get("08", ""))
