"""Typed configuration: frozen dataclasses read from TOML tables, with errors that name the field.

A configuration class is a frozen dataclass whose fields are declared with `spec(...)`: a docstring,
a unit, bounds, whether the number is a share (0–1) or money (integer VND). From that one
declaration `Reader` converts and validates a TOML table, and `json_schema` writes the JSON Schema
that editors use (`schema_parts` gives the same as named parts, for an OpenAPI document's components) —
so the schema and the validation cannot drift apart.

Every problem raises `ConfigError(file, field, value, problem)` — or the subclass the file kind declares,
such as `ScenarioError` — where ``field`` is the dotted path of the value in the file, e.g.
``region.units[2].observed_share``. Unknown keys are errors with a suggestion of the closest known key,
because a typo must never silently fall back to a default.

A class may define ``check(self)`` for rules that span fields (a mix sums to 1, start before end, a p95
not below its p50: `check_share_sum`, `check_unique`, `check_percentile_order`); it raises `FieldProblem`
with a path relative to the object.

Every configuration FILE of motcua goes through this package (the scenario, the fault file, the bank
catalogue, the fee catalogue, ``motcua mock --config``). A file kind is declared once as a `ConfigFile`::

    TERMINAL_FILE = ConfigFile(TerminalFile, "VNPay terminal file", error=TerminalFileError,
                               hint="see docs/contracts.md for its keys")
    terminal = TERMINAL_FILE.load(path)          # read, parse TOML, validate → a TerminalFile
    terminal = TERMINAL_FILE.parse(data, file="PUT /admin/terminal")   # plain data (JSON) → same checks
    TERMINAL_FILE.write(terminal, path)           # back to TOML (tomli_w), written atomically

so a missing file, a TOML syntax error (named by line and key), a wrong value and an unknown key read
the same whatever the file: ``<file>: <field path> = <value>: <problem>`` as a `ConfigError` (exit 2).

Field kinds: ``bool``, ``int``, ``float``, ``str``, ``datetime.date``, ``pathlib.Path`` (relative to the
file's folder), ``Literal[...]``, nested dataclasses, ``tuple[X, ...]`` and ``dict[str, X]``, each optionally
``| None``. Beyond the type, `spec` declares: bounds (``ge``, ``gt``, ``le``), ``share`` (0–1), ``money``
(a whole number of VND, 0 ≤ amount ≤ `MAX_VND`), ``pattern``, ``choices`` (a set of strings declared
elsewhere), ``length``, ``shorthand`` (a bare number stands for ``{<shorthand> = number}``), ``one_or_many``
(a single table where a list is expected) and ``hint`` (added to every problem of the field).

The modules, from the bottom up (import-linter keeps them layered): `spec` (the declaration, `FieldProblem`),
`rules` (dates, money, shares, uniqueness, percentiles), `paths` (dotted field paths) and `plain` (back to
plain data), `reader` (`Reader`, `validate`) and `schema` (JSON Schema), `files` (`ConfigFile`, TOML).
"""

from motcua.typed_config.files import ConfigFile, read_toml, toml_error
from motcua.typed_config.paths import canonical_path, get_path, join, join_relative, set_path, split_path, walk
from motcua.typed_config.plain import json_ready, to_data
from motcua.typed_config.reader import MISSING_VALUE, Reader, validate
from motcua.typed_config.rules import (
    MAX_VND,
    check_percentile_order,
    check_share_sum,
    check_unique,
    parse_date,
    vnd_problem,
)
from motcua.typed_config.schema import json_schema, schema_parts
from motcua.typed_config.spec import FieldProblem, Spec, spec, spec_of

__all__ = [
    "MAX_VND",
    "MISSING_VALUE",
    "ConfigFile",
    "FieldProblem",
    "Reader",
    "Spec",
    "canonical_path",
    "check_percentile_order",
    "check_share_sum",
    "check_unique",
    "get_path",
    "join",
    "join_relative",
    "json_ready",
    "json_schema",
    "parse_date",
    "read_toml",
    "schema_parts",
    "set_path",
    "spec",
    "spec_of",
    "split_path",
    "to_data",
    "toml_error",
    "validate",
    "vnd_problem",
    "walk",
]
