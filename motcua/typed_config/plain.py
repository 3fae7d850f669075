"""Back to plain data: a tree of configuration dataclasses as TOML-ready tables, or as JSON-ready values."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any


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
