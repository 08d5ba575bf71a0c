"""`ribray report --compare paper|FILE`: the published tables as data, each cell beside the
sweep's with its difference and tolerance, cells the sweep did not run listed as such."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from test_report import FINETUNED, MODEL, MRI_BY_HAND, PRETRAINED, RI_BY_HAND, write_matrix, write_pretrained

from ribray.data import RIB_SETS
from ribray.report.reference import PAPER, load_references, published_files

from conftest import report_cli

REPO = Path(__file__).parents[2]


def _comparison(folder: Path) -> dict[tuple, dict]:
    """comparison.csv as (table, model, method, downstream, eval_set) -> row."""
    with (folder / "comparison.csv").open() as handle:
        return {(r["table"], r["model"], r["method"], r["downstream"], r["eval_set"]): r for r in csv.DictReader(handle)}


def _reproduce_mri(folder: Path, cells) -> None:
    """Shards whose mRI is each cell's value exactly: the pretrained model has 50 % on every
    ImageNet-RIB set and each fine-tune 50 + value on every set but its own (90 %), so every
    RI_i, and so the mRI, is the value."""
    pretrained = {s: 50.0 for s in RIB_SETS}
    for cell in cells:
        matrix = {d: {s: 90.0 if s == d else 50.0 + cell.value for s in RIB_SETS} for d in RIB_SETS}
        interpolated = cell.method in ("soup", "wise_ft(0.5)")
        write_matrix(folder, cell.method.partition("(")[0], matrix, model=cell.model,
                     kind="interpolate" if interpolated else "finetune",
                     alpha=0.5 if cell.method.startswith("wise_ft") else None,
                     train_subset=None if interpolated else "all")
    write_pretrained(folder, model=cells[0].model, accuracies=pretrained)


def test_the_shipped_tables_load_with_their_source_and_version():
    reference = load_references([PAPER])
    assert reference.files == tuple(published_files()) and published_files()
    tables = {t.id: t for _, t in reference.tables}
    assert set(tables) == {"slides_mri", "poster_mri"}
    for table in tables.values():
        assert table.source and table.version and table.quantity == "mri"
    # the slides and the poster come from different results versions and disagree (DESIGN.md)
    ft = {i: next(c.value for c in t.cells if c.method == "ft") for i, t in tables.items()}
    assert ft == {"slides_mri": 1.3, "poster_mri": 2.21}


@pytest.mark.parametrize("table_id", ["slides_mri", "poster_mri"])
def test_results_built_from_a_published_table_reproduce_it_with_zero_difference(tmp_path, table_id):
    [table] = [t for _, t in load_references([PAPER]).tables if t.id == table_id]
    results = tmp_path / "rib" / "results"
    _reproduce_mri(results, table.cells)
    outcome = report_cli(results, "--compare", PAPER, "--figures", "none")
    assert outcome.exit_code == 0, outcome.output
    rows = _comparison(tmp_path / "rib" / "report")
    mine = [r for key, r in rows.items() if key[0] == table_id]
    assert len(mine) == len(table.cells) == 2
    for row in mine:
        assert row["status"] == "compared" and row["within"] == "True"
        assert abs(float(row["difference"])) < 1e-9 and float(row["ribray"]) == pytest.approx(float(row["published"]))
    other = "poster_mri" if table_id == "slides_mri" else "slides_mri"
    ft_gap = float(rows[(other, MODEL, "ft", "", "")]["difference"])
    assert ft_gap == pytest.approx(1.3 - 2.21 if other == "poster_mri" else 2.21 - 1.3)  # 0.91 apart
    assert rows[(other, MODEL, "ft", "", "")]["within"] == "False"  # more than 0.5 + 0.005
    assert f"{table_id} (" in outcome.output and "2/2 cell(s) compared, 2 within tolerance, largest " \
        "|difference| 0.00 pp" in outcome.output
    assert "Compared with 2 reference table(s): 4/4 cell(s) compared, 2 within tolerance" in outcome.output


def _colleague_file(path: Path, **table_fields) -> Path:
    """A reference of the poster's shape (pretrained, FT rows per downstream set) from a run of
    test_report's matrix, with its RI and mRI: 'another paper, a colleague's run'."""
    cells = [{"model": "IN-1K + AugReg", "method": "pretrained", "eval_set": s, "value": v}
             for s, v in PRETRAINED.items()]
    cells += [{"model": MODEL, "method": "ft", "downstream": d, "eval_set": s, "value": v}
              for d, row in FINETUNED.items() for s, v in row.items()]
    tables = [{"id": "colleague_accuracy", "source": "a colleague's run", "version": "2026-11", "quantity": "accuracy",
               "cells": cells, **table_fields},
              {"id": "colleague_ri", "source": "a colleague's run", "version": "2026-11", "quantity": "ri",
               "cells": [{"model": MODEL, "method": "ft", "downstream": d, "value": v} for d, v in RI_BY_HAND.items()]},
              {"id": "colleague_mri", "source": "a colleague's run", "version": "2026-11", "quantity": "mri",
               "cells": [{"model": MODEL, "method": "ft", "value": MRI_BY_HAND},
                         {"model": MODEL, "method": "lwf", "value": 1.0}], "decimals": 2}]
    path.write_text(yaml.safe_dump({"format": "ribray-reference/1", "tables": tables}))
    return path


def test_a_users_reference_file_of_accuracy_matrices_ri_and_mri(tmp_path):
    results = tmp_path / "rib" / "results"
    write_pretrained(results)
    write_matrix(results, "ft")
    reference = _colleague_file(tmp_path / "colleague.yaml", tolerance=0.25)
    outcome = report_cli(results, "--compare", reference, "--figures", "none", "--format", "json")
    assert outcome.exit_code == 0, outcome.output
    tables = {t["id"]: t for t in json.loads(outcome.output)["comparison"]["tables"]}
    accuracy = tables["colleague_accuracy"]["cells"]
    assert len(accuracy) == 4 + 12 and all(c["status"] == "compared" and c["within"] for c in accuracy)
    assert max(abs(c["difference"]) for c in accuracy) == 0.0  # the accuracies are the shards' own
    assert {c["tolerance_from"] for c in accuracy} == {"table"}  # the table's tolerance: 0.25
    assert all(abs(c["difference"]) < 1e-9 for c in tables["colleague_ri"]["cells"])
    ft, lwf = tables["colleague_mri"]["cells"]
    assert abs(ft["difference"]) < 1e-9 and ft["tolerance_from"] == "default" and ft["tolerance"] == pytest.approx(0.505)
    assert lwf["status"] == "not run" and lwf["ribray"] is None and lwf["difference"] is None  # listed, not filled
    assert tables["colleague_mri"]["summary"] == ("colleague_mri (2026-11): 1/2 cell(s) compared, 1 within "
                                                  "tolerance, largest |difference| 0.00 pp; 1 not run by this sweep")
    folder = tmp_path / "rib" / "report"
    markdown = (folder / "comparison.md").read_text()
    assert "| vit_base_patch16_224.augreg_in1k | lwf | 1.00 | not run |  |  |  |" in markdown
    html = (folder / "report.html").read_text()
    assert ">Comparison with reference numbers</h2>" in html and "a colleague&#x27;s run" in html


def test_ri_over_another_n_than_the_references_is_not_compared(tmp_path):
    results = tmp_path / "rib" / "results"
    write_pretrained(results)
    write_matrix(results, "ft")  # three RIB sets: n = 3
    outcome = report_cli(results, "--compare", PAPER, "--figures", "none")
    assert outcome.exit_code == 0, outcome.output
    rows = _comparison(tmp_path / "rib" / "report")
    assert rows[("slides_mri", MODEL, "ft", "", "")]["status"] == "other n"  # the paper's RI is over n = 8
    assert rows[("slides_mri", MODEL, "ft", "", "")]["ribray"] == ""
    assert rows[("slides_mri", MODEL, "soup", "", "")]["status"] == "not run"
    assert ("slides_mri (slides): 0/2 cell(s) compared; 1 not run by this sweep; 1 not compared: ribray's RI is "
            "over n = 3 sets, the reference's over n = 8") in outcome.output


def test_tolerance_is_the_seeds_std_else_the_option_else_the_tables(tmp_path):
    results = tmp_path / "rib" / "results"
    write_pretrained(results)
    write_matrix(results, "ft", seed=0)
    write_matrix(results, "ft", {d: {s: v + 1.0 for s, v in row.items()} for d, row in FINETUNED.items()}, seed=1)
    write_matrix(results, "lp", seed=0)  # lp has one seed of the two: incomplete
    reference = _colleague_file(tmp_path / "colleague.yaml", tolerance=0.25, decimals=2)
    mri = [{"model": MODEL, "method": "ft", "value": MRI_BY_HAND + 1.0}, {"model": MODEL, "method": "lp", "value": 0.1}]
    raw = yaml.safe_load(reference.read_text())
    raw["tables"][2]["cells"] = mri
    reference.write_text(yaml.safe_dump(raw))
    outcome = report_cli(results, "--compare", reference, "--figures", "none", "--tolerance", "0.1")
    assert outcome.exit_code == 0, outcome.output
    rows = _comparison(tmp_path / "rib" / "report")
    ft = rows[("colleague_mri", MODEL, "ft", "", "")]
    # seeds 0 and 1 give mRI 0.10 and 1.10: mean 0.60, std 0.7071; published 1.10 -> -0.50, within
    assert float(ft["ribray"]) == pytest.approx(0.60) and float(ft["difference"]) == pytest.approx(-0.50)
    assert ft["tolerance_from"] == "seeds' std" and float(ft["tolerance"]) == pytest.approx(2 ** -0.5 + 0.005)
    assert ft["within"] == "True"
    lp = rows[("colleague_mri", MODEL, "lp", "", "")]
    assert lp["status"] == "incomplete" and lp["ribray"] == "" and lp["within"] == ""
    pretrained = rows[("colleague_accuracy", "IN-1K + AugReg", "pretrained", "", "imagenet_v2")]
    assert pretrained["tolerance_from"] == "--tolerance" and float(pretrained["tolerance"]) == pytest.approx(0.105)
    assert "1 incomplete (some seeds missing)" in outcome.output


def test_on_the_smoke_sweep_every_published_cell_is_listed_as_not_run(tmp_path):
    from benchmarks.engine_data import synthetic_results
    from ribray.plan import make_plan
    from ribray.results import SweepLayout
    from ribray.spec import load_spec

    raw = yaml.safe_load((REPO / "sweeps" / "smoke.yaml").read_text()) | {"storage": str(tmp_path / "runs")}
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(raw))
    spec = load_spec(path)
    layout = SweepLayout.of(spec)
    synthetic_results(spec, make_plan(spec), layout.results.uri)
    layout.mark(spec.name, spec.name, spec.spec_hash())
    outcome = report_cli(path, "--compare", PAPER, "--figures", "none")
    assert outcome.exit_code == 0, outcome.output
    rows = _comparison(Path(layout.root.path) / "report")
    assert len(rows) == 4 and {r["status"] for r in rows.values()} == {"not run"}
    assert {r["ribray"] for r in rows.values()} == {""}
    assert "Compared with 2 reference table(s): 0/4 cell(s) compared, 0 within tolerance, 4 not run" in outcome.output
    assert "slides_mri (" in outcome.output and "0/2 cell(s) compared; 2 not run by this sweep" in outcome.output


@pytest.mark.parametrize("change, message", [
    (lambda raw: raw.update(format="ribray-reference/9"), "format: 'ribray-reference/9' is not 'ribray-reference/1'"),
    (lambda raw: raw["tables"][0].update(sourse="x"), "tables.0.sourse: unknown key; did you mean 'tables.0.source'?"),
    (lambda raw: raw["tables"][0].pop("version"), "tables.0.version: Field required"),
    (lambda raw: raw["tables"][1]["cells"][0].pop("downstream"), "tables.1: cells.0: a ri cell needs downstream"),
    (lambda raw: raw["tables"][2]["cells"].append(raw["tables"][2]["cells"][0]),
     "tables.2: cells.2: vit_base_patch16_224.augreg_in1k, ft is given twice"),
    (lambda raw: raw["tables"][2]["cells"][0].update(value="1.3"), "tables.2.cells.0.value: Input should be a valid number"),
    (lambda raw: raw["tables"][1].update(id="colleague_mri"), "table id 'colleague_mri' is in"),
])
def test_a_bad_reference_file_is_refused_by_key_before_anything_is_written(tmp_path, change, message):
    results = tmp_path / "rib" / "results"
    write_pretrained(results)
    write_matrix(results, "ft")
    reference = _colleague_file(tmp_path / "colleague.yaml")
    raw = yaml.safe_load(reference.read_text())
    change(raw)
    reference.write_text(yaml.safe_dump(raw))
    outcome = report_cli(results, "--compare", reference)
    assert outcome.exit_code == 1 and message in outcome.output and "Traceback" not in outcome.output
    assert not (tmp_path / "rib" / "report").exists()


def test_a_reference_that_is_no_file_is_named(tmp_path):
    outcome = report_cli(tmp_path, "--compare", tmp_path / "nowhere.yaml")
    assert outcome.exit_code == 1 and "nowhere.yaml not found (--compare takes `paper` or a ribray-reference/1" \
        in outcome.output
    outcome = report_cli(tmp_path, "--compare", tmp_path)
    assert outcome.exit_code == 1 and f"reference file {tmp_path} is not a file" in outcome.output


def test_tolerance_without_compare_is_a_usage_error(tmp_path):
    outcome = report_cli(tmp_path, "--tolerance", "0.2")
    assert outcome.exit_code == 2 and "--tolerance needs --compare" in outcome.output


def test_the_readmes_example_reference_file_is_valid(tmp_path):
    from ribray.report.reference import load_reference_file

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Comparing with published numbers"):]
    example = section[section.index("```yaml\n") + 8:section.index("```\n", section.index("```yaml\n") + 8)]
    path = tmp_path / "mine.yaml"
    path.write_text(example)
    [table] = load_reference_file(path).tables
    assert table.quantity == "accuracy" and len(table.cells) == 2 and table.n == 8


def test_a_report_resolves_its_target_once_and_compares_once(tmp_path, monkeypatch):
    import ribray.report.compare
    import ribray.report.source
    import ribray.results.layout

    calls = {"resolve_target": 0, "compare_reports": 0}

    def counted(module, name):
        function = getattr(module, name)

        def call(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return call

    resolve = counted(ribray.results.layout, "resolve_target")
    monkeypatch.setattr(ribray.results.layout, "resolve_target", resolve)
    monkeypatch.setattr(ribray.report.source, "resolve_target", resolve)
    monkeypatch.setattr(ribray.report.compare, "compare_reports", counted(ribray.report.compare, "compare_reports"))
    results = tmp_path / "rib" / "results"
    write_pretrained(results)
    write_matrix(results, "ft")
    outcome = report_cli(results, "--compare", PAPER, "--figures", "none")
    assert outcome.exit_code == 0, outcome.output
    assert calls == {"resolve_target": 1, "compare_reports": 1}
    assert "Compared with 2 reference table(s)" in outcome.output and (tmp_path / "rib" / "report" / "comparison.md").exists()
