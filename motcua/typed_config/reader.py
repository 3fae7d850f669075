"""Reading a TOML table into a frozen dataclass, checking every value against its field's `spec`.

`Reader` descends the tables as the dataclasses nest, converts each value to its field's type (``bool``,
``int``, ``float``, ``str``, ``datetime.date``, ``pathlib.Path``, ``Literal[...]``, nested dataclasses,
``tuple[X, ...]``, ``dict[str, X]``, each optionally ``| None``), checks its bounds and runs each class's
``check``. The first problem raises ``error(file, field path, value, problem)``; an unknown key is a
problem too, with the closest known key, because a typo must never silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from motcua.errors import ConfigError, ScenarioError
from motcua.typed_config.paths import join, join_relative
from motcua.typed_config.plain import to_data
from motcua.typed_config.rules import parse_date, vnd_problem
from motcua.typed_config.spec import FieldProblem, Spec, spec_of

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING_VALUE = _Missing()
"""Shown as the value of a required key that is absent."""


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
                raise self.error(join_relative(path, exc.field), exc.value, exc.problem) from None
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


def _unknown_key(key: str, fields: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}known keys: {', '.join(fields)}"


def _type_name(cls: type) -> str:
    return getattr(cls, "__name__", str(cls))
