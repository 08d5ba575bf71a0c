"""report.html: one static page (no server, no scripts) with every table and heatmap; the
images are the PNG files beside it, linked relatively, so the folder can be moved or zipped."""

from __future__ import annotations

from html import escape

from ribray.report.build import Report
from ribray.report.deviations import deviations_html
from ribray.report.formula import RI_MATHML, ri_symbols
from ribray.report.missing import Missing
from ribray.report.sections import Section
from ribray.report.tables import Grid

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; padding: 0 1em; max-width: 1400px;
       color: #222; line-height: 1.4; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; position: sticky; left: 0; background: #fff; }
thead th, thead th:first-child { background: #f3f3f3; }
td.missing { color: #999; background: #fafafa; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0 1.5em; }
.caption, .files { color: #555; font-size: 0.85em; max-width: 60em; }
.warning { color: #8a4b00; }
.definition { background: #f7f7f7; padding: 0.5em 1em; max-width: 60em; }
.definition math { font-size: 1.25em; margin: 0.5em 0; }
.definition dt { font-weight: 600; float: left; clear: left; width: 5.5em; }
.definition dd { margin-left: 6em; margin-bottom: 0.3em; }
details { margin: 0.5em 0 1em; } summary { cursor: pointer; font-weight: 600; }
"""


def render_html(report: Report, sections: list[Section], title: str, links: list[tuple[str, str]] = (),
                drawn: set[str] | None = None, left_out: int = 0) -> str:
    """The page: overview, missing trials and notes, then every section; the figures whose
    stems are in `drawn` (None: all), and a line on the `left_out` ones not drawn."""
    parts = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>{escape(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>"]
    if links:
        items = "".join(f"<li><a href='{escape(href)}'>{escape(text)}</a></li>" for text, href in links)
        parts.append(f"<p>Other reports:</p><ul>{items}</ul>")
    parts.append(_problems(report))
    parts.append(deviations_html(report.fidelity))
    parts.append(_definition(report))
    if left_out:
        parts.append(f"<p class='files'>{left_out} figure(s) are not drawn (their tables are here); "
                     "<code>ribray report --figures all</code> draws every one.</p>")
    parts += [_section(section, drawn) for section in sections]
    parts.append("</body></html>")
    return "\n".join(parts)


def _problems(report: Report) -> str:
    html = []
    if report.missing:
        html.append(f"<h2 class='warning'>Missing: {len(report.missing)} trial(s)</h2>")
        html.append("<p>Cells that need them are left empty (—), never averaged over fewer values. "
                    "Full list: <a href='missing.csv'>missing.csv</a>.</p>")
        html.append(_missing_list(report.missing))
    if report.notes:
        html.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    return "\n".join(html)


def _definition(report: Report) -> str:
    """The RI formula, typeset (MathML, drawn by the browser itself), and its symbols in words."""
    symbols = "".join(f"<dt>{_symbol_html(symbol)}</dt><dd>{escape(meaning)}</dd>"
                      for symbol, meaning in ri_symbols(report.scope))
    block = RI_MATHML.replace("<math>", "<math display='block'>", 1)
    return (f"<h2>Definitions</h2><div class='definition'>{block}<p>where</p><dl>{symbols}</dl>"
            "<p>All values are percentages or percentage points (pp).</p></div>")


def _symbol_html(symbol: str) -> str:
    """'A_i^(j)' -> A with i below and (j) above, as in the formula."""
    base, _, rest = symbol.partition("_")
    low, _, high = rest.partition("^")
    return escape(base) + (f"<sub>{escape(low)}</sub>" if low else "") + (f"<sup>{escape(high)}</sup>" if high else "")


def _missing_list(missing: list[Missing], limit: int = 200) -> str:
    items = "".join(f"<li>{escape(m.describe())}</li>" for m in missing[:limit])
    more = f"<li>… and {len(missing) - limit} more</li>" if len(missing) > limit else ""
    return f"<details><summary>Missing trials</summary><ul>{items}{more}</ul></details>"


def _section(section: Section, drawn: set[str] | None = None) -> str:
    def shown(stem: str) -> bool:
        return drawn is None or stem in drawn

    body = [f"<p>{escape(t)}</p>" for t in section.text]
    body += [_grid(grid, shown(grid.stem)) for grid in section.grids]
    body += [f"<h3>{escape(p.title)}</h3>{_files(p.stem, FIGURE_FORMATS)}"
             f"<img src='{escape(p.stem)}.png' alt='{escape(p.title)}' loading='lazy'>"
             for p in section.plots if shown(p.stem)]
    body += [section.html] if section.html else []
    if section.collapsed:
        return (f"<h2>{escape(section.title)}</h2><details><summary>show {len(section.grids)} "
                f"table(s)</summary>{''.join(body)}</details>")
    return f"<h2>{escape(section.title)}</h2>" + "".join(body)


def _grid(grid: Grid, figure: bool = True) -> str:
    side = [grid.side_title] if grid.side else []
    head = "".join(f"<th title='{escape(c)}'>{escape(grid.label(c))}</th>" for c in [grid.corner, *grid.columns, *side])
    rows = []
    for row in grid.rows:
        cells = [(grid.shown(row, c), grid.cell(row, c).complete) for c in grid.columns]
        if grid.side:
            stat = grid.side.get(row)
            cells.append((stat.shown() if stat else "", stat is None or stat.complete))
        tds = "".join(f"<td{'' if ok else ' class=missing'}>{escape(text)}</td>" for text, ok in cells)
        rows.append(f"<tr><td title='{escape(row)}'>{escape(grid.label(row))}</td>{tds}</tr>")
    image = f"<img src='{escape(grid.stem)}.png' alt='{escape(grid.title)}' loading='lazy'>" if figure else ""
    return (f"<h3>{escape(grid.title)}</h3><div class='scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            f"<p class='caption'>{RI_MATHML + '. ' if grid.formula else ''}{escape(grid.caption)}</p>"
            f"{_files(grid.stem, TABLE_FORMATS + (FIGURE_FORMATS if figure else ()))}{image}")


TABLE_FORMATS = (("csv", "CSV"), ("md", "Markdown"), ("tex", "LaTeX"))
FIGURE_FORMATS = (("png", "PNG"), ("pdf", "PDF"), ("svg", "SVG"))


def _files(stem: str, formats: tuple[tuple[str, str], ...]) -> str:
    links = " · ".join(f"<a href='{escape(stem)}.{suffix}'>{name}</a>" for suffix, name in formats)
    return f"<p class='files'>{links}</p>"
