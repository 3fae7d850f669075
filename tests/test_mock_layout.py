"""The mock services' layout: one package per service with pinned public names, `python -m` entry points,
and one module holding every exception class (its tree in its docstring)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import motcua.mock_services.agency as agency
import motcua.mock_services.bank as bank
import motcua.mock_services.gateway as gateway
import motcua.mock_services.gateway.vnpay as gateway_vnpay
import pytest
from motcua.mock_services import errors

MOCK_SERVICES = Path(errors.__file__).parent

PUBLIC = {
    gateway: ["ACK_CODES", "DEFAULT_IPN_DELAYS_S", "GATEWAY", "Gateway", "GatewayConfig", "build_app", "main",
              "parse_schedule"],
    gateway_vnpay: ["VnpayFront", "add_routes"],
    bank: ["BANK", "BANK_CATALOGUE", "DEFAULT_CATALOGUE", "WRONG_OTP", "Bank", "BankCatalogueError", "BankConfig",
           "BankProfile", "build_app", "load_catalogue", "main"],
    agency: ["AGENCY", "DEFAULT_AGENCY_CODE", "PROTOCOLS", "Agency", "AgencyConfig", "build_app", "main"],
    errors: ["AnswerDropped", "ApiError", "ApiRefusal", "CatalogueError", "ChargeTokenError", "FaultConfigError",
             "IdError", "IllegalTransition", "MockServiceError", "MoneyError", "PageError", "SequenceExhausted",
             "ServiceConfigError", "SignatureError", "VietQrError"],
}


@pytest.mark.parametrize("module", list(PUBLIC), ids=lambda m: m.__name__)
def test_public_names_are_pinned_and_importable(module):
    assert sorted(module.__all__) == sorted(PUBLIC[module])
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_each_service_runs_as_a_module(tmp_path):
    for service in ("gateway", "bank", "agency"):
        proc = subprocess.run([sys.executable, "-m", f"motcua.mock_services.{service}", "--help"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"usage: python -m motcua.mock_services.{service} ")


def _exception_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base) for base in node.bases]
            if any(b.endswith(("Error", "Exception", "Exhausted", "Transition", "Refusal", "Dropped")) for b in bases):
                found.append(node.name)
    return found


def test_every_exception_class_of_the_mock_services_lives_in_errors():
    elsewhere = {str(p.relative_to(MOCK_SERVICES)): names for p in sorted(MOCK_SERVICES.rglob("*.py"))
                 if p.name != "errors.py" and (names := _exception_classes(p))}
    assert elsewhere == {}


def test_the_errors_docstring_draws_every_class_and_each_has_a_one_line_docstring():
    tree = errors.__doc__ or ""
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.MockServiceError)
        assert f" {name} " in tree, f"{name} is missing from the tree in mock_services/errors.py"
        assert cls.__doc__ and cls.__doc__.strip().splitlines()[0].endswith("."), name


def test_errors_keep_their_old_homes_and_kinds():
    from motcua.mock_services.common.catalogue import CatalogueError
    from motcua.mock_services.common.faults import FaultConfigError
    from motcua.mock_services.common.http import ApiError
    from motcua.mock_services.common.money import MoneyError
    from motcua.mock_services.common.payments import IllegalTransition, State, transition

    from motcua.errors import ConfigError

    assert (CatalogueError, FaultConfigError, ApiError, MoneyError) == (
        errors.CatalogueError, errors.FaultConfigError, errors.ApiError, errors.MoneyError)
    assert issubclass(MoneyError, ValueError) and issubclass(FaultConfigError, ConfigError)
    with pytest.raises(IllegalTransition, match=r"^payment P1 cannot move from paid to created; allowed from "
                                                r"paid: partially_refunded, refunded$") as info:
        transition("paid", "created", "P1")
    assert info.value.current is State.PAID and info.value.target is State.CREATED
    with pytest.raises(IllegalTransition, match=r"^a payment cannot move from expired to paid; allowed from "
                                                r"expired: none \(final state\)$"):
        transition(State.EXPIRED, State.PAID)
