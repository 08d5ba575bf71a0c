"""The first screen of report.html: a loud warning when the numbers are meaningless (generated
data, random-init models), where they come from (ribray.report.provenance), the eval sets
under the names the tables use, and a table of contents linking every section and table."""

from __future__ import annotations

import re
from html import escape

from ribray.data import short_name
from ribray.report.build import Report
from ribray.report.markup import with_code
from ribray.report.provenance import Provenance, short_fingerprint
from ribray.report.sections import Section


def anchor(name: str) -> str:
    """An id for a section or table: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "section"


def page_header(report: Report, sections: list[Section], problems: bool = False,
                drawn: set[str] | None = None) -> str:
    """The warning box (if any), then provenance and data beside the table of contents (of the
    plots, those whose stems are in `drawn`; None: all)."""
    provenance = report.provenance
    parts = [warning_box(provenance)] if provenance is not None else []
    facts = provenance_html(provenance) if provenance is not None else \
        "<p>Provenance not known: the report was built from rows without their sweep.</p>"
    parts.append(f"<div class='top'><section id='provenance'><h2>Where these numbers come from</h2>{facts}"
                 f"{datasets_html(report)}</section>{contents(sections, problems, drawn)}</div>")
    return "\n".join(parts)


def warning_box(provenance: Provenance) -> str:
    warnings = provenance.warnings()
    if not warnings:
        return ""
    items = "".join(f"<li>{with_code(w)}</li>" for w in warnings)
    return (f"<div class='alarm' role='alert' id='not-real'><strong>These numbers are not benchmark results.</strong>"
            f"<ul>{items}</ul></div>")


def provenance_html(provenance: Provenance) -> str:
    rows = []
    for what, value in provenance.facts():
        if what == "MLflow" and provenance.mlflow is not None:
            rows.append(f"<dt>{escape(what)}</dt><dd>{_mlflow_html(provenance)}</dd>")
        else:
            rows.append(f"<dt>{escape(what)}</dt><dd>{escape(value)}</dd>")
    return f"<dl class='facts'>{''.join(rows)}</dl>"


def _mlflow_html(provenance: Provenance) -> str:
    run = provenance.mlflow
    where = f"experiment <code>{escape(run.experiment)}</code>"
    if run.run_id is None:
        return f"{where} at {escape(run.tracking_uri)}: no run of this sweep found"
    if run.url:
        return f"{where}, <a href='{escape(run.url)}'>run {escape(run.run_id)}</a>"
    return (f"{where}, run <code>{escape(run.run_id)}</code> in {escape(run.tracking_uri)} "
            f"(open it with <code>ribray ui {escape(run.target)}</code>)")


def datasets_html(report: Report) -> str:
    """The eval sets: the short name the tables and MLflow show, the registry id, the data's
    fingerprint, and whether it is generated."""
    provenance = report.provenance
    facts = {d.name: d for d in provenance.data} if provenance is not None else {}
    rows = []
    for name in report.scope.eval_sets:
        found = facts.get(name)
        prints = ", ".join(short_fingerprint(f) for f in found.fingerprints) if found and found.fingerprints \
            else "not recorded"
        generated = {True: "<strong>generated</strong>", False: "real (no fake marker)", None: "not recorded"}[
            found.generated if found else None]
        role = "RI set" if name in report.scope.rib_sets else "not in RI"
        rows.append(f"<tr><td>{escape(short_name(name))}</td><td>{escape(name)}</td><td>{escape(prints)}</td>"
                    f"<td>{generated}</td><td>{role}</td></tr>")
    return ("<div class='scroll'><table class='datasets'><thead><tr><th>set</th><th>id</th><th>data fingerprint</th>"
            f"<th>images</th><th>role</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def contents(sections: list[Section], problems: bool = False, drawn: set[str] | None = None) -> str:
    """Every section, and under one with several tables or drawn plots, a link to each."""
    items = ["<li><a href='#provenance'>Where these numbers come from</a></li>"]
    if problems:
        items.append("<li><a href='#missing'>Missing trials and notes</a></li>")
    items.append("<li><a href='#definitions'>Definitions (RI, mRI)</a></li>")
    previous = None
    for section in sections:
        entries = [(grid.short or grid.title, grid.stem) for grid in section.grids]
        entries += [(plot.title, plot.stem) for plot in section.plots if drawn is None or plot.stem in drawn]
        sub = ""
        if len(entries) > 1:
            sub = "<div class='sub'>" + "".join(f"<a href='#{anchor(stem)}'>{escape(text)}</a>"
                                                for text, stem in entries) + "</div>"
        subject, _, rest = section.title.rpartition(": ")
        if subject and subject == previous:  # one model's sections on one line: "IN-21K: RI · accuracy matrices"
            items[-1] = items[-1].removesuffix("</li>") + f" · <a href='#{anchor(section.title)}'>{escape(rest)}</a>{sub}</li>"
        else:
            items.append(f"<li><a href='#{anchor(section.title)}'>{escape(section.title)}</a>{sub}</li>")
        previous = subject
    return f"<nav class='toc' aria-label='contents'><h2>Contents</h2><ol>{''.join(items)}</ol></nav>"
