"""Observed shares that calibration fits: what was measured, for which unit and period, and how sure it is.

*Scenario.* Sơn La reported that 2.97%, 4.39% and 10.7% of people used online public services in 2020, 2021 and
2022: a proxy for the share of fee-bearing dossiers (hồ sơ) paid online, which is what the model computes. Each
row of an observed-shares CSV (``scenarios/observed/``) becomes an `Observation`: a unit (or ``*``, the region),
a period, a share, its kind, and a proxy's extra relative uncertainty.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path

from motcua.errors import InputError
from motcua.scenario import ALL_UNITS, Scenario
from motcua.typed_config import parse_date

PAYMENT_SHARE = "online_payment_share"
OBSERVATION_KINDS = {
    PAYMENT_SHARE: "share of fee-bearing dossiers paid online (what the model computes)",
    "online_service_share": "share of people (or dossiers) using online public services: a proxy for online payment",
    "online_dossier_share": "share of dossiers filed online: a proxy for online payment",
}
"""The kinds of observation `read_observed` accepts; every kind but the first is a proxy."""
DEFAULT_PROXY_SD = 0.25
"""Extra relative uncertainty of a proxy observation whose file does not state one (*assumed*)."""


@dataclasses.dataclass(frozen=True)
class Observation:
    """An observed share of fee-bearing dossiers paid online, for a unit (or the region) over a period."""

    unit: str
    start: dt.date
    end: dt.date
    share: float
    source: str = ""
    line: int = 0
    kind: str = "online_payment_share"
    """What was measured: `OBSERVATION_KINDS` (a proxy kind stands in for the share of fees paid online)."""
    proxy_sd: float = 0.0
    """Extra relative uncertainty of a proxy (0.3: the true share may differ from the proxy by ±30%, 1 sd)."""

    @property
    def is_proxy(self) -> bool:
        return self.kind != PAYMENT_SHARE

    def sd(self, noise: float) -> float:
        """The observation's total standard deviation: measurement noise and the proxy's extra uncertainty."""
        return math.hypot(noise, self.proxy_sd * self.share)


def read_observed(path: str | Path, scenario: Scenario) -> list[Observation]:
    """Read an observed-shares CSV (``unit,period_start,period_end,share[,source,note]``), validated."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--observed {path}: file not found (see scenarios/observed/ for examples)") from None
    rows = list(csv.DictReader(text.splitlines()))
    header = rows[0].keys() if rows else text.splitlines()[0].split(",") if text.strip() else []
    missing = [c for c in ("unit", "period_start", "period_end", "share") if c not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; the header must include "
                         "unit,period_start,period_end,share (source and note are optional)")
    unit_ids = {u.id for u in scenario.units}
    observations = [_observation(path, number, row, unit_ids) for number, row in enumerate(rows, start=2)]
    if not observations:
        raise InputError(f"{path}: no observations; add rows unit,period_start,period_end,share")
    return observations


def _observation(path: Path, line: int, row: Mapping[str, str], unit_ids: set[str]) -> Observation:
    def bad(column: str, problem: str) -> InputError:
        return InputError(f"{path}: line {line}, {column} = {row.get(column)!r}: {problem}")

    unit = (row.get("unit") or "").strip()
    if unit != ALL_UNITS and unit not in unit_ids:
        raise bad("unit", f"not a unit of the scenario; use one of {', '.join(sorted(unit_ids))} or '*' (region)")
    dates = {}
    for column in ("period_start", "period_end"):
        try:
            dates[column] = parse_date((row.get(column) or "").strip())
        except ValueError as exc:
            raise bad(column, str(exc)) from None
    if dates["period_end"] < dates["period_start"]:
        raise bad("period_end", f"before period_start {dates['period_start']}")
    try:
        share = float(row.get("share") or "")
    except ValueError:
        raise bad("share", "expected a number within 0–1") from None
    if not 0 <= share <= 1:
        hint = f"; if it is a percentage, write {share / 100:g}" if 1 < share <= 100 else ""
        raise bad("share", f"a share must be within 0–1{hint}")
    kind = (row.get("kind") or "").strip() or PAYMENT_SHARE
    if kind not in OBSERVATION_KINDS:
        raise bad("kind", f"not a kind of observation; use one of {', '.join(OBSERVATION_KINDS)}")
    text = (row.get("proxy_sd") or "").strip()
    try:
        proxy_sd = float(text) if text else (DEFAULT_PROXY_SD if kind != PAYMENT_SHARE else 0.0)
    except ValueError:
        raise bad("proxy_sd", "expected a number, the proxy's relative uncertainty (0.25 = ±25%)") from None
    if not 0 <= proxy_sd <= 2:
        raise bad("proxy_sd", "must be within 0–2 (a relative standard deviation; 0.25 = ±25%)")
    if proxy_sd and kind == PAYMENT_SHARE:
        proxies = ", ".join(list(OBSERVATION_KINDS)[1:])
        raise bad("proxy_sd", f"only a proxy has one; set kind to a proxy kind ({proxies})")
    return Observation(unit, dates["period_start"], dates["period_end"], share, (row.get("source") or "").strip(),
                       line, kind, proxy_sd)
