"""Dotted field paths into plain data: ``region.units[2].observed_share``, ``region.units[cao-loc]``, ``a."51"``.

Every error names the value at fault by such a path (`join` builds them as `Reader` descends); provenance
entries, overrides (``with_overrides({"simulation.seed": 7})``) and the sensitivity study address values
with them (`get_path`, `set_path`, `canonical_path`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_PATH_TOKEN = re.compile(r'\.?(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_-]*))|\[([^\]]+)\]')


def join(path: str, key: str | int) -> str:
    """The dotted path of `key` inside `path`: ``a.b``, ``a[2]``, ``a."51"`` for keys that are not names."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        key = f'"{key}"'
    return f"{path}.{key}" if path else key


def join_relative(path: str, rel: str) -> str:
    """`rel` (a path relative to the table at `path`, as a ``check`` method names it) joined to `path`."""
    if not rel:
        return path
    if rel.startswith("["):
        return path + rel
    return f"{path}.{rel}" if path else rel


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
