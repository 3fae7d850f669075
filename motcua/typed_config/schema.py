"""The JSON Schema (draft 2020-12) of configuration classes, generated from the same `spec` declarations.

Editors validate scenario files with it (``scenarios/scenario.schema.json``), and the services' OpenAPI
documents take their configuration components from `schema_parts`, so what a file may hold is written once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from motcua.typed_config.plain import json_ready, to_data
from motcua.typed_config.rules import MAX_VND
from motcua.typed_config.spec import Spec, spec_of


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
