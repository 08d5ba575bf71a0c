"""Writing a report folder (CSV, Markdown, LaTeX and a heatmap per table; report.md, report.json,
missing.csv, report.html), its JSON form, and the terminal summary."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

from ribray.report.build import Report
from ribray.report.deviations import deviation_items, deviations_text
from ribray.report.figures import draw_all, drawn_sections, figure_files
from ribray.report.formula import RI_LATEX, ri_symbols
from ribray.report.html import render_html
from ribray.report.robustness import Stat
from ribray.report.rows import PRETRAINED
from ribray.report.sections import Section, report_sections
from ribray.report.sizes import size_sections
from ribray.report.tables import Grid, mri_grid, slug, to_csv, to_latex, to_markdown

MISSING_SHOWN = 25  # missing trials listed on the terminal; all of them are in missing.csv


def report_folder(out: Path, report: Report, index: int) -> Path:
    """The first report (the main tables) at the top, dataset-size subsets beside it."""
    return out if index == 0 else out / f"train_subset={slug(report.scope.train_subset)}"


def write_reports(reports: list[Report], out: Path, title: str = "ribray report",
                  figures: str = "auto", extra: Sequence[Section] = ()) -> list[Path]:
    """Write every report's files under `out`, with the figures `figures` chooses (a key of
    figures.FIGURES); the first report's page also gets the `extra` sections (the comparison
    with reference numbers) and the views across train subsets. Returns the paths written."""
    folders = [report_folder(out, r, i) for i, r in enumerate(reports)]
    written = []
    first_page = [*size_sections(reports), *extra]
    for index, (report, folder) in enumerate(zip(reports, folders, strict=True)):
        links = [(f"train subset {r.scope.train_subset}", _relative(f / "report.html", folder))
                 for j, (r, f) in enumerate(zip(reports, folders, strict=True)) if j != index]
        name = title if index == 0 else f"{title} — train subset {report.scope.train_subset}"
        written += write_report(report, folder, name, links, figures, first_page if index == 0 else ())
    if len(reports) > 1:  # a dataset-size sweep: robustness against the fine-tuning set's size
        written += _write_size_plot(reports, folders[0], draw=figures != "none")
    return written


def _write_size_plot(reports: list[Report], folder: Path, draw: bool = True) -> list[Path]:
    import csv

    from ribray.report.analyses import SizePlot

    plot = SizePlot("dataset_size", "Robustness against the size of the fine-tuning set", reports)
    table = folder / "dataset_size.csv"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["model", "method", "train_subset", "images_per_class",
                                                    "ood_accuracy", "mri", "imagenet_val"])
        writer.writeheader()
        writer.writerows(plot.rows())
    return [table, *(figure_files(plot.draw(folder / "dataset_size.png")) if draw else [])]


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target, start)


def write_report(report: Report, folder: Path, title: str = "ribray report",
                 links: list[tuple[str, str]] = (), figures: str = "auto", extra: Sequence[Section] = ()) -> list[Path]:
    """One report's files in `folder`: every table as CSV (mean and std columns), Markdown and
    LaTeX (booktabs), plus report.md, report.json, missing.csv and report.html; and the figures
    `figures` chooses (figures.FIGURES): heatmaps of tables and other plots, each as PNG, PDF
    and SVG; `extra` sections after the report's own."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = [*report_sections(report), *extra]
    written = []
    for section in sections:
        for grid in section.grids:
            written += _write_grid(grid, folder)
    drawings = [what for section in drawn_sections(sections, figures) for what in [*section.grids, *section.plots]]
    written += draw_all([(what, folder / f"{what.stem}.png") for what in drawings])
    left_out = sum(len(s.grids) + len(s.plots) for s in sections) - len(drawings)
    written.append(_write(folder / "report.md", report_markdown(report, sections, title)))
    written.append(_write(folder / "report.json", json.dumps(report_json(report), indent=1) + "\n"))
    written.append(_write(folder / "missing.csv", missing_csv(report)))
    drawn = {what.stem for what in drawings}
    written.append(_write(folder / "report.html", render_html(report, sections, title, links, drawn, left_out)))
    return written


def _write_grid(grid: Grid, folder: Path) -> list[Path]:
    return [_write(folder / f"{grid.stem}.csv", to_csv(grid)),
            _write(folder / f"{grid.stem}.md", to_markdown(grid, heading="#")),
            _write(folder / f"{grid.stem}.tex", to_latex(grid))]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def report_markdown(report: Report, sections: list[Section], title: str) -> str:
    """Every table of the report in one Markdown document."""
    parts = [f"# {title}", ""]
    if report.provenance is not None:
        parts += [f"> **WARNING: {w}**" for w in report.provenance.warnings()]
        parts += ([""] if report.provenance.warnings() else []) + ["## Where these numbers come from", ""]
        parts += [f"- {what}: {value}" for what, value in report.provenance.facts()]
        parts += [f"- data {d.name}: {', '.join(d.fingerprints) or 'not recorded'}"
                  + (" (generated)" if d.generated else "") for d in report.provenance.data] + [""]
    if report.missing:
        parts += [f"**Missing: {len(report.missing)} trial(s)** (see missing.csv)", ""]
    parts += [f"- {note}" for note in report.notes] + ([""] if report.notes else [])
    box = deviations_text(report.fidelity, report.concerns)
    parts += [f"## {box[0].rstrip(':')}", "", *box[1:], ""]
    parts += ["## Definitions", "", f"$$ {RI_LATEX} $$", "", "where", ""]
    parts += [f"- `{symbol}`: {meaning}" for symbol, meaning in ri_symbols(report.scope)] + [""]
    for section in sections:
        parts += [f"## {section.title}", "", *section.text, ""]
        parts += [to_markdown(grid, formula=False) for grid in section.grids]  # stated once, above
    return "\n".join(parts)


def missing_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["model", "method", "downstream", "seed", "train_subset", "trial_id", "eval_sets", "what"]
    writer.writerow(columns)
    for item in report.missing:
        record = item.to_json() | {"eval_sets": " ".join(item.eval_sets)}
        writer.writerow(["" if record[c] is None else record[c] for c in columns])
    return buffer.getvalue()


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def stat_json(stat: Stat) -> dict:
    """mean, std (null for one seed or a missing value), and every seed's value."""
    return {"mean": _number(stat.mean), "std": _number(stat.std), "complete": stat.complete,
            "seeds": [{"seed": seed, "value": _number(v)} for seed, v in stat.per_seed]}


def report_json(report: Report) -> dict:
    """The whole report as plain JSON values (NaN becomes null)."""
    scope = report.scope
    cells = [(model, method) for model in scope.models for method in scope.methods]
    tuned = [(model, method, d) for model, method in cells for d in scope.downstream]
    return {
        "train_subset": scope.train_subset, "models": list(scope.models),
        "downstream": list(scope.downstream), "rib_sets": list(scope.rib_sets), "n": scope.n,
        "eval_sets": list(scope.eval_sets),
        "methods": list(scope.methods), "seeds": list(scope.seeds),
        "mri": [{"model": m, "method": k, **stat_json(report.mri[(m, k)]),
                 "complete_cells": report.complete_ri_cells(m, k), "cells": len(scope.downstream)}
                for m, k in cells],
        "absolute_robustness": _cells_json(report.absolute),
        "ri": [{"model": m, "method": k, "downstream": d, **stat_json(report.ri[(m, k, d)])}
               for m, k, d in tuned],
        "accuracy": _accuracy_json(report, tuned),
        "downstream_accuracy": _cells_json(report.downstream_accuracy),
        "imagenet_accuracy": _cells_json(report.imagenet_accuracy),
        "missing": [item.to_json() for item in report.missing],
        "notes": list(report.notes),
        "fidelity": report.fidelity, "deviations": deviation_items(report.fidelity, report.concerns),
        "provenance": report.provenance.to_json() if report.provenance is not None else None,
    }


def _accuracy_json(report: Report, tuned: list[tuple]) -> list[dict]:
    found = [{"model": m, "method": PRETRAINED, "downstream": None, "eval_set": s, **stat_json(stat)}
             for m, sets in report.pretrained.items() for s, stat in sets.items()]
    return found + [{"model": m, "method": k, "downstream": d, "eval_set": s, **stat_json(stat)}
                    for m, k, d in tuned for s, stat in report.accuracy[(m, k, d)].items()]


def _cells_json(values: dict[tuple[str, str], Stat]) -> list[dict]:
    return [{"model": m, "method": k, **stat_json(stat)} for (m, k), stat in values.items()]


def summary_text(reports: list[Report], out: Path | None = None) -> str:
    """What the terminal shows: the mRI table, missing trials and notes of each report."""
    lines = _warning_lines(reports[0].provenance) if reports else []
    for report in reports:
        scope = report.scope
        lines += [f"== train subset {scope.train_subset}: {len(scope.models)} model(s), "
                  f"{len(scope.downstream)} downstream set(s), RI over n = {scope.n} {scope.sets_name}, "
                  f"{len(scope.methods)} method(s), seed(s) "
                  f"{', '.join('-' if s is None else str(s) for s in scope.seeds)}", ""]
        if scope.methods and scope.models:
            lines += [to_markdown(mri_grid(report), heading="", math=False).lstrip()]
        if report.missing:
            lines.append(f"Missing: {len(report.missing)} trial(s)")
            lines += [f"  - {m.describe()}" for m in report.missing[:MISSING_SHOWN]]
            if len(report.missing) > MISSING_SHOWN:
                lines.append(f"  ... and {len(report.missing) - MISSING_SHOWN} more (see missing.csv)")
        lines += [f"Note: {note}" for note in report.notes] + [""]
    if reports:
        lines += [*deviations_text(reports[0].fidelity, reports[0].concerns), ""]
    if reports and reports[0].provenance is not None:
        lines += [f"{what}: {value}" for what, value in reports[0].provenance.facts() if what != "written"] + [""]
        lines += _warning_lines(reports[0].provenance)
    if out is not None:
        lines.append(f"Report written to {out / 'report.html'}")
    return "\n".join(lines)


def _warning_lines(provenance) -> list[str]:
    """The warnings, loud, at the top and again at the bottom of the terminal summary."""
    if provenance is None or not provenance.warnings():
        return []
    return ["!" * 78, "WARNING: these numbers are not benchmark results.",
            *(f"  - {w}" for w in provenance.warnings()), "!" * 78, ""]
