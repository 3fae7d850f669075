"""The fee catalogue (biểu phí, lệ phí): which administrative procedures (TTHC) exist and what each costs.

A citizen filing a dossier (hồ sơ) names a procedure; the agency one-stop-shop system looks the fee up
here. A fee of zero means a free procedure: the dossier needs no payment. Per-page procedures
(certified copies) charge ``fee_vnd`` for each page.

The bundled catalogue is ``scenarios/fee-catalogue.toml``; `load_fee_catalogue` validates it and says
exactly which entry and field is wrong.
"""

# `spec(...)` returns a dataclasses.field() with metadata, which is what RUF009 cannot see.
# ruff: noqa: RUF009

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from motcua.mock_services.errors import CatalogueError as CatalogueError

from motcua.payment_platform import PAYMENT_GROUPS
from motcua.resources import bundled
from motcua.typed_config import ConfigFile, FieldProblem, check_unique, spec

DEFAULT_CATALOGUE = bundled("motcua.scenarios", "fee-catalogue.toml")
TEXT = r"\s*\S.*"
"""A non-empty line of text."""


@dataclass(frozen=True, kw_only=True)
class Procedure:
    """One administrative procedure (thủ tục hành chính) and its fee."""

    code: str = spec("short code used by the mocks (not the national portal's TTHC code)", pattern=TEXT,
                     pattern_hint="a non-empty code")
    name: str = spec("Vietnamese name as the citizen sees it", pattern=TEXT, pattern_hint="a non-empty name")
    group: str = spec("payment group", choices=PAYMENT_GROUPS)
    fee_vnd: int = spec("fee per unit; 0 for a free procedure", unit="VND", money=True)
    unit: Literal["dossier", "page"] = spec("dossier (one fee per dossier) or page (fee_vnd per page)", "dossier")
    assumed: bool = spec("true when the figure is an assumption rather than a cited national rate")
    source: str = spec("where the figure comes from, or why it is assumed", pattern=TEXT,
                       pattern_hint="say where the figure comes from")

    def fee_for(self, quantity: int = 1) -> int:
        """The fee of one dossier with `quantity` units (pages); per-dossier fees ignore the quantity."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"quantity must be a whole number >= 1, got {quantity!r}")
        return self.fee_vnd * (quantity if self.unit == "page" else 1)


@dataclass(frozen=True, kw_only=True)
class CatalogueInfo:
    """The ``[catalogue]`` table: what the file is."""

    title: str = spec("title of the catalogue", "")
    currency: Literal["VND"] = spec("the currency of every fee", "VND")


@dataclass(frozen=True, kw_only=True)
class FeeCatalogueFile:
    """A fee catalogue file: ``[catalogue]`` and its ``[[procedures]]``."""

    catalogue: CatalogueInfo = spec("what the file is", default_factory=CatalogueInfo)
    procedures: tuple[Procedure, ...] = spec("the procedures, as [[procedures]] tables")

    def check(self) -> None:
        if not self.procedures:
            raise FieldProblem("procedures", [], "no [[procedures]] entries; add at least one procedure")
        check_unique([p.code for p in self.procedures], "procedures", "code")


FEE_CATALOGUE = ConfigFile(FeeCatalogueFile, "fee catalogue", error=CatalogueError,
                           hint="pass the path of a fee-catalogue.toml")


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
    """Read and validate a fee catalogue TOML file (the bundled one by default); errors name entry and field."""
    path = Path(path) if path is not None else DEFAULT_CATALOGUE
    parsed = FEE_CATALOGUE.load(path)
    return FeeCatalogue(path=path, procedures={p.code: p for p in parsed.procedures})
