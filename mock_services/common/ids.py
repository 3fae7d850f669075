"""Identifiers: citizen ids (CCCD), agency codes, dossier (hồ sơ) codes and payment ids.

- CCCD (Căn cước công dân): 12 digits = 3-digit province code of birth registration,
  1 century/sex digit (0/1 = male/female born 1900–1999, 2/3 = 2000–2099, 4/5 = 2100–2199),
  2-digit birth year, 6 random digits (Circular 07/2016/TT-BCA).
- Agency code: the electronic identifier of an agency, pattern ``NNN.NN.NN.XNN`` as in
  QCVN 102:2016/BTTTT (e.g. ``000.00.12.H37``). The concrete codes used in the bundled
  scenarios are assumed, not the official ones of those agencies.
- Dossier code: ``<agency code>-YYMMDD-NNNN``, a 4-digit daily sequence per agency; the
  10,000th dossier of one agency in one day cannot be numbered.
- Payment id: the gateway's ``PAY`` + 16 hex digits, a hash of who asked and their idempotency key
  (a VNPay order's: terminal, day and ``vnp_TxnRef``), so the agency can name it before asking.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import numpy as np
from motcua.mock_services.errors import IdError as IdError

# Province codes of the CCCD (Circular 07/2016/TT-BCA) for the provinces the scenarios use.
PROVINCE_CODES: dict[str, str] = {
    "Hà Nội": "001",
    "Lạng Sơn": "020",
    "Sơn La": "014",
    "Phú Thọ": "025",
    "Đà Nẵng": "048",
    "Hồ Chí Minh": "079",
}

CCCD_RE = re.compile(r"^(\d{3})([0-5])(\d{2})(\d{6})$")
AGENCY_CODE_RE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
DOSSIER_CODE_RE = re.compile(r"^(\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})-(\d{6})-(\d{4})$")
MAX_DAILY_SEQUENCE = 9999
DEFAULT_AGENCY_CODE = "000.00.20.H37"
"""Assumed code of the mock agency (QCVN 102:2016 pattern; not an official code)."""


def _century_sex_digit(birth_year: int, female: bool) -> int:
    if not 1900 <= birth_year <= 2199:
        raise IdError(f"birth_year must be within 1900–2199, got {birth_year}")
    return 2 * ((birth_year - 1900) // 100) + int(female)


def make_cccd(province_code: str, birth_year: int, female: bool, rng: np.random.Generator) -> str:
    """A syntactically valid CCCD number for a person born in `birth_year`."""
    if not re.fullmatch(r"\d{3}", province_code):
        raise IdError(f"province_code must be 3 digits, got {province_code!r}")
    serial = int(rng.integers(0, 1_000_000))
    return f"{province_code}{_century_sex_digit(birth_year, female)}{birth_year % 100:02d}{serial:06d}"


def parse_cccd(number: str) -> tuple[str, int, bool]:
    """Return (province code, birth year, female) of a CCCD number, or raise `IdError`."""
    m = CCCD_RE.fullmatch(number or "")
    if not m:
        raise IdError(f"cccd must be 12 digits (province, century/sex, year, serial), got {number!r}")
    province, cs, yy, _ = m.groups()
    digit = int(cs)
    return province, 1900 + 100 * (digit // 2) + int(yy), bool(digit % 2)


def check_agency_code(code: str) -> str:
    if not AGENCY_CODE_RE.fullmatch(code or ""):
        raise IdError(f"agency_code must look like '000.00.12.H37' (QCVN 102:2016), got {code!r}")
    return code


def make_dossier_code(agency_code: str, day: dt.date, sequence: int) -> str:
    """The dossier code for the `sequence`-th dossier (1-based) of `agency_code` on `day`."""
    check_agency_code(agency_code)
    if not 2000 <= day.year <= 2099:
        raise IdError(f"dossier day {day.isoformat()} is outside 2000–2099, which a YYMMDD code cannot name")
    if not 1 <= sequence <= MAX_DAILY_SEQUENCE:
        raise IdError(
            f"dossier sequence {sequence} for {agency_code} on {day.isoformat()} is outside 1–9999: "
            "the daily numbering is exhausted, file it tomorrow"
        )
    return f"{agency_code}-{day:%y%m%d}-{sequence:04d}"


def parse_dossier_code(code: str) -> tuple[str, dt.date, int]:
    """Return (agency code, day, sequence) of a dossier code, or raise `IdError`."""
    m = DOSSIER_CODE_RE.fullmatch(code or "")
    if not m:
        raise IdError(f"dossier_code must look like '000.00.12.H37-240607-0001', got {code!r}")
    agency, yymmdd, seq = m.groups()
    try:
        # YYMMDD names a day of 2000–2099; strptime's %y would read 69–99 as the 1900s.
        day = dt.date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise IdError(f"dossier_code {code!r} has an impossible date {yymmdd!r}") from None
    return agency, day, int(seq)


def payment_id_for(key_id: str, idempotency_key: str) -> str:
    """The gateway's payment id follows from who asked and their idempotency key, so that a replayed load test
    gets the same ids, and fault decisions keyed by payment id repeat under the same seed."""
    return "PAY" + hashlib.sha256(f"{key_id}\n{idempotency_key}".encode()).hexdigest()[:16].upper()
