"""The look every motcua chart shares: headless backend, a font with Vietnamese diacritics,
one palette, numbers in the report's language on the axes (`motcua.report.numbers`), and a `save` that
writes a chart atomically in the format of its suffix and in every other format of `motcua.report.export`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # charts are files; no screen is assumed

import matplotlib.pyplot as plt
from cycler import cycler  # matplotlib's own dependency

from motcua.atomic import atomic_path
from motcua.report.export import DEFAULT_DPI
from motcua.report.export import current as current_export

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# DejaVu Sans ships with matplotlib and covers Vietnamese (ă, ơ, ư, ạ, ế …).
FONT = "DejaVu Sans"
PALETTE = ("#1f5aa6", "#d9822b", "#2e8b57", "#b03a2e", "#7d3c98", "#5d6d7e", "#c9a227", "#17a2b8")
TARGET_COLOR = "#b03a2e"
DPI = DEFAULT_DPI

plt.rcParams.update(
    {
        "font.family": FONT,
        "axes.prop_cycle": cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "figure.dpi": DPI,
        "savefig.bbox": "tight",
        "svg.hashsalt": "motcua",  # the same chart gives the same SVG (no random ids)
    }
)
NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}
"""Metadata that leaves the creation date out, so redrawing the same run gives the same file."""


def new_figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Any]:
    """A figure and one axes of the house size."""
    return plt.subplots(figsize=(width, height))


def target_line(ax: Any, value: float, label: str, *, vertical: bool = False) -> None:
    """A target drawn as a dashed line labelled where it is drawn (not in the legend, which must not hide it);
    the axis is widened to show it."""
    if vertical:
        ax.axvline(value, color=TARGET_COLOR, linestyle="--", linewidth=1.2)
        ax.set_xlim(right=max(ax.get_xlim()[1], value * 1.08))
        ax.annotate(label, xy=(value, 1.0), xycoords=("data", "axes fraction"), xytext=(-3, -3),
                    textcoords="offset points", ha="right", va="top", rotation=90, fontsize=8, color=TARGET_COLOR)
    else:
        ax.axhline(value, color=TARGET_COLOR, linestyle="--", linewidth=1.2)
        ax.set_ylim(top=max(ax.get_ylim()[1], value * 1.12))
        ax.annotate(label, xy=(0.0, value), xycoords=("axes fraction", "data"), xytext=(4, 3),
                    textcoords="offset points", ha="left", va="bottom", fontsize=8, color=TARGET_COLOR)


def legend_outside(ax: Any, **options: Any) -> None:
    """The legend to the right of the axes, clear of the data and of the target line."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False, **options)


def save(fig: Figure, path: Path, lang: str | None = None) -> Path:
    """Write `fig` atomically in the format of `path`'s suffix (.png, .svg, .pdf), and beside it in every other
    format of the current `motcua.report.export.ChartExport` (``--format png,svg``) at its ``--dpi``; close it.

    With `lang`, the axes Matplotlib numbered get the report's number format first
    (`motcua.report.numbers.localize_axes`: '1,5' and '12.000' in Vietnamese). Returns `path` (the file the HTML
    report embeds)."""
    from motcua.report.numbers import localize_axes

    path = Path(path)
    if lang is not None:
        localize_axes(fig, lang)
    export = current_export()
    try:
        for suffix in export.suffixes(path.suffix.lower() or ".png"):
            fmt = suffix.lstrip(".")
            with atomic_path(path.with_suffix(suffix)) as tmp:
                fig.savefig(tmp, format=fmt, dpi=export.dpi, metadata=NO_DATE.get(fmt))
    finally:
        plt.close(fig)
    return path
