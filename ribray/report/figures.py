"""Heatmaps of the report's tables. matplotlib's object API with the Agg canvas: no display,
no pyplot global state, safe in a notebook or a headless job."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from ribray.report.robustness import MISSING
from ribray.report.tables import Grid

if TYPE_CHECKING:
    from ribray.report.sections import Plot, Section

MISSING_COLOUR = "#d9d9d9"
VECTOR_FORMATS = ("pdf", "svg")  # beside every PNG, for a paper's figures
# No creation date inside the files: the same results give byte-identical figures.
_NO_DATE = {"png": {}, "pdf": {"CreationDate": None}, "svg": {"Date": None}}


def save_figure(figure, path: Path) -> Path:
    """Save `figure` as `path` (a .png) and as PDF and SVG beside it; returns the PNG's path."""
    from matplotlib import rc_context

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, metadata=_NO_DATE["png"])
    figure.set_layout_engine("none")  # keep the layout just computed: the vector files are the same page
    with rc_context({"svg.hashsalt": "ribray"}):  # SVG ids from a fixed salt, not random ones
        for suffix in VECTOR_FORMATS:
            figure.savefig(path.with_suffix(f".{suffix}"), metadata=_NO_DATE[suffix])
    return path


def figure_files(png: Path) -> list[Path]:
    """A figure's files as save_figure writes them: the PNG, then its PDF and SVG."""
    return [png, *(png.with_suffix(f".{suffix}") for suffix in VECTOR_FORMATS)]


# Which figures a report draws (`ribray report --figures`); the tables are written whatever it says.
# summary: heatmaps across models, RI per model, OTDD, dataset size; all: also a figure per
# (model, method) (accuracy matrices, learning curves, CKA); auto: summary, and the per-(model,
# method) figures while there are at most DETAIL_LIMIT (one model's sweep); none: no figure.
FIGURES = ("auto", "summary", "all", "none")
DETAIL_LIMIT = 24


def drawn_sections(sections: list[Section], figures: str) -> list[Section]:
    """The sections whose figures `figures` (a key of FIGURES) draws."""
    if figures not in FIGURES:
        raise ValueError(f"figures must be one of {', '.join(FIGURES)}, not {figures!r}")
    detail = sum(len(s.grids) + len(s.plots) for s in sections if s.detail)
    with_detail = figures == "all" or (figures == "auto" and detail <= DETAIL_LIMIT)
    return [] if figures == "none" else [s for s in sections if with_detail or not s.detail]


FIGURES_PER_WORKER = 8  # below this, starting a process costs more than it saves


def draw_all(drawings: list[tuple[Grid | Plot, Path]]) -> list[Path]:
    """Draw each Grid (as a heatmap) or Plot at its PNG path, with its PDF and SVG; returns
    every file in order. matplotlib's text layout is CPU-bound (a paper-grid report has ~100
    figures), so many figures are drawn by worker processes, one per CPU."""
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(cpus, len(drawings) // FIGURES_PER_WORKER)
    if workers < 2:
        return [file for drawing in drawings for file in _draw(drawing)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [file for files in pool.map(_draw, drawings, chunksize=2) for file in files]


def _draw(drawing: tuple[Grid | Plot, Path]) -> list[Path]:
    what, path = drawing
    return figure_files(heatmap(what, path) if isinstance(what, Grid) else what.draw(path))


def heatmap(grid: Grid, path: Path) -> Path:
    """Draw `grid` as an annotated heatmap: dataset/model names on the axes, every value
    written in its cell, missing cells grey with a dash; the side column as right-hand labels."""
    import numpy as np
    from matplotlib.figure import Figure

    values = np.array([[grid.cell(r, c).mean for c in grid.columns] for r in grid.rows], dtype=float)
    rows, columns = values.shape
    width, height = heatmap_size(grid)
    figure = Figure(figsize=(width, height), dpi=130, layout="constrained")
    axes = figure.add_subplot()
    cmap, norm = _colours(values, grid.diverging)
    image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    _annotate(axes, grid, cmap, norm)
    axes.set_xticks(range(columns), labels=[grid.label(c) for c in grid.columns], rotation=35, ha="right",
                    rotation_mode="anchor")
    axes.set_yticks(range(rows), labels=[grid.label(r) for r in grid.rows])
    axes.set_xlabel(grid.column_title)
    axes.set_ylabel(grid.corner)
    axes.set_title(textwrap.fill(grid.title, max(24, int(width * 11))), fontsize=10)
    if grid.side:
        _side_labels(axes, grid)
    unit = grid.unit or ("percentage points" if grid.diverging else "top-1 accuracy (%)")
    figure.colorbar(image, ax=axes, label=unit, shrink=0.9, pad=0.02)
    return save_figure(figure, path)


# Inches per cell (a value, or a value over a ± line) and per character of a label, at 8-10 pt.
CELL_WIDTH, CELL_HEIGHT, SEEDS_HEIGHT, CHARACTER = 0.78, 0.34, 0.52, 0.075


def heatmap_size(grid: Grid) -> tuple[float, float]:
    """(width, height) in inches from the grid's rows x columns and its labels' lengths, so a
    one-column table is a narrow figure, not a wide slab; a long title wraps instead."""
    longest_row = max((len(grid.label(r)) for r in grid.rows), default=4)
    longest_column = max((len(grid.label(c)) for c in grid.columns), default=4)
    side = max((len(s.shown(digits=2, missing="missing")) for s in grid.side.values()), default=0) if grid.side else 0
    width = 0.6 + CHARACTER * longest_row + CELL_WIDTH * len(grid.columns) + 1.2 + CHARACTER * (side + 2)
    width = max(width, 3.4)
    title_lines = math.ceil(len(grid.title) / max(24, int(width * 11)))
    labels = 0.25 + 0.6 * CHARACTER * longest_column  # tick labels at 35 degrees
    per_row = SEEDS_HEIGHT if grid.several_seeds() else CELL_HEIGHT
    return width, 0.55 + 0.2 * title_lines + labels + 0.3 + per_row * len(grid.rows)


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
