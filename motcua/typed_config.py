"""Typed configuration: frozen dataclasses read from TOML tables, with errors that name the field.

A configuration class is a frozen dataclass whose fields are declared with `spec(...)`: a docstring,
a unit, bounds, whether the number is a share (0–1) or money (integer VND). From that one
declaration `Reader` converts and validates a TOML table, and `json_schema` writes the JSON Schema
that editors use — so the schema and the validation cannot drift apart.

Every problem raises `ScenarioError(file, field, value, problem)` where ``field`` is the dotted path
of the value in the file, e.g. ``region.units[2].observed_share``. Unknown keys are errors with a
suggestion of the closest known key, because a typo must never silently fall back to a default.

A class may define ``check(self)`` for rules that span fields (a mix sums to 1, start before end);
it raises `FieldProblem` with a path relative to the object.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal, get_args, get_origin

from mock_services.common.money import MoneyError, parse_vnd
from motcua.errors import ScenarioError

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SHARE_SUM_TOLERANCE = 1e-6


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
) -> Any:
    """Declare a configuration field: its documentation, unit and bounds (see `Spec`)."""
    meta = {"spec": Spec(doc, unit, ge, gt, le, share, money, pattern, pattern_hint, length)}
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


def spec_of(field: dataclasses.Field) -> Spec:
    return field.metadata.get("spec") or Spec(doc="")


def check_share_sum(values: Mapping[str, float], what: str, *, field: str = "") -> None:
    """Raise `FieldProblem` unless the shares in `values` sum to 1."""
    total = math.fsum(values.values())
    if abs(total - 1.0) > _SHARE_SUM_TOLERANCE:
        raise FieldProblem(
            field, dict(values), f"{what} must sum to 1, but they sum to {total:.6g}; adjust the shares"
        )


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


class Reader:
    """Converts nested TOML tables into frozen dataclasses, naming `file` and the field path on error."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.given: set[str] = set()
        """Paths of the leaf values present in the input (not filled from defaults)."""

    def error(self, field: str, value: object, problem: str) -> ScenarioError:
        return ScenarioError(self.file, field or "(top level)", value, problem)

    def read(self, cls: type, data: object, path: str = "") -> Any:
        if not isinstance(data, Mapping):
            raise self.error(path, data, f"expected a table of {_type_name(cls)} fields")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
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
        origin = get_origin(tp)
        if origin in (types.UnionType, typing.Union):
            options = [a for a in get_args(tp) if a is not type(None)]
            if value is None:
                return None
            return self.convert(options[0], value, path, sp)
        if dataclasses.is_dataclass(tp):
            return self.read(tp, value, path)
        if origin is Literal:
            return self._literal(get_args(tp), value, path)
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
        if tp is int:
            return self._number(int, value, path, sp)
        if tp is float:
            return self._number(float, value, path, sp)
        raise TypeError(f"unsupported configuration type {tp!r} at {path}")

    def _literal(self, choices: tuple, value: object, path: str) -> Any:
        if value in choices:
            self.given.add(path)
            return value
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise self.error(path, value, f"must be one of {', '.join(map(str, choices))}{hint}")

    def _list(self, item_tp: Any, value: object, path: str, sp: Spec) -> tuple:
        if not isinstance(value, list | tuple):
            raise self.error(path, value, "expected a list [ ... ]")
        if sp.length is not None and len(value) != sp.length:
            raise self.error(path, value, f"expected exactly {sp.length} items, got {len(value)}")
        item_spec = dataclasses.replace(sp, length=None)
        return tuple(self.convert(item_tp, v, join(path, i), item_spec) for i, v in enumerate(value))

    def _table(self, value_tp: Any, value: object, path: str, sp: Spec) -> dict:
        if not isinstance(value, Mapping):
            raise self.error(path, value, "expected a table { key = value, ... }")
        return {str(k): self.convert(value_tp, v, join(path, str(k)), sp) for k, v in value.items()}

    def _string(self, value: object, path: str, sp: Spec) -> str:
        if not isinstance(value, str):
            raise self.error(path, value, "expected a string in quotes")
        if sp.pattern and not re.fullmatch(sp.pattern, value):
            hint = f": {sp.pattern_hint}" if sp.pattern_hint else ""
            raise self.error(path, value, f"does not match {sp.pattern}{hint}")
        return value

    def _number(self, kind: type, value: object, path: str, sp: Spec) -> int | float:
        if sp.money:
            try:
                return parse_vnd(value, path.rsplit(".", 1)[-1])
            except MoneyError as exc:
                raise self.error(path, value, str(exc)) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, value, f"expected a number{' in ' + sp.unit if sp.unit else ''}")
        if kind is int and not isinstance(value, int):
            raise self.error(path, value, "expected a whole number (an integer)")
        if not math.isfinite(value):
            raise self.error(path, value, "expected a finite number")
        _check_bounds(self, value, path, sp)
        return kind(value)


def read_file(cls: type, path: Any, what: str) -> Any:
    """A `cls` from the TOML file `path` (`what` names the file's kind in errors: "the merchant file").

    `ScenarioError` naming the file, the field and the value when the file cannot be read, is not TOML
    or does not fit `cls`.
    """
    import tomllib
    from pathlib import Path

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(str(path), "(file)", str(path), f"cannot read {what} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "(file)", str(path), f"not valid TOML: {exc}") from None
    return Reader(str(path)).read(cls, data)


def validate(obj: Any, *, file: str, path: str = "") -> None:
    """Check a configuration object built in code (not read from a file) against its declarations.

    It is read back through `Reader`, so the bounds and rules are exactly those a file must meet; a problem
    raises `ScenarioError(file, path.field, value, problem)` — name in `file` where the object came from.
    """
    Reader(file).read(type(obj), to_data(obj), path)


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


def json_schema(root: type, *, title: str, schema_id: str | None = None) -> dict:
    """The JSON Schema (draft 2020-12) of `root`, generated from the same field declarations."""
    defs: dict[str, dict] = {}
    body = _class_schema(root, defs)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **body, "$defs": defs}
    if schema_id:
        schema["$id"] = schema_id
    return schema


def _class_schema(cls: type, defs: dict[str, dict]) -> dict:
    hints = typing.get_type_hints(cls)
    props, required = {}, []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        props[f.name] = _type_schema(hints[f.name], spec_of(f), defs)
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


def _type_schema(tp: Any, sp: Spec, defs: dict[str, dict]) -> dict:
    out = _bare_type_schema(tp, sp, defs)
    if sp.doc:
        out["description"] = sp.doc + (f" [{sp.unit}]" if sp.unit else "")
    return out


def _bare_type_schema(tp: Any, sp: Spec, defs: dict[str, dict]) -> dict:
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in get_args(tp) if a is not type(None)]
        return _bare_type_schema(options[0], sp, defs)
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # reserve: a class may refer to itself
            defs[name] = _class_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    item_spec = dataclasses.replace(sp, length=None, doc="")
    if origin is tuple:
        out = {"type": "array", "items": _bare_type_schema(get_args(tp)[0], item_spec, defs)}
        if sp.length is not None:
            out["minItems"] = out["maxItems"] = sp.length
        return out
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _bare_type_schema(get_args(tp)[1], item_spec, defs)}
    if tp is dt.date:
        return {"type": "string", "format": "date"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is str:
        return {"type": "string", "pattern": f"^(?:{sp.pattern})$"} if sp.pattern else {"type": "string"}
    if tp in (int, float):
        out = {"type": "integer" if (tp is int or sp.money) else "number"}
        if sp.share:
            out.update(minimum=0, maximum=1)
        if sp.money:
            out["minimum"] = 0
        if sp.ge is not None:
            out["minimum"] = sp.ge
        if sp.gt is not None:
            out["exclusiveMinimum"] = sp.gt
        if sp.le is not None:
            out["maximum"] = sp.le
        return out
    raise TypeError(f"unsupported configuration type {tp!r}")
