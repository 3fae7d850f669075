"""The look every motcua chart shares: headless backend, a font with Vietnamese diacritics,
one palette, and a `save` that writes a PNG atomically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # charts are files; no screen is assumed

import matplotlib.pyplot as plt
from cycler import cycler  # matplotlib's own dependency

from motcua.atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# DejaVu Sans ships with matplotlib and covers Vietnamese (ă, ơ, ư, ạ, ế …).
FONT = "DejaVu Sans"
PALETTE = ("#1f5aa6", "#d9822b", "#2e8b57", "#b03a2e", "#7d3c98", "#5d6d7e", "#c9a227", "#17a2b8")
TARGET_COLOR = "#b03a2e"
DPI = 120

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
    }
)


def new_figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Any]:
    """A figure and one axes of the house size."""
    return plt.subplots(figsize=(width, height))


def save(fig: Figure, path: Path) -> Path:
    """Write `fig` atomically and close it: PNG, or SVG / PDF when `path` ends so (the studio's exports)."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=kind if kind in ("svg", "pdf") else "png")
    finally:
        plt.close(fig)
    return path
