"""`ribray report --figures`: which figures a report draws; the tables are the same whatever it says."""

from __future__ import annotations

from pathlib import Path

from test_report import FINETUNED, MODEL, write_matrix, write_pretrained

from conftest import report_cli


def _files(folder: Path, *suffixes: str) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.suffix in suffixes}


def test_figures_choose_the_figures_and_never_the_tables(tmp_path):
    write_pretrained(tmp_path / "results")
    write_matrix(tmp_path / "results", "ft")
    write_matrix(tmp_path / "results", "lp", FINETUNED)
    written = {}
    for figures in ("none", "summary", "all"):
        out = tmp_path / figures
        assert report_cli(tmp_path / "results", "--out", out, "--figures", figures).exit_code == 0
        written[figures] = out
    tables = _files(written["all"], ".csv", ".md", ".tex")
    assert tables == _files(written["none"], ".csv", ".md", ".tex") == _files(written["summary"], ".csv", ".md", ".tex")
    assert f"accuracy/{MODEL}/lp.csv" in tables
    for name in tables:
        assert (written["none"] / name).read_text() == (written["all"] / name).read_text(), name
    assert _files(written["none"], ".png", ".pdf", ".svg") == set()
    summary = {"mri", "absolute_robustness", "downstream_accuracy", "imagenet_accuracy", f"ri/{MODEL}"}
    assert _files(written["summary"], ".png") == {f"{stem}.png" for stem in summary}
    assert _files(written["summary"], ".svg") == {f"{stem}.svg" for stem in summary}
    per_method = {f"{what}/{MODEL}/{method}.png" for what in ("accuracy", "curves") for method in ("ft", "lp")}
    assert _files(written["all"], ".png") == {f"{stem}.png" for stem in summary} | per_method
    html = (written["summary"] / "report.html").read_text()
    assert f"accuracy/{MODEL}/ft.png" not in html and "mri.png" in html and f"accuracy/{MODEL}/ft.csv" in html
    assert "4 figure(s) are not drawn" in html and "--figures all" in html
    assert f"<img src='accuracy/{MODEL}/ft.png'" in (written["all"] / "report.html").read_text()


def test_auto_draws_per_method_figures_only_while_they_are_few(tmp_path, monkeypatch):
    from ribray.report import figures
    from ribray.report.build import build_report
    from ribray.report.sections import report_sections
    from ribray.results import read_results

    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    write_matrix(tmp_path, "lp", FINETUNED)
    sections = report_sections(build_report(read_results(str(tmp_path))))
    assert figures.drawn_sections(sections, "auto") == figures.drawn_sections(sections, "all") == sections
    monkeypatch.setattr(figures, "DETAIL_LIMIT", 3)  # two accuracy matrices and two learning curves are more
    assert figures.drawn_sections(sections, "auto") == figures.drawn_sections(sections, "summary")
    assert [s.title for s in figures.drawn_sections(sections, "summary")] == [
        "Across pretrained models", "IN-1K + AugReg: robustness improvement"]  # the paper's name of MODEL
    assert figures.drawn_sections(sections, "none") == []
