"""Configuration files: read a TOML file (errors name the line and key), validate it, write it back atomically.

A file kind is declared once as a `ConfigFile` next to its schema, and every read and write of that kind
goes through it, so a missing file, a TOML syntax error, a wrong value and an unknown key read the same
whatever the file: ``<file>: <field path> = <value>: <problem>``.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, Generic, TypeVar

from motcua.atomic import write_text
from motcua.errors import ConfigError
from motcua.typed_config.plain import to_data
from motcua.typed_config.reader import Reader, validate
from motcua.typed_config.rules import parse_date

T = TypeVar("T")

_DATE_TOKEN = re.compile(r"=\s*(\d{4}-\d{2}-\d{2})\b")
_LINE_COL = re.compile(r"line (\d+)")
RESAVE_AS_UTF8 = ("save it again as UTF-8 (in Notepad: File › Save as › Encoding: UTF-8; in VS Code: "
                  "'Save with Encoding' › UTF-8)")
"""How to fix a file in another encoding, in every message that refuses one."""


def read_toml(path: str | Path, *, what: str = "file", hint: str = "",
              error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """The tables of a TOML file; a missing or unreadable file, or bad TOML, raises `error` saying so.

    ``<file>: (file) = '<file>': <what> not found; <hint>`` for a missing file; a syntax error names the
    line and the key set on it (``simulation.horizon_days``), and an impossible bare date is named as such.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(str(path), "(file)", str(path), f"{what} not found" + (f"; {hint}" if hint else "")) from None
    except OSError as exc:
        raise error(str(path), "(file)", str(path), f"cannot read the {what} ({exc.strerror or exc})") from None
    text = decode_utf8(raw, str(path), what=what, error=error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(str(path), text, exc, error) from None


def decode_utf8(raw: bytes, file: str, *, what: str = "file", error: type[ConfigError] = ConfigError) -> str:
    """`raw` as UTF-8 text, without the byte-order mark that Windows editors (Notepad) put at the start.

    UTF-16 (a byte-order mark FF FE / FE FF, or NUL bytes) and any other encoding raise `error` naming the
    file and saying how to save it again as UTF-8.
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in raw[:4096]:
        raise error(file, "(file)", file, f"the {what} is saved as UTF-16; {RESAVE_AS_UTF8}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise error(file, "(file)", file, f"the {what} is not UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}, "
                                          f"perhaps Windows-1258 or another code page); {RESAVE_AS_UTF8}") from None


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
        """Write `obj` as a TOML file, atomically (`motcua.atomic`: never half a file)."""
        return write_text(path, self.dumps(obj, comment=comment))
