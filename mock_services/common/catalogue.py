"""The fee catalogue (biểu phí, lệ phí): which administrative procedures (TTHC) exist and what each costs.

A citizen filing a dossier (hồ sơ) names a procedure; the agency one-stop-shop system looks the fee up
here. A fee of zero means a free procedure: the dossier needs no payment. Per-page procedures
(certified copies) charge ``fee_vnd`` for each page.

The bundled catalogue is ``scenarios/fee-catalogue.toml``; `load_fee_catalogue` validates it and says
exactly which entry and field is wrong.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_services.common.money import MoneyError, parse_vnd
from motcua.errors import InputError

DEFAULT_CATALOGUE = Path(__file__).resolve().parents[2] / "scenarios" / "fee-catalogue.toml"

PAYMENT_GROUPS = ("fee", "tax", "insurance", "fine", "electricity")
"""The five payment groups of the national payment platform: fees and charges, taxes, social and
health insurance, administrative fines, electricity bills."""

UNITS = ("dossier", "page")
REQUIRED = ("code", "name", "group", "fee_vnd", "assumed", "source")


class CatalogueError(InputError):
    """The fee catalogue file is missing or an entry in it is wrong."""


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure (thủ tục hành chính) and its fee."""

    code: str
    name: str
    """Vietnamese name as the citizen sees it."""
    group: str
    """Payment group, one of `PAYMENT_GROUPS`."""
    fee_vnd: int
    """Fee per unit in VND; 0 for a free procedure."""
    unit: str
    """``dossier`` (one fee per dossier) or ``page`` (``fee_vnd`` per page)."""
    assumed: bool
    """True when the figure is an assumption rather than a cited national rate."""
    source: str

    def fee_for(self, quantity: int = 1) -> int:
        """The fee of one dossier with `quantity` units (pages); per-dossier fees ignore the quantity."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"quantity must be a whole number >= 1, got {quantity!r}")
        return self.fee_vnd * (quantity if self.unit == "page" else 1)


@dataclass(frozen=True)
class FeeCatalogue:
    """The procedures by code, in file order."""

    path: Path
    procedures: Mapping[str, Procedure]

    def __getitem__(self, code: str) -> Procedure:
        try:
            return self.procedures[code]
        except KeyError:
            known = ", ".join(self.procedures)
            raise KeyError(
                f"procedure_code {code!r} is not in the fee catalogue {self.path.name} (known: {known})"
            ) from None

    def __contains__(self, code: object) -> bool:
        return code in self.procedures

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self.procedures.values())

    def __len__(self) -> int:
        return len(self.procedures)

    def paid(self) -> list[Procedure]:
        """The procedures that carry a fee."""
        return [p for p in self if p.fee_vnd > 0]


def load_fee_catalogue(path: Path | str | None = None) -> FeeCatalogue:
    """Read and validate a fee catalogue TOML file (the bundled one by default)."""
    path = Path(path) if path is not None else DEFAULT_CATALOGUE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{path}: fee catalogue not found; pass the path of a fee-catalogue.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML ({exc})") from None
    entries = data.get("procedures")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{path}: no [[procedures]] entries; add at least one procedure")
    procedures: dict[str, Procedure] = {}
    for index, entry in enumerate(entries):
        procedure = _procedure(path, index, entry)
        if procedure.code in procedures:
            raise CatalogueError(
                f"{path}: procedures[{index}].code = {procedure.code!r} is a duplicate; codes must be unique"
            )
        procedures[procedure.code] = procedure
    return FeeCatalogue(path=path, procedures=procedures)


def _procedure(path: Path, index: int, entry: Any) -> Procedure:
    where = f"{path}: procedures[{index}]"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where} must be a table, got {entry!r}")
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise CatalogueError(f"{where} lacks {', '.join(missing)}; every procedure needs {', '.join(REQUIRED)}")
    for key in ("code", "name", "source"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise CatalogueError(f"{where}.{key} = {entry[key]!r}: must be a non-empty string")
    if entry["group"] not in PAYMENT_GROUPS:
        raise CatalogueError(f"{where}.group = {entry['group']!r}: must be one of {', '.join(PAYMENT_GROUPS)}")
    try:
        fee = parse_vnd(entry["fee_vnd"], "fee_vnd")
    except MoneyError as exc:
        raise CatalogueError(f"{where}: {exc}") from None
    unit = entry.get("unit", "dossier")
    if unit not in UNITS:
        raise CatalogueError(f"{where}.unit = {unit!r}: must be one of {', '.join(UNITS)}")
    if not isinstance(entry["assumed"], bool):
        raise CatalogueError(f"{where}.assumed = {entry['assumed']!r}: must be true or false")
    return Procedure(
        code=entry["code"],
        name=entry["name"],
        group=entry["group"],
        fee_vnd=fee,
        unit=unit,
        assumed=entry["assumed"],
        source=entry["source"],
    )
