"""Heatmaps of the report's tables. matplotlib's object API with the Agg canvas: no display,
no pyplot global state, safe in a notebook or a headless job."""

from __future__ import annotations

import math
from pathlib import Path

from ribray.report.robustness import MISSING
from ribray.report.tables import Grid

MISSING_COLOUR = "#d9d9d9"


def heatmap(grid: Grid, path: Path) -> Path:
    """Draw `grid` as an annotated heatmap: dataset/model names on the axes, every value
    written in its cell, missing cells grey with a dash; the side column as right-hand labels."""
    import numpy as np
    from matplotlib.figure import Figure

    values = np.array([[grid.cell(r, c).mean for c in grid.columns] for r in grid.rows], dtype=float)
    rows, columns = values.shape
    longest_row = max((len(grid.label(r)) for r in grid.rows), default=4)
    width = 2.6 + 0.07 * longest_row + 1.0 * columns + (1.3 if grid.side else 0.0)
    width = max(width, 2.0 + 0.075 * len(grid.title))  # the title must not run into the colour bar
    figure = Figure(figsize=(width, 2.2 + 0.42 * rows), dpi=130, layout="constrained")
    axes = figure.add_subplot()
    cmap, norm = _colours(values, grid.diverging)
    image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    _annotate(axes, grid, cmap, norm)
    axes.set_xticks(range(columns), labels=[grid.label(c) for c in grid.columns], rotation=35, ha="right",
                    rotation_mode="anchor")
    axes.set_yticks(range(rows), labels=[grid.label(r) for r in grid.rows])
    axes.set_xlabel(grid.column_title)
    axes.set_ylabel(grid.corner)
    axes.set_title(grid.title, fontsize=10)
    if grid.side:
        _side_labels(axes, grid)
    unit = grid.unit or ("percentage points" if grid.diverging else "top-1 accuracy (%)")
    figure.colorbar(image, ax=axes, label=unit, shrink=0.9, pad=0.02)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def _colours(values, diverging: bool):
    """Red-white-blue centred on 0 for RI (blue = more robust); viridis for accuracies."""
    import matplotlib
    import numpy as np
    from matplotlib.colors import Normalize

    finite = values[np.isfinite(values)]
    if diverging:
        limit = float(np.max(np.abs(finite))) if finite.size else 1.0
        limit = limit or 1.0
        norm = Normalize(-limit, limit)
        cmap = matplotlib.colormaps["RdBu"]
    else:
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
        norm = Normalize(low, high if high > low else low + 1.0)
        cmap = matplotlib.colormaps["viridis"]
    return cmap.with_extremes(bad=MISSING_COLOUR), norm


def _annotate(axes, grid: Grid, cmap, norm) -> None:
    several = grid.several_seeds()
    digits = 2 if grid.diverging else 1  # RI values are small: 0.1 would hide 0.14 vs 0.05
    for y, row in enumerate(grid.rows):
        for x, column in enumerate(grid.columns):
            stat = grid.cell(row, column)
            if stat.complete:
                text = f"{stat.mean:.{digits}f}"
                if several and not math.isnan(stat.std):
                    text += f"\n±{stat.std:.{digits}f}"
                colour = _ink(cmap(norm(stat.mean)))
            else:
                note = grid.missing_text.get((row, column))
                text, colour = ("—" + (f"\n{note}" if note else "")), "#555555"
            axes.text(x, y, text, ha="center", va="center", color=colour, fontsize=8)


def _ink(rgba) -> str:
    """Black on light cells, white on dark ones."""
    red, green, blue = rgba[:3]
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def _side_labels(axes, grid: Grid) -> None:
    """The side column (RI of each row, or mRI) as labels on a right-hand axis."""
    side = axes.secondary_yaxis("right")
    labels = [grid.side.get(r, MISSING).shown(digits=2, missing="missing") if r in grid.side else ""
              for r in grid.rows]
    side.set_yticks(range(len(grid.rows)), labels=labels)
    side.tick_params(length=0)
    # The column's name on top, like a table header (a y label would sit by the colour bar's).
    axes.annotate(grid.side_title, xy=(1, 1), xycoords="axes fraction", xytext=(6, 4),
                  textcoords="offset points", ha="left", va="bottom", fontweight="bold")
