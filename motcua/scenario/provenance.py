"""Where each figure of a scenario comes from: observed (with its article), assumed, derived, or a setting.

*Scenario.* Lạng Sơn's article gives each unit's share paid online in 2024 — observed; the district
populations are not in it — assumed; a load test's callback delays fed back into the scenario — derived.
``[provenance]`` says so by field path (``"region.units[cao-loc].population" = "assumed: …"``) or for a
whole section, and a unit's ``observed_share_source`` speaks for its observed share. `provenance_entries`
is that one table as written (the report's assumptions section shows it); `ProvenanceIndex` answers for
any field (`Scenario.provenance_of`), including values the file leaves to the schema's defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from motcua.scenario.common import check_source
from motcua.typed_config import FieldProblem, canonical_path, get_path, join, to_data

if TYPE_CHECKING:
    from motcua.scenario.document import Scenario

DEFAULT_PROVENANCE = "assumed: default of motcua/scenario.py"
"""The provenance of a value the file does not write (a schema default). The text is part of the outputs
(reports, `motcua scenario check`, tests) and names the schema's module as it was when they were first
written; the schema now lives in the package `motcua/scenario/`."""


def provenance_entries(scenario: Scenario) -> dict[str, str]:
    """Every provenance entry of `scenario`, by field path as written: the one provenance table.

    The ``[provenance]`` table, then each observed share's source (``region.units[<id>].observed_share`` =
    ``"observed: <observed_share_source>"``, and the region's) where no entry already speaks for that field.
    """
    return _entries(scenario, to_data(scenario))


def _entries(scenario: Scenario, data: Any) -> dict[str, str]:
    entries = dict(scenario.provenance)
    written = {canonical_path(data, key) for key in entries}
    observed = [(f"region.units[{i}].observed_share", f"region.units[{unit.id}].observed_share",
                 unit.observed_share_source) for i, unit in enumerate(scenario.units)]
    observed.append(("region.observed_share", "region.observed_share", scenario.region.observed_share_source))
    for canonical, path, source in observed:
        if source and canonical not in written:
            entries[path] = f"observed: {source}"
    return entries


def check_provenance(provenance: Mapping[str, str], data: Any, source_ids: set[str]) -> None:
    """Raise `FieldProblem` for an entry whose path is not a field of `data`, or that cites an unknown source."""
    for key, text in provenance.items():
        where = join("provenance", key)
        try:
            get_path(data, key)
        except (KeyError, ValueError):
            raise FieldProblem(where, text, f"{key!r} is not a field of the scenario; write a path such as "
                                            "'region.units[cao-loc].observed_share' or a section name") from None
        kind, _, rest = text.partition(":")
        if kind == "observed":
            check_source(rest.split()[0].rstrip(",;") if rest.split() else "", source_ids, where)


@dataclasses.dataclass(frozen=True)
class ProvenanceIndex:
    """The provenance entries of one scenario by canonical field path (list items by index).

    `given` — the paths of the values the file writes (``Scenario.given``) — is passed to each question rather
    than kept, because a variant (``Scenario.with_overrides``) gets its own after it is built.
    """

    data: dict[str, Any]
    """The scenario as plain data."""
    table: dict[str, str]
    """`provenance_entries` by canonical path."""

    @classmethod
    def of(cls, scenario: Scenario) -> ProvenanceIndex:
        data = to_data(scenario)
        table = {canonical_path(data, key): text for key, text in _entries(scenario, data).items()}
        return cls(data=data, table=table)

    def lookup(self, path: str, given: frozenset[str]) -> str:
        """Where a figure comes from: the most specific entry covering `path` (see `Scenario.provenance_of`)."""
        canonical = canonical_path(self.data, path)
        probe = canonical
        while probe:
            if probe in self.table:
                return self.table[probe]
            if isinstance(get_path(self.data, probe), Mapping) and not covers_given(probe, given):
                break  # a whole table filled from defaults
            probe = _parent_path(probe)
        if not covers_given(canonical, given):
            return DEFAULT_PROVENANCE
        return ""

    def unmarked_numbers(self, given: frozenset[str]) -> list[str]:
        """Paths of numbers written in the file that no provenance entry covers (each should say where it is from)."""
        numbers = [p for p in given if not p.startswith("scenario.")  # metadata, e.g. a source's year
                   and isinstance(get_path(self.data, p), int | float)
                   and not isinstance(get_path(self.data, p), bool)]
        return sorted(p for p in numbers if not self.lookup(p, given))


def covers_given(path: str, given: Iterable[str]) -> bool:
    """Whether `path` is, or contains, one of the `given` leaf paths."""
    return any(g == path or g.startswith((path + ".", path + "[")) for g in given)


def written_part(node: Any, path: str, given: frozenset[str]) -> Any:
    """`node` without the leaves that are not in `given`, i.e. not written in the file (None when nothing is left)."""
    if isinstance(node, dict):
        kept = {k: written_part(v, join(path, k), given) for k, v in node.items()}
        kept = {k: v for k, v in kept.items() if v is not None}
        return kept or None
    if isinstance(node, list) and any(isinstance(item, dict) for item in node):
        return [written_part(item, join(path, i), given) or {} for i, item in enumerate(node)]
    return node if covers_given(path, given) else None


def _parent_path(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    cut = max(path.rfind("."), 0)
    return path[:cut]
