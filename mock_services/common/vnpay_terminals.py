"""VNPay merchant terminals (website/terminal ids, ``vnp_TmnCode``) registered at the gateway mock.

A terminal is what VNPay gives a merchant when it signs up: an 8-character ``tmn_code``, the shared
``hash_secret`` that signs every message, and the IPN URL that VNPay calls (configured per terminal,
never per request). motcua adds the agency the terminal collects for and the payment group, so that a
VNPay payment sits in the same ledger, reconciliation and reports as a JSON-API one.

The file (``--terminals FILE`` on the gateway; default `DEFAULT_TERMINALS`, one TEST terminal)::

    [[terminals]]
    tmn_code = "MOTCUA01"
    hash_secret = "TESTONLY..."            # TEST secret, published: protects nothing
    ipn_url = "http://127.0.0.1:8081/vnpay/ipn"
    agency_code = "000.00.20.H37"

It is read through `motcua.typed_config`, so an error names the file, the field and the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mock_services.common.catalogue import PAYMENT_GROUPS
from mock_services.common.ids import AGENCY_CODE_RE
from motcua.typed_config import FieldProblem, read_file, spec

DEFAULT_TERMINALS = Path(__file__).resolve().parent.parent / "vnpay_terminals.toml"
URL_PATTERN = r"https?://[^\s]{1,2040}"


@dataclass(frozen=True, kw_only=True)
class Terminal:
    """One merchant terminal (website) of the VNPay front."""

    tmn_code: str = spec("vnp_TmnCode: 8 upper-case letters or digits", pattern=r"[A-Z0-9]{8}",
                         pattern_hint="8 upper-case letters or digits, e.g. MOTCUA01")
    hash_secret: str = spec("the shared secret (vnp_HashSecret) that signs every message; TEST values only",
                            pattern=r"[\x21-\x7e]{16,128}", pattern_hint="16–128 printable ASCII characters")
    agency_code: str = spec("the agency this terminal collects for (QCVN 102:2016 form)",
                            pattern=AGENCY_CODE_RE.pattern.strip("^$"), pattern_hint="like 000.00.20.H37")
    ipn_url: str = spec("where the gateway sends IPNs (GET); empty: the gateway's --default-ipn-url", "",
                        pattern=f"|{URL_PATTERN}", pattern_hint="an http(s) URL, or empty")
    group: str = spec("payment group of its payments", "fee")
    name: str = spec("a label for people", "")
    refund_amount_signing: Literal["x100", "vnd"] = spec(
        "how the refund answer's vnp_Amount is signed: x100 as sent (VNPay's rule), or vnd (÷100, what the npm "
        "vnpay library's refund check recomputes); docs/contracts.md §1b", "x100")

    def check(self) -> None:
        if self.group not in PAYMENT_GROUPS:
            raise FieldProblem("group", self.group, f"must be one of {', '.join(PAYMENT_GROUPS)}")


@dataclass(frozen=True, kw_only=True)
class TerminalFile:
    """The terminals of a gateway (at least one; ``tmn_code`` unique)."""

    terminals: tuple[Terminal, ...] = spec("the [[terminals]] tables")

    def check(self) -> None:
        if not self.terminals:
            raise FieldProblem("terminals", [], "add at least one [[terminals]] table")
        seen: set[str] = set()
        for i, terminal in enumerate(self.terminals):
            if terminal.tmn_code in seen:
                raise FieldProblem(f"terminals[{i}].tmn_code", terminal.tmn_code, "is used by an earlier terminal")
            seen.add(terminal.tmn_code)


def load_terminals(path: str | Path = DEFAULT_TERMINALS) -> dict[str, Terminal]:
    """The terminals of `path` by ``tmn_code``; `ScenarioError` naming file, field and value otherwise."""
    parsed: TerminalFile = read_file(TerminalFile, path, "the terminal file")
    return {t.tmn_code: t for t in parsed.terminals}


def default_terminal() -> Terminal:
    """The first terminal of the bundled file (what `motcua mock` prints)."""
    return next(iter(load_terminals().values()))
