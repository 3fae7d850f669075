"""Typed configuration: frozen dataclasses read from TOML tables, with errors that name the field.

A configuration class is a frozen dataclass whose fields are declared with `spec(...)`: a docstring,
a unit, bounds, whether the number is a share (0–1) or money (integer VND). From that one
declaration `Reader` converts and validates a TOML table, and `json_schema` writes the JSON Schema
that editors use (`schema_parts` gives the same as named parts, for an OpenAPI document's components) —
so the schema and the validation cannot drift apart.

Every problem raises `ScenarioError(file, field, value, problem)` where ``field`` is the dotted path
of the value in the file, e.g. ``region.units[2].observed_share``. Unknown keys are errors with a
suggestion of the closest known key, because a typo must never silently fall back to a default.

A class may define ``check(self)`` for rules that span fields (a mix sums to 1, start before end);
it raises `FieldProblem` with a path relative to the object.

Every configuration FILE of motcua goes through this module (the scenario, the fault file, the bank
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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, get_args, get_origin

from motcua.atomic import write_text
from motcua.errors import ConfigError, ScenarioError

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SHARE_SUM_TOLERANCE = 1e-6
MAX_VND = 10**15
"""Upper bound on any single amount of money (a quadrillion đồng), far above any fee; guards overflow bugs."""
T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING_VALUE = _Missing()
"""Shown as the value of a required key that is absent."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a field accepts, beyond its Python type."""

    doc: str
    unit: str | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    share: bool = False
    money: bool = False
    pattern: str | None = None
    pattern_hint: str = ""
    length: int | None = None
    choices: tuple[str, ...] | None = None
    shorthand: str | None = None
    one_or_many: bool = False
    hint: str = ""


def spec(
    doc: str,
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Any = dataclasses.MISSING,
    unit: str | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    share: bool = False,
    money: bool = False,
    pattern: str | None = None,
    pattern_hint: str = "",
    length: int | None = None,
    choices: tuple[str, ...] | None = None,
    shorthand: str | None = None,
    one_or_many: bool = False,
    hint: str = "",
) -> Any:
    """Declare a configuration field: its documentation, unit and bounds (see `Spec` and the module doc)."""
    meta = {"spec": Spec(doc, unit, ge, gt, le, share, money, pattern, pattern_hint, length, choices, shorthand,
                         one_or_many, hint)}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


class FieldProblem(Exception):
    """Raised by a ``check`` method: ``field`` is relative to the object being checked."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.value, self.problem = field, value, problem


def join(path: str, key: str | int) -> str:
    """The dotted path of `key` inside `path`: ``a.b``, ``a[2]``, ``a."51"`` for keys that are not names."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        key = f'"{key}"'
    return f"{path}.{key}" if path else key


def spec_of(field: dataclasses.Field[Any]) -> Spec:
    return field.metadata.get("spec") or Spec(doc="")


def check_share_sum(values: Mapping[str, float], what: str, *, field: str = "") -> None:
    """Raise `FieldProblem` unless the shares in `values` sum to 1."""
    total = math.fsum(values.values())
    if abs(total - 1.0) > _SHARE_SUM_TOLERANCE:
        raise FieldProblem(
            field, dict(values), f"{what} must sum to 1, but they sum to {total:.6g}; adjust the shares"
        )


def check_unique(values: Any, field: str, key: str | None = None) -> None:
    """Raise `FieldProblem` at ``field[i].key`` for the first value of `values` seen before."""
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if value in seen:
            where = f"{field}[{i}].{key}" if key else f"{field}[{i}]"
            raise FieldProblem(where, value, "duplicate; each must be unique")
        seen.add(value)


def parse_date(value: object) -> dt.date:
    """A TOML date or an ISO ``YYYY-MM-DD`` string; raises ValueError saying why a date is impossible."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date without a time (YYYY-MM-DD)")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a date, written YYYY-MM-DD (e.g. 2024-12-31)")
    match = _ISO_DATE.match(value.strip())
    if not match:
        raise ValueError("expected a date written YYYY-MM-DD (e.g. 2024-12-31)")
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"impossible date: there is no month {month}")
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    if not 1 <= day <= last:
        month_name = dt.date(year, month, 1).strftime("%B")
        raise ValueError(f"impossible date: {month_name} {year} has {last} days, not {day}")
    return dt.date(year, month, day)


def vnd_problem(value: object, *, allow_zero: bool = True) -> str | None:
    """Why `value` is not an amount of money (whole VND, 0 ≤ amount ≤ `MAX_VND`), or None if it is one.

    The rule of every amount that crosses a boundary; `mock_services.common.money.parse_vnd` words it
    for JSON bodies, `Reader` for configuration files.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number of VND (an integer, e.g. 200000)"
    if value < 0:
        return "must not be negative"
    if value == 0 and not allow_zero:
        return "must be above zero (a free procedure creates no payment)"
    if value > MAX_VND:
        return f"is implausibly large (above {MAX_VND:,} VND)"
    return None


class Reader:
    """Converts nested TOML tables into frozen dataclasses, naming `file` and the field path on error.

    Problems raise `error(file, field path, value, problem)` (`ConfigError` or a subclass of it).
    ``pathlib.Path`` fields given as relative paths are taken relative to `base_dir` when it is set.
    """

    def __init__(self, file: str, *, error: type[ConfigError] = ConfigError, base_dir: Path | None = None) -> None:
        self.file = file
        self.error_class = error
        self.base_dir = base_dir
        self.given: set[str] = set()
        """Paths of the leaf values present in the input (not filled from defaults)."""

    def error(self, field: str, value: object, problem: str) -> ConfigError:
        return self.error_class(self.file, field or "(top level)", value, problem)

    def read(self, cls: type[T], data: object, path: str = "") -> T:
        if not isinstance(data, Mapping):
            raise self.error(path, data, f"expected a table of {_type_name(cls)} fields")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        for key in data:
            if key not in fields:
                raise self.error(join(path, key), data[key], _unknown_key(key, fields))
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for name, field in fields.items():
            sub = join(path, name)
            if name in data:
                kwargs[name] = self.convert(hints[name], data[name], sub, spec_of(field))
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise self.error(sub, MISSING_VALUE, f"required: {spec_of(field).doc or 'add this key'}")
        obj = cls(**kwargs)
        check = getattr(obj, "check", None)
        if check is not None:
            try:
                check()
            except FieldProblem as exc:
                raise self.error(_join_rel(path, exc.field), exc.value, exc.problem) from None
        return obj

    def convert(self, tp: Any, value: object, path: str, sp: Spec) -> Any:
        try:
            return self._convert(tp, value, path, sp)
        except ConfigError as exc:
            if sp.hint and exc.field == path and sp.hint not in exc.problem:
                raise self.error(path, exc.value, f"{exc.problem} ({sp.hint})") from None
            raise

    def _convert(self, tp: Any, value: object, path: str, sp: Spec) -> Any:
        origin = get_origin(tp)
        if origin in (types.UnionType, typing.Union):
            options = [a for a in get_args(tp) if a is not type(None)]
            if value is None:
                return None
            return self.convert(options[0], value, path, sp)
        if dataclasses.is_dataclass(tp):
            if sp.shorthand and _is_number(value):
                value = {sp.shorthand: value}
            return self.read(tp, value, path)  # type: ignore[arg-type]
        if origin is Literal:
            return self._choice(get_args(tp), value, path)
        if origin is tuple:
            return self._list(get_args(tp)[0], value, path, sp)
        if origin in (dict, Mapping):
            return self._table(get_args(tp)[1], value, path, sp)
        self.given.add(path)
        if tp is dt.date:
            try:
                return parse_date(value)
            except ValueError as exc:
                raise self.error(path, value, str(exc)) from None
        if tp is bool:
            if not isinstance(value, bool):
                raise self.error(path, value, "expected true or false")
            return value
        if tp is str:
            return self._string(value, path, sp)
        if tp is Path:
            text = self._string(value, path, sp)
            return self.base_dir / text if self.base_dir is not None else Path(text)
        if tp is int:
            return self._number(int, value, path, sp)
        if tp is float:
            return self._number(float, value, path, sp)
        raise TypeError(f"unsupported configuration type {tp!r} at {path}")

    def _choice(self, choices: tuple[Any, ...], value: object, path: str) -> Any:
        if value in choices and type(value) in {type(c) for c in choices}:
            self.given.add(path)
            return value
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise self.error(path, value, f"must be one of {', '.join(map(str, choices))}{hint}")

    def _list(self, item_tp: Any, value: object, path: str, sp: Spec) -> tuple[Any, ...]:
        item_spec = dataclasses.replace(sp, length=None, one_or_many=False)
        if sp.one_or_many and not isinstance(value, list | tuple):
            return (self.convert(item_tp, value, path, item_spec),)
        if not isinstance(value, list | tuple):
            raise self.error(path, value, "expected a list [ ... ]")
        if sp.length is not None and len(value) != sp.length:
            raise self.error(path, value, f"expected exactly {sp.length} items, got {len(value)}")
        return tuple(self.convert(item_tp, v, join(path, i), item_spec) for i, v in enumerate(value))

    def _table(self, value_tp: Any, value: object, path: str, sp: Spec) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, value, "expected a table { key = value, ... }")
        return {str(k): self.convert(value_tp, v, join(path, str(k)), sp) for k, v in value.items()}

    def _string(self, value: object, path: str, sp: Spec) -> str:
        if not isinstance(value, str):
            raise self.error(path, value, "expected a string in quotes")
        if sp.choices is not None:
            return str(self._choice(sp.choices, value, path))
        if sp.pattern and not re.fullmatch(sp.pattern, value):
            hint = f": {sp.pattern_hint}" if sp.pattern_hint else ""
            raise self.error(path, value, f"does not match {sp.pattern}{hint}")
        return value

    def _number(self, kind: type, value: object, path: str, sp: Spec) -> int | float:
        if sp.money:
            problem = vnd_problem(value)
            if problem:
                raise self.error(path, value, problem)
        if not _is_number(value):
            raise self.error(path, value, f"expected a number{' in ' + sp.unit if sp.unit else ''}")
        assert isinstance(value, int | float)
        if kind is int and not isinstance(value, int):
            raise self.error(path, value, "expected a whole number (an integer)")
        if not math.isfinite(value):
            raise self.error(path, value, "expected a finite number")
        _check_bounds(self, value, path, sp)
        return int(value) if kind is int else float(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate(obj: Any, *, file: str, path: str = "", error: type[ConfigError] = ScenarioError) -> None:
    """Check a configuration object built in code (not read from a file) against its declarations.

    It is read back through `Reader`, so the bounds and rules are exactly those a file must meet; a problem
    raises `error(file, path.field, value, problem)` — name in `file` where the object came from.
    """
    Reader(file, error=error).read(type(obj), to_data(obj), path)


def _check_bounds(reader: Reader, value: float, path: str, sp: Spec) -> None:
    if sp.share and not 0 <= value <= 1:
        hint = f"; if {value} is a percentage, write {value / 100:g}" if 1 < value <= 100 else ""
        raise reader.error(path, value, f"a share must be within 0–1{hint}")
    if sp.ge is not None and value < sp.ge:
        raise reader.error(path, value, f"must be >= {sp.ge:g}")
    if sp.gt is not None and value <= sp.gt:
        raise reader.error(path, value, f"must be > {sp.gt:g}")
    if sp.le is not None and value > sp.le:
        raise reader.error(path, value, f"must be <= {sp.le:g}")


def _join_rel(path: str, rel: str) -> str:
    if not rel:
        return path
    if rel.startswith("["):
        return path + rel
    return f"{path}.{rel}" if path else rel


def _unknown_key(key: str, fields: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}known keys: {', '.join(fields)}"


def _type_name(cls: type) -> str:
    return getattr(cls, "__name__", str(cls))


# --- back to plain data --------------------------------------------------------------------------


def to_data(obj: Any) -> Any:
    """A dataclass tree as plain TOML-ready data: tables, lists, dates; ``None`` fields left out."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            value = getattr(obj, f.name)
            if value is not None:
                out[f.name] = to_data(value)
        return out
    if isinstance(obj, tuple | list):
        return [to_data(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_data(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def json_ready(data: Any) -> Any:
    """Plain data with dates as ISO strings, as a JSON document (and the JSON Schema) has them."""
    if isinstance(data, Mapping):
        return {str(k): json_ready(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [json_ready(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


_PATH_TOKEN = re.compile(r'\.?(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_-]*))|\[([^\]]+)\]')


def split_path(path: str) -> list[str | int]:
    """``region.units[2].observed_share`` → ``["region", "units", 2, "observed_share"]``.

    A bracket holding a name instead of an index (``region.units[cao-loc]``) stays a string; it
    selects the list item whose ``id`` (or ``code``) is that name.
    """
    tokens: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _PATH_TOKEN.match(path, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read the field path {path!r} at character {pos + 1}")
        quoted, name, index = match.groups()
        if index is not None:
            tokens.append(int(index) if index.strip().isdigit() else "[" + index.strip())
        else:
            tokens.append(quoted if quoted is not None else name)
        pos = match.end()
    return tokens


def walk(data: Any, path: str) -> Iterator[tuple[Any, str | int]]:
    """Follow `path` through plain data, yielding (container, key) pairs; raises KeyError if absent."""
    node = data
    for token in split_path(path):
        if isinstance(token, str) and token.startswith("["):
            if not isinstance(node, list):
                raise KeyError(path)
            wanted = token[1:]
            matches = [i for i, item in enumerate(node) if isinstance(item, Mapping) and wanted in (
                item.get("id"), item.get("code"))]
            if not matches:
                raise KeyError(path)
            token = matches[0]
        if isinstance(token, int):
            if not isinstance(node, list) or not 0 <= token < len(node):
                raise KeyError(path)
        elif not isinstance(node, Mapping) or token not in node:
            raise KeyError(path)
        yield node, token
        node = node[token]


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted `path` in plain data (KeyError if absent)."""
    node = data
    for container, key in walk(data, path):
        node = container[key]
    return node


def canonical_path(data: Any, path: str) -> str:
    """`path` with list items named by index, as error messages name them."""
    out = ""
    for _, key in walk(data, path):
        out = join(out, key)
    return out


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the value at a dotted `path` in plain data; the last table key may be new."""
    tokens = split_path(path)
    parent = get_path(data, _path_prefix(path, len(tokens) - 1)) if len(tokens) > 1 else data
    last = tokens[-1]
    if isinstance(last, int):
        if not isinstance(parent, list) or not 0 <= last < len(parent):
            raise KeyError(path)
    elif (isinstance(last, str) and last.startswith("[")) or not isinstance(parent, dict):
        raise KeyError(path)
    parent[last] = value


def _path_prefix(path: str, n_tokens: int) -> str:
    out = ""
    for i, match in enumerate(_PATH_TOKEN.finditer(path)):
        if i == n_tokens:
            break
        out = path[: match.end()]
    return out


# --- JSON Schema ---------------------------------------------------------------------------------


def json_schema(root: type, *, title: str, schema_id: str | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `root`, generated from the same field declarations."""
    body, defs = schema_parts(root)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **body, "$defs": defs}
    if schema_id:
        schema["$id"] = schema_id
    return schema


def schema_parts(root: type, *, ref_prefix: str = "#/$defs/", nullable: bool = False
                 ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The schema of `root` and the named schemas of the classes it uses, referred to as ``ref_prefix + name``.

    `json_schema` puts them under ``$defs``; an OpenAPI document puts them among its components
    (``ref_prefix="#/components/schemas/"``). With `nullable`, an optional (``X | None``) field also takes
    ``null``, as `Reader` does (a JSON ``null`` is read as the field left out; TOML has no null).
    """
    builder = _SchemaBuilder(ref_prefix, nullable)
    return builder.class_schema(root), builder.defs


@dataclasses.dataclass
class _SchemaBuilder:
    """Writes the JSON Schema of configuration classes, collecting the named ones in `defs`."""

    ref_prefix: str
    nullable: bool
    defs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def class_schema(self, cls: type) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        props, required = {}, []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            props[f.name] = self.type_schema(hints[f.name], spec_of(f))
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
            elif f.default is not dataclasses.MISSING and f.default is not None:
                props[f.name]["default"] = json_ready(to_data(f.default))
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            out["required"] = required
        doc = (cls.__doc__ or "").strip().split("\n\n")[0]
        if doc:
            out["description"] = " ".join(doc.split())
        return out

    def type_schema(self, tp: Any, sp: Spec) -> dict[str, Any]:
        out = self.bare(tp, sp)
        if sp.doc:
            out["description"] = sp.doc + (f" [{sp.unit}]" if sp.unit else "")
        return out

    def shorthand(self, cls: type, name: str) -> dict[str, Any]:
        """The schema of the bare value that stands for ``{name = value}``: that field's own schema."""
        field = next(f for f in dataclasses.fields(cls) if f.name == name)
        return self.bare(typing.get_type_hints(cls)[name], spec_of(field))

    def bare(self, tp: Any, sp: Spec) -> dict[str, Any]:
        if sp.one_or_many and get_origin(tp) is tuple:
            many = self.bare(tp, dataclasses.replace(sp, one_or_many=False))
            return {"anyOf": [many["items"], many]}
        if sp.shorthand and isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return {"anyOf": [self.shorthand(tp, sp.shorthand), self.bare(tp, dataclasses.replace(sp, shorthand=None))]}
        origin = get_origin(tp)
        if origin in (types.UnionType, typing.Union):
            options = [a for a in get_args(tp) if a is not type(None)]
            inner = self.bare(options[0], sp)
            return {"anyOf": [inner, {"type": "null"}]} if self.nullable else inner
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            name = tp.__name__
            if name not in self.defs:
                self.defs[name] = {}  # reserve: a class may refer to itself
                self.defs[name] = self.class_schema(tp)
            return {"$ref": self.ref_prefix + name}
        if origin is Literal:
            return {"enum": list(get_args(tp))}
        item_spec = dataclasses.replace(sp, length=None, doc="")
        if origin is tuple:
            out: dict[str, Any] = {"type": "array", "items": self.bare(get_args(tp)[0], item_spec)}
            if sp.length is not None:
                out["minItems"] = out["maxItems"] = sp.length
            return out
        if origin in (dict, Mapping):
            return {"type": "object", "additionalProperties": self.bare(get_args(tp)[1], item_spec)}
        return _leaf_schema(tp, sp)


def _leaf_schema(tp: Any, sp: Spec) -> dict[str, Any]:
    """The schema of one value: a date, a boolean, a string, a path or a number."""
    if tp is dt.date:
        return {"type": "string", "format": "date"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is str and sp.choices is not None:
        return {"enum": list(sp.choices)}
    if tp is str:
        return {"type": "string", "pattern": f"^(?:{sp.pattern})$"} if sp.pattern else {"type": "string"}
    if tp is Path:
        return {"type": "string"}
    if tp in (int, float):
        number: dict[str, Any] = {"type": "integer" if (tp is int or sp.money) else "number"}
        if sp.share:
            number.update(minimum=0, maximum=1)
        if sp.money:
            number.update(minimum=0, maximum=MAX_VND)
        if sp.ge is not None:
            number["minimum"] = sp.ge
        if sp.gt is not None:
            number["exclusiveMinimum"] = sp.gt
        if sp.le is not None:
            number["maximum"] = sp.le
        return number
    raise TypeError(f"unsupported configuration type {tp!r}")


# --- files ---------------------------------------------------------------------------------------


def read_toml(path: str | Path, *, what: str = "file", hint: str = "",
              error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """The tables of a TOML file; a missing or unreadable file, or bad TOML, raises `error` saying so.

    ``<file>: (file) = '<file>': <what> not found; <hint>`` for a missing file; a syntax error names the
    line and the key set on it (``simulation.horizon_days``), and an impossible bare date is named as such.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(str(path), "(file)", str(path), f"{what} not found" + (f"; {hint}" if hint else "")) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise error(str(path), "(file)", str(path), f"cannot read the {what} ({why})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(str(path), text, exc, error) from None


_DATE_TOKEN = re.compile(r"=\s*(\d{4}-\d{2}-\d{2})\b")
_LINE_COL = re.compile(r"line (\d+)")


def toml_error(file: str, text: str, exc: tomllib.TOMLDecodeError,
               error: type[ConfigError] = ConfigError) -> ConfigError:
    """Explain a TOML syntax error; an impossible bare date (2024-12-32) gets its own message."""
    match = _LINE_COL.search(str(exc))
    lineno = int(match.group(1)) if match else 0
    lines = text.splitlines()
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    field = _field_at_line(lines, lineno) or f"line {lineno}"
    date = _DATE_TOKEN.search(line)
    if date:
        try:
            parse_date(date.group(1))
        except ValueError as why:
            return error(file, field, date.group(1), f"{why} (line {lineno})")
    return error(file, field, line.strip(), f"not valid TOML: {exc}")


def _field_at_line(lines: list[str], lineno: int) -> str:
    """The dotted path of the key set on `lineno` (table headers above it give the prefix)."""
    if not 0 < lineno <= len(lines):
        return ""
    key_match = re.match(r'\s*([A-Za-z0-9_."-]+)\s*=', lines[lineno - 1])
    key = key_match.group(1) if key_match else ""
    counts: dict[str, int] = {}
    header = ""
    for raw in lines[:lineno]:
        table = re.match(r"\s*\[\[\s*([^][]+?)\s*\]\]", raw) or re.match(r"\s*\[\s*([^][]+?)\s*\]", raw)
        if table:
            name = table.group(1)
            if raw.lstrip().startswith("[["):
                counts[name] = counts.get(name, -1) + 1
                header = f"{name}[{counts[name]}]"
            else:
                header = name
    return ".".join(part for part in (header, key) if part)


@dataclasses.dataclass(frozen=True)
class ConfigFile(Generic[T]):
    """One kind of configuration file: its root schema (a frozen dataclass), its name and its error class.

    Declare each file kind once, next to its schema, and read, check and write it only through this::

        FAULT_FILE = ConfigFile(FaultFile, "fault file", error=FaultConfigError, hint="see docs/contracts.md §2")
        FAULT_FILE.load("faults.toml")      # -> FaultFile
    """

    schema: type[T]
    what: str
    """What the file is, in messages: "fault file" → "fault file not found"."""
    error: type[ConfigError] = ConfigError
    hint: str = ""
    """How to fix a missing file, e.g. "pass the path of a fee-catalogue.toml"."""
    header: str = ""
    """A comment written at the top of files that `write` produces."""

    def load(self, path: str | Path) -> T:
        """Read, parse and validate `path`; relative ``Path`` fields are taken relative to its folder."""
        return self.parse(self.read(path), file=str(path), base_dir=Path(path).parent)

    def read(self, path: str | Path) -> dict[str, Any]:
        """The plain tables of `path`, not yet validated (a missing file or bad TOML raises `error`)."""
        return read_toml(path, what=self.what, hint=self.hint, error=self.error)

    def parse(self, data: object, *, file: str = "<memory>", base_dir: Path | None = None) -> T:
        """Validate plain data (from TOML or JSON) against the schema; problems raise `error` naming `file`."""
        return self.reader(file, base_dir=base_dir).read(self.schema, data)

    def reader(self, file: str, *, base_dir: Path | None = None) -> Reader:
        """A `Reader` with this kind's error class, for callers that also want `Reader.given`."""
        return Reader(file, error=self.error, base_dir=base_dir)

    def dumps(self, obj: T, *, comment: str = "") -> str:
        """`obj` as TOML text under a comment (`header` and `comment`); validated first, so it reads back."""
        import tomli_w

        validate(obj, file=f"<{self.what}>", error=self.error)
        lines = [*self.header.splitlines(), *comment.splitlines()]
        top = "".join(f"# {line}".rstrip() + "\n" for line in lines)
        return top + (top and "\n") + tomli_w.dumps(to_data(obj))

    def write(self, obj: T, path: str | Path, *, comment: str = "") -> Path:
        """Write `obj` as a TOML file, atomically (a temporary file renamed over `path`: never half a file)."""
        return write_text(path, self.dumps(obj, comment=comment))
