"""`ribray report` of a paper-grid sweep (sweeps/full.yaml, two models, two seeds, some trials
missing), from shards as a sweep writes them (benchmarks.engine_data): its tables are the
files ribray wrote before the report computed on columns (tests/report/golden/, written by
ribray at 6840ec8 from these shards)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import report_cli

GOLDEN = Path(__file__).parent / "golden"
FULL = Path(__file__).parents[2] / "sweeps" / "full.yaml"
TABLES = ["mri.csv", "absolute_robustness.csv", "downstream_accuracy.csv", "imagenet_accuracy.csv", "missing.csv",
          "ri/vit_base_patch16_224.augreg_in1k.csv", "ri/vit_base_patch16_224.sam_in1k.csv",
          "accuracy/vit_base_patch16_224.augreg_in1k/ft.csv", "accuracy/vit_base_patch16_224.sam_in1k/soup.csv",
          "accuracy/vit_base_patch16_224.sam_in1k/wise_ft_0.5.csv", "mri.md"]


def paper_grid_sweep(folder: Path) -> Path:
    """The spec file of full.yaml's grid on two models with seeds 0 and 1, its results written
    for every trial but every 29th (missing cells, incomplete RI)."""
    from benchmarks.engine_data import synthetic_results
    from ribray.plan import make_plan
    from ribray.results import SweepLayout
    from ribray.spec import load_spec

    raw = yaml.safe_load(FULL.read_text())
    raw |= {"storage": str(folder / "runs"), "models": raw["models"][:2], "seeds": [0, 1]}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(raw))
    spec = load_spec(path)
    layout = SweepLayout.of(spec)
    synthetic_results(spec, make_plan(spec), layout.results, seed=7)
    for name in layout.results.list_files(".parquet")[::29]:
        layout.results.child(name).delete()
    layout.mark(spec.name, spec.name, spec.spec_hash())
    return path


@pytest.mark.parametrize("how", ["spec", "inferred"])
def test_tables_of_a_paper_grid_sweep_are_the_files_ribray_wrote_before(how, tmp_path):
    spec = paper_grid_sweep(tmp_path)
    target = spec if how == "spec" else tmp_path / "runs" / "rib-full" / "results"
    outcome = report_cli(target, "--out", tmp_path / "out", "--figures", "none")
    assert outcome.exit_code == 0, outcome.output
    for name in TABLES:
        assert (tmp_path / "out" / name).read_text() == (GOLDEN / how / name).read_text(), name
    assert "| ft | " in outcome.output and "Missing: " in outcome.output
