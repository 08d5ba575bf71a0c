"""`ribray report` on the command line: the files it writes, JSON output, bad input."""

from __future__ import annotations

import json

import pytest
from test_report import FINETUNED, MODEL, MRI_BY_HAND, without, write_matrix, write_pretrained

from conftest import loaded_after, report_cli


def test_importing_the_command_loads_no_heavy_library():
    assert loaded_after("import ribray.cli.report", ("torch", "ray", "matplotlib", "pandas", "pyarrow")) == []


def test_report_writes_tables_heatmaps_and_html_and_json_parses(tmp_path):
    results = tmp_path / "rib" / "results"  # the sweep folder of the shards' sweep, "rib"
    write_pretrained(results)
    write_matrix(results, "ft")
    write_matrix(results, "wise_ft", without(FINETUNED, "imagenet_r", "imagenet_sketch"),
                 kind="interpolate", alpha=0.5, train_subset=None)
    outcome = report_cli(results, "--format", "json")
    assert outcome.exit_code == 0, outcome.output
    payload = json.loads(outcome.output)
    out = tmp_path / "rib" / "report"  # default: beside the results folder
    assert payload["out"] == str(out)
    [main] = payload["reports"]
    mri = {(r["model"], r["method"]): r for r in main["mri"]}
    assert mri[(MODEL, "ft")]["mean"] == pytest.approx(MRI_BY_HAND, abs=1e-9)
    assert mri[(MODEL, "wise_ft(0.5)")]["mean"] is None and mri[(MODEL, "wise_ft(0.5)")]["complete_cells"] == 2
    assert [m["eval_sets"] for m in main["missing"]] == [["imagenet_sketch"]]
    for name in ["mri.csv", "mri.md", "mri.tex", "mri.png", "mri.pdf", "mri.svg", "imagenet_accuracy.csv",
                 "downstream_accuracy.md", f"ri/{MODEL}.csv", f"ri/{MODEL}.tex", f"accuracy/{MODEL}/ft.csv",
                 f"accuracy/{MODEL}/ft.md", f"accuracy/{MODEL}/ft.png", f"accuracy/{MODEL}/wise_ft_0.5.png",
                 f"accuracy/{MODEL}/wise_ft_0.5.pdf", "report.html", "report.md", "report.json", "missing.csv"]:
        assert (out / name).is_file(), name
    assert [p for p in out.rglob("*") if set("() ") & set(p.name)] == []  # names a shell and LaTeX take
    header, ft_row, wise_row = (out / "mri.csv").read_text().splitlines()
    assert header == f"method,{MODEL},{MODEL}_std" and wise_row == "wise_ft(0.5),,"  # blank: missing
    assert float(ft_row.split(",")[1]) == pytest.approx(MRI_BY_HAND, abs=1e-9) and ft_row.endswith(",")
    assert "| wise_ft(0.5) | — (2/3 RI) |" in (out / "mri.md").read_text()
    html = (out / "report.html").read_text()
    assert "Missing: 1 trial(s)" in html and f"accuracy/{MODEL}/ft.png" in html
    assert "<math display='block'>" in html and "<dt>A<sub>i</sub><sup>(j)</sup></dt>" in html
    assert (out / "mri.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "mri.pdf").read_bytes()[:5] == b"%PDF-" and b"<svg" in (out / "mri.svg").read_bytes()
    tex = (out / "mri.tex").read_text()
    assert "\\toprule" in tex and f"ft & ${MRI_BY_HAND:.2f}$ \\\\" in tex and "wise\\_ft(0.5) & -- (2/3 RI)" in tex


def test_text_summary_shows_the_mri_table_and_missing_trials(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    write_matrix(tmp_path, "lp", {d: FINETUNED[d] for d in ("imagenet_v2", "imagenet_r")})
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 0, outcome.output
    assert "| ft | 0.10 |" in outcome.output and "| lp | — (2/3 RI) |" in outcome.output
    assert f"{MODEL}/lp@imagenet_sketch#0: no results" in outcome.output
    assert f"Report written to {tmp_path / 'out' / 'report.html'}" in outcome.output


def test_missing_and_empty_results_folders_are_errors(tmp_path):
    from ribray.results import SweepLayout
    from ribray.storage import Location

    outcome = report_cli(tmp_path / "nowhere")
    assert outcome.exit_code == 1 and "nowhere: not found (expected a spec file, a sweep folder" in outcome.output
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 1 and f"{tmp_path} is not a sweep folder" in outcome.output
    sweep = tmp_path / "rib"
    SweepLayout(Location(str(sweep))).mark("rib", "rib", "spec-a")
    outcome = report_cli(sweep)
    assert outcome.exit_code == 1 and "results folder not found" in outcome.output
    (sweep / "results").mkdir()
    outcome = report_cli(sweep)
    assert outcome.exit_code == 1 and "no results in" in outcome.output and "no .parquet shards" in outcome.output
    assert not (tmp_path / "out").exists() and not (sweep / "report").exists()


def test_a_folder_of_shards_outside_a_sweep_is_reported_only_where_told(tmp_path):
    loose = tmp_path / "gathered"
    write_pretrained(loose)
    write_matrix(loose, "ft")
    refused = report_cli(loose)
    assert refused.exit_code == 1 and f"{loose} is not a sweep folder" in refused.output
    assert "To report a folder of shards outside a sweep, pass --out DIR" in refused.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gathered"]  # no report/ beside it
    assert report_cli(loose, "--out", tmp_path / "out").exit_code == 0 and (tmp_path / "out" / "report.html").is_file()


def test_mixed_specs_are_refused_with_a_hint_unless_allowed(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", spec_hash="spec-b")
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 1
    assert "2 different specs" in outcome.output and "--allow-mixed" in outcome.output
    assert not (tmp_path / "out").exists()


def test_mixed_decoders_or_precisions_are_refused_naming_both_unless_allowed(tmp_path):
    write_pretrained(tmp_path, decode="pil", eval_precision="bf16")
    write_matrix(tmp_path, "ft", decode="nvjpeg", eval_precision="bf16")
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 1 and "Traceback" not in outcome.output
    assert "imagenet_r was evaluated with decode nvjpeg, precision bf16 (3 trial(s)" in outcome.output
    assert "and with decode pil, precision bf16 (1 trial(s), e.g. pre-" in outcome.output
    assert "--allow-mixed" in outcome.output and not (tmp_path / "out").exists()
    allowed = report_cli(tmp_path, "--out", tmp_path / "out", "--allow-mixed")
    assert allowed.exit_code == 0 and "Note: mixed evaluations: imagenet_r was evaluated with" in allowed.output


def test_accuracies_on_different_images_are_refused_naming_both_unless_allowed(tmp_path):
    write_pretrained(tmp_path, data_fingerprint="80:3f2a00000000")  # before an image was deleted
    write_matrix(tmp_path, "ft", data_fingerprint="79:1bead62c331c")
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 1 and "Traceback" not in outcome.output
    assert "imagenet_r was evaluated on 79:1bead62c331c (3 trial(s)" in outcome.output
    assert "and on 80:3f2a00000000 (1 trial(s), e.g. pre-" in outcome.output
    assert "--rerun-changed-data" in outcome.output and not (tmp_path / "out").exists()
    allowed = report_cli(tmp_path, "--out", tmp_path / "out", "--allow-mixed")
    assert allowed.exit_code == 0 and "Note: different images: imagenet_r was evaluated on" in allowed.output


def test_one_decoder_and_precision_everywhere_reports(tmp_path):
    write_pretrained(tmp_path, decode="pil", eval_precision="fp32")
    write_matrix(tmp_path, "ft", decode="pil", eval_precision="fp32")
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 0, outcome.output
    assert "mixed evaluations" not in outcome.output


def test_tables_show_the_papers_model_names_and_keep_timm_names_in_csv(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    assert report_cli(tmp_path, "--out", tmp_path / "out").exit_code == 0
    out = tmp_path / "out"
    assert (out / "mri.md").read_text().splitlines()[2] == "| method | IN-1K + AugReg |"
    assert (out / "mri.csv").read_text().splitlines()[0] == f"method,{MODEL},{MODEL}_std"
    html = (out / "report.html").read_text()
    assert f"<th title='{MODEL}'>IN-1K + AugReg</th>" in html
    assert "RI per downstream set: IN-1K + AugReg" in html


def test_mixed_fidelity_modes_are_refused_naming_both_unless_allowed(tmp_path):
    write_pretrained(tmp_path, fidelity="reference")
    write_matrix(tmp_path, "ft")  # no fidelity recorded: ribray's, as every older shard
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 1 and "Traceback" not in outcome.output
    assert "the results mix fidelity reference (" in outcome.output and "and fidelity ribray (" in outcome.output
    assert "--allow-mixed" in outcome.output and not (tmp_path / "out").exists()
    allowed = report_cli(tmp_path, "--out", tmp_path / "out", "--allow-mixed")
    assert allowed.exit_code == 0 and "Note: mixed fidelity modes: fidelity reference" in allowed.output


@pytest.mark.parametrize("fidelity, differ", [("ribray", "2 of 2 differ"), ("reference", "0 of 2 differ")])
def test_the_report_prints_the_deviations_of_its_mode(tmp_path, fidelity, differ):
    write_pretrained(tmp_path, fidelity=fidelity)
    write_matrix(tmp_path, "ft", fidelity=fidelity)  # fine-tunes of a ViT on V2, A and R: no ObjectNet, no OTDD
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 0, outcome.output
    assert f"Deviations from the reference code (fidelity: {fidelity}; {differ}" in outcome.output
    assert "- Evaluation precision: " in outcome.output and "- Training precision: " in outcome.output
    assert ("- Not in these results: ObjectNet scoring (no ObjectNet evaluations); ResNet-50 preprocessing "
            "(no ResNet-50 of the paper); OTDD estimator (no OTDD analyses); ObjectNet as the fine-tuning set "
            "(no fine-tunes on ObjectNet); OTDD class statistics (no OTDD analyses)") in outcome.output
    assert "- ObjectNet scoring:" not in outcome.output
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>Deviations from the reference code</h2>" in html and f"fidelity: {fidelity}" in html
    assert "<p>Not in these results: ObjectNet scoring (no ObjectNet evaluations);" in html
    here = "differs" if fidelity == "ribray" else "as the reference"
    assert f"<td>Evaluation precision</td><td>{here}</td><td class='text'>" in html  # only the text columns wrap
    assert ("(<code>python -m benchmarks.fidelity</code>;" in html) == (fidelity == "ribray")  # the measured effect
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["fidelity"] == fidelity
    assert [d["topic"] for d in report["deviations"]] == ["Evaluation precision", "Training precision"]


def test_the_deviations_box_lists_objectnet_and_resnet50_where_the_results_hold_them(tmp_path):
    resnet = "resnet50.tv2_in1k"
    matrix = {"objectnet": {"imagenet_val": 70.0, "imagenet_v2": 60.0, "objectnet": 50.0}}
    write_pretrained(tmp_path, model=resnet, accuracies={"imagenet_val": 80.0, "imagenet_v2": 70.0, "objectnet": 40.0},
                     model_name=resnet)
    write_matrix(tmp_path, "ft", matrix=matrix, model=resnet, model_name=resnet)
    outcome = report_cli(tmp_path, "--out", tmp_path / "out")
    assert outcome.exit_code == 0, outcome.output
    assert "(fidelity: ribray; 5 of 5 differ" in outcome.output
    for topic in ("ObjectNet scoring", "Evaluation precision", "Training precision", "ResNet-50 preprocessing",
                  "ObjectNet as the fine-tuning set"):
        assert f"- {topic}: here " in outcome.output
    assert ("- Not in these results: OTDD estimator (no OTDD analyses); OTDD class statistics (no OTDD analyses)"
            in outcome.output)
