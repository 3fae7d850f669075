"""Exceptions of the mock services (gateway, banks, agency system and their common plumbing).

Hierarchy::

    MockServiceError                base: something a mock service refuses or cannot do
    ├── ApiError                    an HTTP error answer: status and JSON ``{error, message, field?}`` (contracts §1)
    ├── AnswerDropped               fault injection closed the connection instead of answering
    ├── SignatureError              a signed message's signature is missing, unknown, wrong or out of its time window
    ├── IllegalTransition           a payment asked to move between states the state machine does not connect
    ├── SequenceExhausted           the agency's daily dossier numbering (9,999) is used up
    ├── PageError                   the VNPay front refuses a payment URL (its error page's code)
    ├── ApiRefusal                  the VNPay front refuses a querydr/refund request (a documented code)
    ├── ValueError
    │   ├── MoneyError              an amount is not a valid whole number of VND
    │   ├── IdError                 an identifier (CCCD, agency code, dossier code) does not have its official form
    │   ├── ChargeTokenError        a charge token is malformed or its signature does not match
    │   ├── VietQrError             a payload is not a well-formed dynamic VietQR
    │   └── ServiceConfigError      a service's configuration holds a value it cannot run with
    └── motcua.errors.ConfigError
        ├── FaultConfigError        a fault file or fault table is wrong
        └── CatalogueError          the fee catalogue file is missing or an entry in it is wrong

(The ``ValueError`` and ``ConfigError`` branches are also subclasses of those: code that catches a
``ValueError`` from `parse_vnd`, or a ``ConfigError`` from a configuration file, keeps working.)

Part of the base layer with `mock_services.common.money` and `.ids`: it imports nothing but
`motcua.errors`. The modules that raise these classes re-export them (``from
motcua.mock_services.common.http import ApiError`` keeps working).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from motcua.errors import ConfigError

__all__ = [
    "AnswerDropped",
    "ApiError",
    "ApiRefusal",
    "CatalogueError",
    "ChargeTokenError",
    "FaultConfigError",
    "IdError",
    "IllegalTransition",
    "MockServiceError",
    "MoneyError",
    "PageError",
    "SequenceExhausted",
    "ServiceConfigError",
    "SignatureError",
    "VietQrError",
]


class MockServiceError(Exception):
    """Base of every exception the mock services define."""


# --------------------------------------------------------------------------- HTTP


class ApiError(MockServiceError):
    """An error answer: HTTP `status` with the JSON body ``{"error", "message", "field"?}``."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


class AnswerDropped(MockServiceError):
    """Fault injection closed the connection instead of answering."""


class SignatureError(MockServiceError):
    """A message's signature is missing, unknown, wrong or outside the time window."""


# --------------------------------------------------------------------------- payments and dossiers


class IllegalTransition(MockServiceError):
    """A payment was asked to move between two states that the state machine does not connect.

    `allowed` are the states reachable from `current` (`mock_services.common.payments.TRANSITIONS`).
    """

    def __init__(self, current: str, target: str, payment_id: str | None = None, *,
                 allowed: Iterable[str] = ()) -> None:
        self.current, self.target, self.payment_id = current, target, payment_id
        moves = ", ".join(sorted(str(state) for state in allowed)) or "none (final state)"
        who = f"payment {payment_id} " if payment_id else "a payment "
        super().__init__(f"{who}cannot move from {current} to {target}; allowed from {current}: {moves}")


class SequenceExhausted(MockServiceError):
    """The agency already numbered 9,999 dossiers today; the next one cannot get a code."""


# --------------------------------------------------------------------------- the VNPay front


class PageError(MockServiceError):
    """A payment URL refused: the error page's code (`vnpay_wire.PAGE_ERRORS`), the field at fault and why."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


class ApiRefusal(MockServiceError):
    """A query/refund request refused with a documented code (`vnpay_wire.API_CODES`); `terminal` signs the answer."""

    def __init__(self, code: str, message: str, terminal: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.terminal = code, message, terminal


# --------------------------------------------------------------------------- values


class MoneyError(MockServiceError, ValueError):
    """An amount is not a valid whole number of VND."""


class IdError(MockServiceError, ValueError):
    """An identifier does not have its official form."""


class ChargeTokenError(MockServiceError, ValueError):
    """A charge token is malformed or its signature does not match."""


class VietQrError(MockServiceError, ValueError):
    """A payload that is not a well-formed dynamic VietQR for a bank transfer (the message names the tag)."""


class ServiceConfigError(MockServiceError, ValueError):
    """A configuration's `field` holds a `value` the service cannot run with: ``"<field> <problem>, got <value>"``."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field, self.value, self.problem = field, value, problem
        super().__init__(f"{field} {problem}, got {value!r}")


# --------------------------------------------------------------------------- configuration files


class FaultConfigError(MockServiceError, ConfigError):
    """A fault file or fault table is wrong: ``"<source>: <field> = <value>: <problem>"``."""


class CatalogueError(MockServiceError, ConfigError):
    """The fee catalogue file is missing or an entry in it is wrong."""
