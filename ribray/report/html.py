"""report.html: one static page (no server, no scripts) with every table and heatmap; the
images are the PNG files beside it, linked relatively, so the folder can be moved or zipped.

The first screen says what was run, on what, with which code, and whether it is real (the
header: ribray.report.page_header); then the definitions, once; then every section, each with
an anchor that the header's table of contents links to."""

from __future__ import annotations

from html import escape

from ribray.report.build import Report
from ribray.report.deviations import deviations_html
from ribray.report.formula import RI_MATHML, ri_symbols
from ribray.report.missing import Missing
from ribray.report.page_header import anchor, page_header
from ribray.report.sections import Section
from ribray.report.tables import Grid

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.2em auto; padding: 0 2em; max-width: 2000px;
       color: #222; line-height: 1.4; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 0.15em; }
h3 { margin: 1.2em 0 0.3em; font-size: 1.05em; }
a { color: #0b57d0; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.3em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.55em; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; position: sticky; left: 0; background: #fff; }
thead th, thead th:first-child { background: #f3f3f3; }
th[title], td[title] { text-decoration: underline dotted #999; text-underline-offset: 3px; }
td.missing { color: #999; background: #fafafa; }
.item { display: flex; flex-wrap: wrap; gap: 0.5em 2em; align-items: flex-start; }
.item .tabular { flex: 0 1 auto; min-width: 0; max-width: 100%; } .item .caption { max-width: 44em; }
.item img { flex: 0 1 auto; max-width: 100%; height: auto; display: block; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, var(--card, 34em)), 1fr));
         gap: 0 2.5em; }
.cards .item .tabular { max-width: 100%; } .cards table { font-size: 0.8em; }
.cards th, .cards td { padding: 0.15em 0.4em; }
img.plot { max-width: 100%; height: auto; display: block; margin: 0.5em 0 1em; }
.caption, .files { color: #555; font-size: 0.85em; max-width: 60em; margin: 0.2em 0; }
.warning { color: #8a4b00; }
.definition { background: #f7f7f7; padding: 0.5em 1em; max-width: 60em; }
.definition math { font-size: 1.25em; margin: 0.5em 0; }
.definition dt { font-weight: 600; float: left; clear: left; width: 5.5em; }
.definition dd { margin-left: 6em; margin-bottom: 0.3em; }
details { margin: 0.5em 0 1em; } summary { cursor: pointer; font-weight: 600; }
""" + """
.alarm { border: 3px solid #b00020; background: #fdecee; color: #5f0010; padding: 0.6em 1.1em; margin: 0.6em 0 1em; }
.alarm strong { font-size: 1.15em; } .alarm ul { margin: 0.3em 0 0; padding-left: 1.2em; }
.top { display: grid; grid-template-columns: minmax(0, 3fr) minmax(16em, 2fr); gap: 1em 2.5em; }
@media (max-width: 1100px) { .top { grid-template-columns: 1fr; } }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; margin: 0.3em 0; font-size: 0.92em; }
.facts dt { font-weight: 600; color: #444; } .facts dd { margin: 0; overflow-wrap: anywhere; }
.datasets { font-size: 0.85em; } .datasets td, .datasets th { text-align: left; }
.top h2 { margin-top: 0.4em; }
nav.toc { background: #f7f7f7; padding: 0.4em 1em 0.6em; font-size: 0.92em; align-self: start; }
nav.toc ol { margin: 0.2em 0; padding-left: 1.3em; } nav.toc li { margin: 0.15em 0; }
nav.toc .sub { color: #555; font-size: 0.92em; } nav.toc .sub a { margin-right: 0.5em; }
code { background: #f3f3f3; padding: 0 0.2em; }
.deviations th, .deviations td { text-align: left; vertical-align: top; }
.deviations td.text { white-space: normal; min-width: 10em; }
"""


def render_html(report: Report, sections: list[Section], title: str, links: list[tuple[str, str]] = (),
                drawn: set[str] | None = None, left_out: int = 0) -> str:
    """The page: the header (warnings, provenance, contents), missing trials and notes, the
    definitions, then every section; the figures whose stems are in `drawn` (None: all), and a
    line on the `left_out` ones not drawn."""
    parts = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>{escape(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>"]
    if links:
        items = " · ".join(f"<a href='{escape(href)}'>{escape(text)}</a>" for text, href in links)
        parts.append(f"<p>Other reports: {items}</p>")
    parts.append(page_header(report, sections, _has_problems(report), drawn))
    parts.append(_problems(report))
    parts.append(deviations_html(report.fidelity, report.concerns))
    parts.append(_definition(report))
    if left_out:
        parts.append(f"<p class='files'>{left_out} figure(s) are not drawn (their tables are here); "
                     "<code>ribray report --figures all</code> draws every one.</p>")
    parts += [_section(section, drawn) for section in sections]
    parts.append("</body></html>")
    return "\n".join(parts)


def _has_problems(report: Report) -> bool:
    return bool(report.missing or report.notes)


def _problems(report: Report) -> str:
    html = []
    if report.missing:
        html.append(f"<h2 id='missing' class='warning'>Missing: {len(report.missing)} trial(s)</h2>")
        html.append("<p>Cells that need them are left empty (—), never averaged over fewer values. "
                    "Full list: <a href='missing.csv'>missing.csv</a>.</p>")
        html.append(_missing_list(report.missing))
    if report.notes:
        html.append(("" if report.missing else "<span id='missing'></span>") + "<h2>Notes</h2><ul>"
                    + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    return "\n".join(html)


def _definition(report: Report) -> str:
    """The RI formula, typeset (MathML, drawn by the browser itself), and its symbols in words:
    once on the page; the tables' captions link here."""
    symbols = "".join(f"<dt>{_symbol_html(symbol)}</dt><dd>{escape(meaning)}</dd>"
                      for symbol, meaning in ri_symbols(report.scope))
    block = RI_MATHML.replace("<math>", "<math display='block'>", 1)
    return (f"<h2 id='definitions'>Definitions</h2><div class='definition'>{block}<p>where</p><dl>{symbols}</dl>"
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
    grids = [_grid(grid, shown(grid.stem)) for grid in section.grids]
    if _as_cards(section):  # each card as wide as its widest table or figure: side by side only when they fit
        width = max(_width_em(grid, shown(grid.stem)) for grid in section.grids)
        body.append(f"<div class='cards' style='--card: {width:.0f}em'>{''.join(grids)}</div>")
    else:
        body.append("".join(grids))
    body += [f"<h3 id='{anchor(p.stem)}'>{escape(p.title)}</h3>{_files(p.stem, FIGURE_FORMATS)}"
             f"<img class='plot' src='{escape(p.stem)}.png' alt='{escape(p.title)}' loading='lazy'>"
             for p in section.plots if shown(p.stem)]
    body += [section.html] if section.html else []
    return f"<h2 id='{anchor(section.title)}'>{escape(section.title)}</h2>" + "".join(body)


NARROW = 5.5  # inches: a heatmap this narrow (a few columns) leaves room for another beside it


def _as_cards(section: Section) -> bool:
    """Side by side: the many per-method matrices, or several tables that are all narrow (one
    model's summary tables), instead of one per screen height."""
    from ribray.report.figures import heatmap_size

    return len(section.grids) > 1 and (section.collapsed or all(heatmap_size(g)[0] <= NARROW for g in section.grids))


def _image(grid: Grid) -> str:
    """The heatmap at 100 CSS px per inch of its figure (the PNG has 130 dots per inch: sharp on a
    dense screen), its size given so the page does not move as images load."""
    from ribray.report.figures import heatmap_size

    width, height = heatmap_size(grid)
    return (f"<img src='{escape(grid.stem)}.png' alt='{escape(grid.title)}' loading='lazy' "
            f"width='{round(width * CSS_PER_INCH)}' height='{round(height * CSS_PER_INCH)}'>")


CSS_PER_INCH = 100


def _width_em(grid: Grid, figure: bool) -> float:
    """About how wide (in em of the page's font) the grid's table, or its figure, is drawn."""
    from ribray.report.figures import heatmap_size

    def column(text: str) -> float:  # a card's 0.8 em table: ~0.55 em per character, 0.8 em of padding
        return 0.8 * (0.58 * max(len(text), 5) + 1.0)

    names = [grid.label(c) for c in grid.columns] + ([grid.side_title] if grid.side else [])
    table = column(max([grid.corner, *map(grid.label, grid.rows)], key=len)) + sum(map(column, names))
    return max(table + 1, heatmap_size(grid)[0] * CSS_PER_INCH / 16 if figure else 0)


def _grid(grid: Grid, figure: bool = True) -> str:
    side = [grid.side_title] if grid.side else []
    head = "".join(_header_cell(grid, c) for c in [grid.corner, *grid.columns, *side])
    rows = []
    for row in grid.rows:
        cells = [(grid.shown(row, c), grid.cell(row, c).complete) for c in grid.columns]
        if grid.side:
            stat = grid.side.get(row)
            cells.append((stat.shown() if stat else "", stat is None or stat.complete))
        tds = "".join(f"<td{'' if ok else ' class=missing'}>{escape(text)}</td>" for text, ok in cells)
        rows.append(f"<tr>{_header_cell(grid, row, 'td')}{tds}</tr>")
    image = _image(grid) if figure else ""
    defined = "<a href='#definitions'>RI and mRI as defined above</a>. " if grid.formula else ""
    table = (f"<div class='tabular'><div class='scroll'><table><thead><tr>{head}</tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table></div>"
             f"<p class='caption'>{defined}{escape(grid.caption)}</p>"
             f"{_files(grid.stem, TABLE_FORMATS + (FIGURE_FORMATS if figure else ()))}</div>")
    return (f"<div class='item'><h3 id='{anchor(grid.stem)}' style='flex-basis: 100%'>{escape(grid.title)}</h3>"
            f"{table}{image}</div>")


def _header_cell(grid: Grid, key: str, tag: str = "th") -> str:
    """A row's or column's name as shown, its key (a set's or model's id) in a tooltip when the two differ."""
    shown = grid.label(key)
    tip = f" title='{escape(key)}'" if shown != key else ""
    return f"<{tag}{tip}>{escape(shown)}</{tag}>"


TABLE_FORMATS = (("csv", "CSV"), ("md", "Markdown"), ("tex", "LaTeX"))
FIGURE_FORMATS = (("png", "PNG"), ("pdf", "PDF"), ("svg", "SVG"))


def _files(stem: str, formats: tuple[tuple[str, str], ...]) -> str:
    links = " · ".join(f"<a href='{escape(stem)}.{suffix}'>{name}</a>" for suffix, name in formats)
    return f"<p class='files'>{links}</p>"
