"""What a reader of `ribray report` sees first: where the numbers come from, a loud warning when
they come from generated data or random-init models (from what the rows recorded), the RI
formula once, a table of contents whose links land, sets under MLflow's short names."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from test_report import MODEL, write_matrix, write_pretrained

from ribray.cli.report import report
from ribray.report.formula import RI_LATEX
from ribray.report.page_header import anchor

SHA = "0123456789abcdef0123456789abcdef01234567"
REAL = {"ribray_version": "0.4.1", "git_sha": SHA, "decode": "pil", "eval_precision": "bf16",
        "data_fingerprint": "80:3f2a1b9c0d4e", "data_generated": False, "model_weights": "pretrained"}


def _report(results, *args):
    """`ribray report RESULTS` without figures (the page's text is what is checked here)."""
    outcome = CliRunner().invoke(report, [str(results), "--figures", "none", *map(str, args)])
    assert outcome.exit_code == 0, outcome.output
    folder = results.parent / "report"
    return outcome.output, (folder / "report.html").read_text(), folder


def _sweep(tmp_path, **facts):
    results = tmp_path / "rib" / "results"
    write_pretrained(results, **facts)
    write_matrix(results, "ft", train_generated=facts.get("data_generated"), **facts)
    return results


def test_the_first_screen_says_where_the_numbers_come_from(tmp_path):
    output, html, folder = _report(_sweep(tmp_path, **REAL))
    header = html[:html.index("id='definitions'")]  # before the formula and every table
    for shown in ["0.4.1", SHA[:12], "spec-a", "pil / bf16", "4 done", "80 files · 3f2a1b",
                  "2026-01-01 00:00 UTC",
                  "real (no fake marker)", f"pretrained ({MODEL})"]:
        assert shown in header, shown
    assert "class='alarm'" not in html and "not benchmark results" not in html  # real-marked data: no warning
    assert "ribray: 0.4.1" in output and f"git commit: {SHA[:12]}" in output and "WARNING" not in output
    provenance = json.loads((folder / "report.json").read_text())["provenance"]
    assert provenance["git_shas"] == [SHA] and provenance["trials_done"] == 4 and provenance["warnings"] == []
    assert provenance["data"][0] | {"eval_set": None} == {
        "eval_set": None, "fingerprints": ["80:3f2a1b9c0d4e"], "decode": ["pil"], "precision": ["bf16"],
        "generated": False}
    assert f"- git commit: {SHA[:12]}" in (folder / "report.md").read_text()


def test_generated_data_and_random_init_models_are_said_loudly_everywhere(tmp_path):
    output, html, folder = _report(_sweep(tmp_path, **REAL | {"data_generated": True, "model_weights": "random init"}))
    alarm = html.index("class='alarm'")
    assert alarm < html.index("<table")  # on the first screen, above every number
    box = html[alarm:html.index("</div>", alarm)]
    assert "These numbers are not benchmark results." in box
    assert "The data is generated (<code>ribray data fake</code>)" in box and "imagenet_r" in box
    assert f"The model {MODEL} is random-init" in box
    assert output.startswith("!" * 78 + "\nWARNING: these numbers are not benchmark results.")
    assert output.count("WARNING: these numbers are not benchmark results.") == 2  # top and bottom of the summary
    assert "**WARNING: The data is generated" in (folder / "report.md").read_text()
    assert len(json.loads((folder / "report.json").read_text())["provenance"]["warnings"]) == 2


def test_rows_without_the_facts_say_not_recorded_and_do_not_warn(tmp_path):
    _, html, _ = _report(_sweep(tmp_path))  # rows of an older ribray: no versions, no flags
    assert "class='alarm'" not in html
    assert "<dt>ribray</dt><dd>not recorded</dd>" in html and "<dt>decode / precision</dt><dd>not recorded</dd>" in html


def test_the_formula_is_stated_once_and_every_table_links_to_it(tmp_path):
    _, html, folder = _report(_sweep(tmp_path, **REAL))
    assert html.count("<math") == 1 and "RI_i = 1/(n-1)" not in html
    assert html.count("<a href='#definitions'>RI and mRI as defined above</a>") == 2  # mRI and RI tables
    assert (folder / "report.md").read_text().count(RI_LATEX) == 1
    assert RI_LATEX in (folder / "mri.md").read_text()  # a table's own file still defines it


def test_every_contents_link_lands_and_accuracy_matrices_are_on_the_page(tmp_path):
    results = _sweep(tmp_path, **REAL)
    other = "vit_base_patch16_224.sam_in1k"
    write_pretrained(results, model=other, **REAL)
    for method in ("ft", "lp"):
        write_matrix(results, method, model=other, **REAL)
    _, html, _ = _report(results)
    links = set(re.findall(r"href='#([^']+)'", html))
    ids = set(re.findall(r"id='([^']+)'", html))
    assert links and links <= ids, links - ids
    nav = html[html.index("<nav"):html.index("</nav>")]
    for model in ["IN-1K + AugReg", "IN-1K (IN-1K + SAM)"]:  # one line per model: its RI, then its matrices
        assert (f"<a href='#{anchor(model + ': robustness improvement')}'>{model}: robustness improvement</a> · "
                f"<a href='#{anchor(model + ': accuracy matrices')}'>accuracy matrices</a>") in nav, model
    assert "<details" not in html.replace("<details><summary>Missing trials", "")  # no table behind a click
    assert html.count("Top-1 accuracy (%): IN-1K (IN-1K + SAM) / ") == 2


def test_sets_are_shown_by_their_short_names_with_the_id_in_a_tooltip(tmp_path):
    _, html, folder = _report(_sweep(tmp_path, **REAL))
    assert "<th title='imagenet_r'>R</th>" in html and "<td title='imagenet_sketch'>Sketch</td>" in html
    assert "<td>R</td><td>imagenet_r</td>" in html  # the set list of the first screen: name and id
    assert (folder / f"ri/{MODEL}.csv").read_text().startswith("method,imagenet_v2,imagenet_r,")  # CSV keeps ids


def test_heatmaps_are_sized_by_their_rows_and_columns():
    from ribray.report.figures import heatmap_size
    from ribray.report.robustness import Stat
    from ribray.report.tables import Grid

    def grid(rows: int, columns: int) -> Grid:
        names, sets = [f"method{i}" for i in range(rows)], [f"m{j}" for j in range(columns)]
        return Grid("g", "mRI: mean robustness improvement (percentage points)", "method", tuple(names), tuple(sets),
                    {(r, c): Stat.of({0: 1.0}) for r in names for c in sets}, diverging=True)

    one_model, seven_models = heatmap_size(grid(5, 1)), heatmap_size(grid(5, 7))
    assert one_model[0] < 4.5 < seven_models[0]  # one column: a narrow figure, not a slab
    assert abs(one_model[1] - seven_models[1]) < 0.5  # the same rows (a narrow figure wraps its title once more)
    assert heatmap_size(grid(10, 1))[1] > one_model[1] + 1.5
