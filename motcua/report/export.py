"""How charts are exported: resolution and file formats, chosen once on the command line for a whole command.

*Scenario.* A planner pastes the adoption chart into the campaign plan (a Word file that is printed) and
needs 300 dpi, or SVG for the layout tool: ``motcua run lang-son-2024 --dpi 300 --format png,svg``. Every
chart is still written where it always was (``charts/share_trajectories.png``, which the HTML report embeds),
in the format its suffix names, and once more in each other format asked for, beside it
(``charts/share_trajectories.svg``). The default (120 dpi, PNG only) keeps the quick runs quick.

The choice is a `ChartExport` value; `exporting` makes it the current one for the charts drawn inside the
block (a context variable, so parallel commands in one process, e.g. tests, do not see each other's). This
module is light (no Matplotlib) so the command line can import it for ``--help``.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

from motcua.errors import InputError

FORMATS = ("png", "svg", "pdf")
"""File formats a chart can be exported in (Matplotlib writes each without extra packages)."""
DEFAULT_DPI = 120
"""Resolution of PNG charts unless ``--dpi`` says otherwise (300 for print)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChartExport:
    """Resolution of raster charts and the formats each chart is written in (besides its own suffix's)."""

    dpi: int = DEFAULT_DPI
    formats: tuple[str, ...] = ("png",)

    def __post_init__(self) -> None:
        if not 30 <= self.dpi <= 1200:
            raise InputError(f"--dpi {self.dpi}: out of range; use 30–1200 (300 for print)")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise InputError(f"--format {','.join(self.formats)}: unknown format {', '.join(unknown) or '(none)'}; "
                             f"choose among {', '.join(FORMATS)}, separated by commas (e.g. png,svg)")

    def suffixes(self, own: str) -> list[str]:
        """The suffixes a chart named with suffix `own` is written under: `own` first, then the other formats."""
        return [own, *(f".{f}" for f in self.formats if f".{f}" != own)]


DEFAULT = ChartExport()
_CURRENT: contextvars.ContextVar[ChartExport | None] = contextvars.ContextVar("chart_export", default=None)


def current() -> ChartExport:
    """The export settings of the charts being drawn now (`DEFAULT` outside `exporting`)."""
    return _CURRENT.get() or DEFAULT


@contextlib.contextmanager
def exporting(export: ChartExport) -> Iterator[ChartExport]:
    """Draw the charts of the block with `export`'s resolution and formats."""
    token = _CURRENT.set(export)
    try:
        yield export
    finally:
        _CURRENT.reset(token)


def parse_formats(text: str) -> tuple[str, ...]:
    """``"png,svg"`` → ``("png", "svg")`` (lower case, blanks ignored); unknown names are refused."""
    formats = tuple(dict.fromkeys(part.strip().lower().lstrip(".") for part in text.split(",") if part.strip()))
    ChartExport(formats=formats)  # checks them
    return formats


def add_chart_options(parser: argparse.ArgumentParser) -> None:
    """``--dpi`` and ``--format`` on a command that draws charts."""
    parser.add_argument("--dpi", type=int, default=None, metavar="N",
                        help=f"resolution of PNG charts (default {DEFAULT_DPI}; 300 for print)")
    parser.add_argument("--format", dest="formats", default=None, metavar="LIST",
                        help="formats each chart is saved in, comma-separated: png, svg, pdf (default png; "
                             "PNG is always written, the HTML report embeds it)")


def chart_export(args: argparse.Namespace) -> ChartExport:
    """The `ChartExport` of parsed ``--dpi`` / ``--format`` options (defaults when absent)."""
    dpi = getattr(args, "dpi", None)
    formats = getattr(args, "formats", None)
    return ChartExport(dpi=DEFAULT_DPI if dpi is None else dpi,
                       formats=("png",) if formats is None else parse_formats(formats))


def chart_flags(args: argparse.Namespace) -> list[str]:
    """``--dpi N --format LIST`` as given, for the command that reproduces a run."""
    out = []
    if getattr(args, "dpi", None) is not None:
        out += ["--dpi", str(args.dpi)]
    if getattr(args, "formats", None) is not None:
        out += ["--format", args.formats]
    return out


def with_chart_export(func: Callable[[argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
    """`func` (a command's ``run``) drawing its charts as its ``--dpi`` and ``--format`` ask."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> Any:
        with exporting(chart_export(args)):
            return func(args)

    return run
