"""The assumptions a planner reads first, and the full list for the appendix, in plain words.

*Scenario.* Lạng Sơn's scenario rests on about a hundred numbers; a committee member reads eight. Which eight:
the ranking of the scenario's newest ``motcua sensitivity`` run when there is one (its Sobol' ranking first,
then the Morris screening of the other groups), else a fixed rule — the assumed numbers the adoption forecast
reads, in this order: the ceiling share, p, q and the effort weight of ``[adoption]``, the interventions, the
units (counters, dossiers, population), the citizens' behaviour (``[adoption.behaviour]``) and traits
(``[citizens]``), lapses, the payment system. The order follows the bundled scenarios' sensitivity runs (Sơn La's:
the ceiling share, then the counters and the fee-bearing dossiers; README).
Each row is a plain name (`motcua.report.field_names`), the value in the report's number format, and where it
comes from; no code paths or JSON. The appendix (`appendix_rows`) lists every provenance entry the same way,
with the field path for engineers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from motcua.report.field_names import field_name
from motcua.report.i18n import day, number, percent, text
from motcua.scenario import PROVENANCE_KINDS, provenance_entries
from motcua.typed_config import get_path

KEY_ROWS = 8
"""How many assumptions the main text lists."""
SECTION_ORDER = ("adoption.potential", "adoption.p", "adoption.q", "adoption.effort", "interventions", "region",
                 "adoption.behaviour", "citizens", "adoption.lapse", "adoption.return", "payment_system")
"""The documented rule without a sensitivity run: groups whose path starts with an earlier prefix come first."""


@dataclass(frozen=True)
class KeyAssumptions:
    """The main text's table of assumptions: rows (name, value, kind, what data would pin it down) and how ranked."""

    rows: list[list[str]]
    ranked_by: str


def kind_of(provenance: str) -> str:
    """The provenance kind of an entry ('observed', 'assumed', …), 'unmarked' when it has none."""
    kind = provenance.partition(":")[0].strip()
    return kind if kind in PROVENANCE_KINDS else "unmarked"


def value_text(value: Any, lang: str, *, share: bool = False, limit: int = 120, path: str = "") -> str:
    """A scenario value as a reader reads it: '45%', '1.234', '15/06/2024', 'có'; a table (the value at `path`) as
    'plain name: value; …'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return {"vi": ("có", "không"), "en": ("yes", "no")}[lang if lang in ("vi", "en") else "en"][not value]
    if isinstance(value, dt.date):
        return day(value.isoformat(), lang)
    if isinstance(value, int | float):
        if share and 0 <= value <= 1:
            return percent(value, lang, _digits(100 * value))
        return number(value, lang, _digits(value))
    if isinstance(value, Mapping):
        out = "; ".join(f"{_key_name(path, str(k), lang)}: "
                        + value_text(v, lang, limit=limit, path=f"{path}.{k}", share=_is_share(None, f"{path}.{k}"))
                        for k, v in value.items() if not isinstance(v, Mapping))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        out = ", ".join(value_text(v, lang, limit=limit) for v in value)
    else:
        out = str(value)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _key_name(path: str, key: str, lang: str) -> str:
    """A key of the table at `path` by its plain name, cut at its first parenthesis ('Hệ số đổi mới p')."""
    if not path:
        return key
    return field_name(f"{path}.{key}", lang).split(" (")[0].split(": ")[-1]


def _digits(value: float) -> int:
    """Decimals that show a value without noise: 3 significant figures, at most 4 decimals."""
    value = abs(float(value))
    if value == 0 or value.is_integer():
        return 0
    for digits in range(5):
        if value * 10**digits >= 100 or abs(round(value, digits) - value) < 1e-9:
            return digits
    return 4


def _is_share(scenario: Any, path: str) -> bool:
    from motcua.report.field_names import declared_spec

    found = declared_spec(path)
    return bool(found and found.share)


def group_value(scenario: Any, paths: Sequence[str], lang: str) -> str:
    """The value of a group of factors: one value, a range across units ('12.000 – 85.000'), or its parts."""
    data = scenario.to_dict()
    values = [(p, get_path(data, p)) for p in paths]
    numbers = [v for _, v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    share = _is_share(scenario, paths[0]) if paths else False
    if len(values) == 1:
        return value_text(values[0][1], lang, share=share)
    last = {p.rsplit(".", 1)[-1] for p, _ in values}
    if len(last) == 1 and len(numbers) == len(values):
        low, high = min(numbers), max(numbers)
        return value_text(low, lang, share=share) + ("" if low == high else " – " + value_text(high, lang, share=share))
    parts = [f"{field_name(p, lang).split(': ')[-1]} {value_text(v, lang, share=_is_share(scenario, p))}"
             for p, v in values[:3]]
    return "; ".join(parts) + (" …" if len(values) > 3 else "")


def key_assumptions(scenario: Any, sensitivity: Mapping[str, Any] | None, lang: str) -> KeyAssumptions:
    """The `KEY_ROWS` assumptions that matter most (see the module doc for the ranking), as table rows."""
    from motcua.errors import InputError
    from motcua.models.sensitivity import assumed_factors, what_data

    try:
        factors = assumed_factors(scenario)
    except InputError:  # nothing the simulation reads is marked assumed: nothing to rank
        return KeyAssumptions([], text(lang, "no_assumptions"))
    by_group: dict[str, list[Any]] = {}
    for f in factors:
        by_group.setdefault(f.group, []).append(f)
    if sensitivity and sensitivity.get("ranking"):
        order = _sensitivity_order(sensitivity)
        groups = [g for g in order if g in by_group] + [g for g in by_group if g not in order]
        ranked_by = text(lang, "ranked_by_sensitivity")
    else:
        groups = sorted(by_group, key=_rule_rank)
        ranked_by = text(lang, "ranked_by_rule")
    rows = []
    for group in groups[:KEY_ROWS]:
        members = by_group[group]
        rows.append([field_name(group, lang, scenario), group_value(scenario, [f.path for f in members], lang),
                     text(lang, f"k_{kind_of(members[0].why)}"), what_data(group, lang)])
    return KeyAssumptions(rows, ranked_by)


def _sensitivity_order(summary: Mapping[str, Any]) -> list[str]:
    """Groups by the sensitivity run: its Sobol' ranking, then the others by Morris mu* (largest relative)."""
    ranking = list(summary["ranking"])
    groups, morris = summary.get("groups", []), summary.get("morris", {})
    score = [0.0] * len(groups)
    for output in morris.values():
        mu = [m or 0.0 for m in output.get("mu_star", [])]
        top = max(mu, default=0.0) or 1.0
        score = [max(s, m / top) for s, m in zip(score, mu, strict=False)]
    rest = [g for _, g in sorted(zip(score, groups, strict=False), key=lambda x: -x[0]) if g not in ranking]
    return ranking + rest


def _rule_rank(group: str) -> int:
    return next((i for i, prefix in enumerate(SECTION_ORDER) if group.startswith(prefix)), len(SECTION_ORDER))


def appendix_rows(scenario: Any, quality: Mapping[str, Any] | None, lang: str) -> list[list[str]]:
    """Every provenance entry of the scenario (and every unmarked number): name, value, kind, source, field path."""
    data = scenario.to_dict()
    entries = provenance_entries(scenario)
    for path in scenario.unmarked_numbers():
        entries.setdefault(path, "")
    rows = []
    for path in sorted(entries):
        try:
            value = get_path(data, path)
        except (KeyError, ValueError, IndexError):
            value = None
        source = entries[path]
        rows.append([field_name(path, lang, scenario),
                     value_text(value, lang, share=_is_share(scenario, path), path=path, limit=240),
                     text(lang, f"k_{kind_of(source)}"), source.partition(":")[2].strip() or source, path])
    if quality and quality.get("measured") and "fed_back" in quality:
        fed = quality["fed_back"]
        measured = text(lang, "measured_by_this_run")
        for key, path, share in (("failure_rate", "payment_system.failure_rate", True),
                                 ("callback_p50_s", "payment_system.callback_delay_s.p50", False),
                                 ("callback_p95_s", "payment_system.callback_delay_s.p95", False)):
            rows.append([field_name(path, lang, scenario), value_text(round(fed[key], 4), lang, share=share),
                         text(lang, "k_observed"), measured, f"{path} (feedback/quality.json)"])
    return rows
