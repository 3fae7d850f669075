"""Files that appear whole or not at all: the one atomic writer every part of motcua uses.

A file is written to a hidden temporary file in the same folder (`.NAME.XXXX.tmp`), flushed, and then
renamed over its final name, so a reader — a report, a dashboard, a later `motcua report` — never sees
half a file, and an interrupted write leaves nothing behind (the temporary file is removed on any error,
Ctrl-C included). ``exclusive=True`` links the file into place instead, which fails rather than replace
a file that appeared meanwhile (for commands that promise to write a NEW file).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "atomic_open_bytes", "atomic_path", "write_bytes", "write_text"]


@contextlib.contextmanager
def atomic_path(path: str | Path, *, exclusive: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write to; it becomes `path` when the block ends without error.

    For writers that want a file name rather than a handle (Matplotlib's ``savefig``, a loader that checks
    the file before it is put in place). The folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if exclusive:
            os.link(tmp, path)  # FileExistsError rather than replacing a file that appeared meanwhile
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | Path, *, newline: str | None = None, exclusive: bool = False) -> Iterator[IO[str]]:
    """A text file (UTF-8) that appears at `path` only once completely written."""
    with atomic_path(path, exclusive=exclusive) as tmp, open(tmp, "w", encoding="utf-8", newline=newline) as fh:
        yield fh


@contextlib.contextmanager
def atomic_open_bytes(path: str | Path, *, exclusive: bool = False) -> Iterator[IO[bytes]]:
    """A binary file that appears at `path` only once completely written."""
    with atomic_path(path, exclusive=exclusive) as tmp, open(tmp, "wb") as fh:
        yield fh


def write_text(path: str | Path, text: str, *, exclusive: bool = False, newline: str | None = None) -> Path:
    """Write `text` (UTF-8) to `path` atomically; returns the path."""
    with atomic_open(path, newline=newline, exclusive=exclusive) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes, *, exclusive: bool = False) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with atomic_open_bytes(path, exclusive=exclusive) as fh:
        fh.write(data)
    return Path(path)
