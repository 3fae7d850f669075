"""The scenario editor: a form over the fields a planner changes, validated by the scenario schema itself.

*Scenario.* A planner opens her copy of ``lang-son-2024``, types the start of "QR at the counter" as
``2024-07-01`` and its cost, and presses Save. The form's input names are the schema's field paths
(``interventions[3].start``), so when the real loader (`motcua.scenario.scenario_from_dict`) refuses the data with a
`ScenarioError`, its ``field`` names the input to mark and its ``problem`` is shown there, in Vietnamese
(`motcua.studio.problems`). Nothing here repeats a rule of the schema.

The file is edited as a `tomlkit` document: a value the form did not change is not touched, so comments, the
layout and ``[provenance]`` stay as they were, and what is saved is an ordinary TOML scenario that
``motcua scenario check`` accepts. An intervention or a unit added here gets a provenance entry saying so;
deleting an intervention renumbers the ``interventions[i]`` provenance keys after it, deleting a unit removes its
``region.units[<id>]`` entries. Each unit's row holds its population, dossiers, observed start share with its
source, and its counter staffing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from motcua.atomic import write_text
from motcua.errors import ScenarioError
from motcua.report.field_names import field_name
from motcua.scenario import Scenario, scenario_from_dict

KINDS = ("qr_at_counter", "counter_guidance", "community_digital_team", "post_office_help", "information_campaign",
         "vneid_drive", "online_fee_reduction", "refuse_in_person_filing")
"""Intervention kinds, in the order the form offers them (the schema's `InterventionKind`)."""
ALL = "*"
ADVANCED_SECTIONS = ("adoption", "adoption.behaviour", "citizens")
"""Sections whose numbers the "advanced" part shows, each with its provenance badge."""
STUDIO_PROVENANCE = "assumed: added in motcua studio on {date}; intensity and cost to be checked"
STUDIO_UNIT_PROVENANCE = ("assumed: added in motcua studio on {date}; population, dossiers and counters copied from "
                          "the unit before it, to be checked")

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Field:
    """One input of the form: its schema path (also its HTML name), how it is typed, and what it shows."""

    path: str
    label: str
    kind: str
    """``text``, ``date``, ``int``, ``number``, ``percent`` (a share shown ×100), ``money``, ``select``, ``units``."""
    value: Any = ""
    choices: tuple[tuple[str, str], ...] = ()
    optional: bool = False
    """Empty means "not written" (the key is removed) rather than an error."""
    badge: str = ""
    """Provenance kind (``observed``, ``assumed`` …) for the advanced part."""
    source: str = ""
    help: str = ""


@dataclass
class FormResult:
    """What checking a submitted form gave: the scenario when valid, else the error on its field; warnings."""

    doc: tomlkit.TOMLDocument
    raw: dict[str, str]
    scenario: Scenario | None = None
    error: ScenarioError | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.scenario is not None


# ---------------------------------------------------------------------------------------------
# Paths inside a TOML document (tomlkit containers and plain dicts alike)
# ---------------------------------------------------------------------------------------------
def split_path(path: str) -> list[str | int]:
    """``interventions[3].start`` → ``["interventions", 3, "start"]``."""
    return [int(index) if index else name for name, index in _TOKEN.findall(path)]


def get_in(node: Any, path: str, default: Any = None) -> Any:
    for key in split_path(path):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return default
    return node


def set_in(node: Any, path: str, value: Any) -> None:
    """Set `value` at `path`, creating tables on the way; ``None`` removes the key."""
    keys = split_path(path)
    for key in keys[:-1]:
        if isinstance(key, str) and key not in node:
            node[key] = tomlkit.table()
        node = node[key]
    last = keys[-1]
    if value is None:
        if isinstance(last, str) and last in node:
            del node[last]
    else:
        node[last] = value


def plain(value: Any) -> Any:
    """A tomlkit value as plain Python (dates stay dates)."""
    return value.unwrap() if hasattr(value, "unwrap") else value


# ---------------------------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------------------------
def form_fields(doc: tomlkit.TOMLDocument, scenario: Scenario | None, tr: Any) -> dict[str, list[Any]]:
    """The form's groups of fields, with the values of `doc` (`scenario` gives defaults and provenance)."""
    data = doc.unwrap()
    sources = tuple((s["id"], s["id"]) for s in get_in(data, "scenario.sources", []) or [])
    units_named = [(u["id"], u.get("name") or u["id"]) for u in get_in(data, "region.units", [])]
    unit_choices = ((ALL, tr("all_units_choice")), *units_named)
    kinds = tuple((k, tr(f"k_{k}")) for k in KINDS)

    def value(path: str) -> Any:
        return get_in(data, path, "")

    general = [Field("scenario.title", tr("f_title"), "text", value("scenario.title")),
               Field("simulation.start", tr("f_start"), "date", value("simulation.start")),
               Field("simulation.horizon_days", tr("f_horizon_days"), "int", value("simulation.horizon_days")),
               Field("simulation.replications", tr("f_replications"), "int",
                     value("simulation.replications") or 20),
               Field("simulation.seed", tr("f_seed"), "int", value("simulation.seed"))]
    units = [unit_fields(i, unit, sources, tr) for i, unit in enumerate(get_in(data, "region.units", []))]
    interventions: list[list[Field]] = []
    for i, item in enumerate(get_in(data, "interventions", [])):
        base = f"interventions[{i}]"
        interventions.append([
            Field(f"{base}.kind", tr("f_kind"), "select", item.get("kind", ""), kinds),
            Field(f"{base}.name", tr("f_name"), "text", item.get("name", ""), optional=True),
            Field(f"{base}.units", tr("f_units"), "units", tuple(item.get("units", [ALL])), unit_choices),
            Field(f"{base}.start", tr("f_start_i"), "date", item.get("start", "")),
            Field(f"{base}.end", tr("f_end"), "date", item.get("end", "")),
            Field(f"{base}.intensity", tr("f_intensity"), "number", item.get("intensity", 1.0)),
            Field(f"{base}.capacity_per_day", tr("f_capacity_per_day"), "number", item.get("capacity_per_day", ""),
                  optional=True),
            Field(f"{base}.cost_vnd", tr("f_cost_vnd"), "money", item.get("cost_vnd", 0)),
            Field(f"{base}.guidance_minutes", tr("f_guidance_minutes"), "number", item.get("guidance_minutes", ""),
                  optional=True),
            Field(f"{base}.fee_reduction_share", tr("f_fee_reduction_share"), "percent",
                  item.get("fee_reduction_share", ""), optional=True),
        ])
    targets: list[list[Field]] = []
    for i, target in enumerate(get_in(data, "targets", [])):
        base = f"targets[{i}]"
        targets.append([Field(f"{base}.name", tr("f_name"), "text", target.get("name", ""), optional=True),
                        Field(f"{base}.share", tr("f_share"), "percent", target.get("share", "")),
                        Field(f"{base}.date", tr("f_date"), "date", target.get("date", "")),
                        Field(f"{base}.units", tr("f_units"), "units", tuple(target.get("units", [ALL])),
                              unit_choices)])
    return {"general": general, "units": units, "interventions": interventions, "targets": targets,
            "advanced": advanced_fields(scenario, tr("lang")) if scenario is not None else []}


def unit_fields(i: int, unit: Mapping[str, Any], sources: tuple[tuple[str, str], ...], tr: Any) -> list[Field]:
    """A unit's row: its name, the people and dossiers it serves, its observed share with the source, its counters."""
    base = f"region.units[{i}]"
    counters = unit.get("counters") or {}
    return [Field(f"{base}.name", tr("f_unit_name"), "text", unit.get("name", "")),
            Field(f"{base}.population", tr("f_population"), "int", unit.get("population", "")),
            Field(f"{base}.fee_dossiers_per_year", tr("f_dossiers"), "int", unit.get("fee_dossiers_per_year", "")),
            Field(f"{base}.observed_share", tr("f_observed_share"), "percent", unit.get("observed_share", ""),
                  optional=True),
            Field(f"{base}.observed_share_source", tr("f_observed_share_source"), "select",
                  unit.get("observed_share_source", ""), (("", "—"), *sources), optional=True),
            Field(f"{base}.observed_from", tr("f_observed_from"), "date", unit.get("observed_from", ""),
                  optional=True),
            Field(f"{base}.observed_to", tr("f_observed_to"), "date", unit.get("observed_to", ""), optional=True),
            Field(f"{base}.counters.counters", tr("f_counters"), "int", counters.get("counters", ""), optional=True),
            Field(f"{base}.counters.officers", tr("f_officers"), "int", counters.get("officers", ""), optional=True)]


def advanced_fields(scenario: Scenario, lang: str = "vi") -> list[Field]:
    """Every number of the behaviour sections under its plain name in `lang` (the report's,
    `motcua.report.field_names`), with its provenance badge and source; the schema path is its help."""
    data = scenario.to_dict()
    out = []
    for section in ADVANCED_SECTIONS:
        for key, value in get_in(data, section, {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float | dt.date):
                continue
            path = f"{section}.{key}"
            provenance = scenario.provenance_of(path)
            badge = provenance.partition(":")[0].strip() if provenance else "unmarked"
            kind = "date" if isinstance(value, dt.date) else ("int" if isinstance(value, int) else "number")
            out.append(Field(path, field_name(path, lang, scenario), kind, value, badge=badge,
                             source=provenance.partition(":")[2].strip(), help=path))
    return out


def all_fields(groups: Mapping[str, list[Any]]) -> dict[str, Field]:
    """The fields of every group by path (interventions and targets are lists of rows)."""
    out: dict[str, Field] = {}
    for items in groups.values():
        for item in items:
            for f in item if isinstance(item, list) else [item]:
                out[f.path] = f
    return out


# ---------------------------------------------------------------------------------------------
# Reading a submitted form
# ---------------------------------------------------------------------------------------------
def parse_value(f: Field, values: list[str]) -> tuple[bool, Any]:
    """(True, typed value) or (False, the raw text) for the loader to refuse with its own words."""
    if f.kind == "units":
        chosen = [v for v in values if v]
        return True, [ALL] if ALL in chosen else chosen
    text = (values[-1] if values else "").strip()
    if text == "" and f.optional:
        return True, None
    try:
        if f.kind == "date":
            return True, dt.date.fromisoformat(text)
        if f.kind == "money":  # 300.000.000 (vi) or 300,000,000 (en) or 300000000
            return True, int(re.sub(r"[.,\s]", "", text))
        if f.kind == "int":
            return True, int(text)
        if f.kind == "number":
            return True, float(text.replace(",", "."))
        if f.kind == "percent":
            return True, round(float(text.replace(",", ".").rstrip("%")) / 100, 10)
    except ValueError:
        return False, text
    return True, text


def apply_form(text: str, form: Mapping[str, list[str]], scenario: Scenario | None, tr: Any,
               file: str) -> FormResult:
    """Apply the submitted `form` to the document `text` and check it with the schema's loader."""
    doc = tomlkit.parse(text)
    fields = all_fields(form_fields(doc, scenario, tr))
    raw: dict[str, str] = {}
    pending: list[tuple[str, Any]] = []
    for path, f in fields.items():
        if path not in form:  # a units list always sends a hidden empty value, so unticking all is seen
            continue
        ok, value = parse_value(f, form.get(path, []))
        if not ok:
            raw[path] = value
        elif value != plain(get_in(doc, path)):
            pending.append((path, value))
    for path, value in pending:
        set_in(doc, path, value)
    for index in _deleted(form, "interventions"):
        delete_intervention(doc, index)
    for index in _deleted(form, "region.units"):
        delete_unit(doc, index)
    return check(doc, raw, file)


def _deleted(form: Mapping[str, list[str]], table: str) -> list[int]:
    """Indices of the rows of `table` whose "delete" box is ticked, last first (so the others keep their index)."""
    pattern = re.compile(re.escape(table) + r"\[(\d+)\]\.delete")
    return sorted((int(m.group(1)) for key in form if (m := pattern.fullmatch(key))), reverse=True)


def check(doc: tomlkit.TOMLDocument, raw: Mapping[str, str], file: str) -> FormResult:
    """Validate `doc` (with the `raw` texts that did not parse put in their place) through the real loader."""
    data = doc.unwrap()
    for path, text in raw.items():
        set_in(data, path, text)
    result = FormResult(doc, dict(raw))
    try:
        result.scenario = scenario_from_dict(data, file=file)
    except ScenarioError as exc:
        result.error = exc
        return result
    result.warnings = warnings_of(result.scenario)
    return result


def warnings_of(scenario: Scenario) -> list[dict[str, str]]:
    """What is allowed but probably not meant: an intervention partly outside the simulated period."""
    sim = scenario.simulation
    out = []
    for i, item in enumerate(scenario.interventions):
        if item.start < sim.start or item.end > sim.end:
            out.append({"key": "warn_outside", "field": f"interventions[{i}].start",
                        "name": item.name or item.kind, "start": item.start.isoformat(), "end": item.end.isoformat(),
                        "sim_start": sim.start.isoformat(), "sim_end": sim.end.isoformat()})
    return out


def field_of_error(error: ScenarioError, paths: list[str]) -> str | None:
    """The form field an error belongs to: the longest path that is the error's field or contains it."""
    matching = [p for p in paths if error.field == p or error.field.startswith((p + ".", p + "["))]
    return max(matching, key=len, default=None)


# ---------------------------------------------------------------------------------------------
# Changing the list of interventions
# ---------------------------------------------------------------------------------------------
def add_intervention(doc: tomlkit.TOMLDocument, kind: str, today: dt.date | None = None) -> int:
    """Append an intervention of `kind` over the simulated period, marked in ``[provenance]``; its index."""
    if kind not in KINDS:
        raise ValueError(f"intervention kind {kind!r}: choose one of {', '.join(KINDS)}")
    data = doc.unwrap()
    start = data["simulation"]["start"]
    end = start + dt.timedelta(days=int(data["simulation"]["horizon_days"]) - 1)
    item = tomlkit.table()
    item.update({"kind": kind, "name": "", "start": start, "end": end, "units": [ALL], "intensity": 1.0,
                 "cost_vnd": 0})
    if kind == "counter_guidance":
        item["guidance_minutes"] = 15
    if kind == "online_fee_reduction":
        item["fee_reduction_share"] = 0.1
    if "interventions" not in doc:
        doc.add("interventions", tomlkit.aot())
    items = doc["interventions"]
    assert isinstance(items, AoT)
    items.append(item)
    index = len(items) - 1
    provenance = doc.get("provenance")
    if isinstance(provenance, Table):
        provenance[f"interventions[{index}]"] = STUDIO_PROVENANCE.format(date=(today or dt.date.today()).isoformat())
    return index


def delete_intervention(doc: tomlkit.TOMLDocument, index: int) -> None:
    """Remove intervention `index` and renumber the provenance entries of those after it."""
    items = doc["interventions"]
    assert isinstance(items, AoT)
    del items[index]
    provenance = doc.get("provenance")
    if not isinstance(provenance, Table):
        return
    pattern = re.compile(r"interventions\[(\d+)\](.*)")
    moves = []
    for key in list(provenance.keys()):
        match = pattern.fullmatch(key)
        if match and int(match.group(1)) >= index:
            moves.append((key, int(match.group(1)), match.group(2), provenance[key]))
    for key, *_ in moves:
        del provenance[key]
    for _, number, rest, value in moves:
        if number > index:
            provenance[f"interventions[{number - 1}]{rest}"] = value


def add_unit(doc: tomlkit.TOMLDocument, today: dt.date | None = None) -> int:
    """Append a unit modelled on the last one (kind, counters, service times) under a new id, marked in
    ``[provenance]`` as added here; its index. Its name, population and dossiers are the planner's to fill in."""
    units = doc["region"]["units"]
    assert isinstance(units, AoT)
    taken = {str(u["id"]) for u in units}
    number = next(n for n in range(len(units) + 1, len(units) + 1000) if f"unit-{n}" not in taken)
    model = units[-1].unwrap() if len(units) else {}
    item = tomlkit.table()
    item.update({"id": f"unit-{number}", "name": f"Đơn vị {number}", "kind": model.get("kind", "commune"),
                 "agency_code": f"NEW.UNIT{number}", "population": model.get("population", 10000),
                 "fee_dossiers_per_year": model.get("fee_dossiers_per_year", 1000),
                 "communes": model.get("communes", 1)})
    if "counters" in model:
        item["counters"] = model["counters"]
    units.append(item)
    provenance = doc.get("provenance")
    if isinstance(provenance, Table):
        provenance[f"region.units[unit-{number}]"] = STUDIO_UNIT_PROVENANCE.format(
            date=(today or dt.date.today()).isoformat())
    return len(units) - 1


def delete_unit(doc: tomlkit.TOMLDocument, index: int) -> None:
    """Remove unit `index` and its ``[provenance]`` entries (keyed by the unit's id); an intervention or target
    that names it is then refused by the schema, on its field."""
    units = doc["region"]["units"]
    assert isinstance(units, AoT)
    unit_id = str(units[index]["id"])
    del units[index]
    provenance = doc.get("provenance")
    if isinstance(provenance, Table):
        for key in [k for k in provenance if k == f"region.units[{unit_id}]"
                    or k.startswith(f"region.units[{unit_id}].")]:
            del provenance[key]


def save(doc: tomlkit.TOMLDocument, path: Path) -> Path:
    """Write the document as it is (comments and layout kept), atomically."""
    return write_text(path, tomlkit.dumps(doc))


def display(f: Field, raw: Mapping[str, str], lang: str) -> Any:
    """What an input shows: the text the planner typed when it did not parse, else the value in form units."""
    if f.path in raw:
        return raw[f.path]
    value = f.value
    if value in ("", None):
        return ""
    if f.kind == "percent":
        return _decimal(f"{round(100 * float(value), 6):g}", lang)
    if f.kind == "money" and isinstance(value, int):
        from motcua.report.i18n import number

        return number(value, lang)
    if f.kind == "number" and isinstance(value, int | float):
        return _decimal(f"{value:g}", lang)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decimal(text: str, lang: str) -> str:
    """A number as typed on a page of `lang`: the decimal comma in Vietnamese."""
    return text.replace(".", ",") if lang == "vi" else text
