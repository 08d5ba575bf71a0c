"""A trial kind added from outside ribray: its two files (tests/kinds/drift/, a plugin folder),
and nothing else, take it through the spec, the plan, a sweep on the embedded Ray and the report."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from ribray.engine import run_sweep
from ribray.errors import SpecError
from ribray.plan import make_plan
from ribray.report import build_reports, write_reports
from ribray.results import read_results, sweep_dir
from ribray.spec import parse_spec

from conftest import tiny_spec

DRIFT = Path(__file__).resolve().parent / "drift"
ROOT = Path(__file__).resolve().parents[2]


def _spec(tmp_path: Path, data: Path, **overrides):
    return parse_spec(tiny_spec(tmp_path, data, plugins=[str(DRIFT)], analyses={"drift": {"relative": True}},
                                **overrides))


def test_a_trial_kind_is_two_files_as_the_readme_says():
    files = sorted(p.name for p in DRIFT.iterdir() if p.name != "__pycache__")
    assert files == ["drift_kind.py", "drift_run.py"]
    names = re.compile(r"\bdrift_(kind|run)\b|\bDrift[A-Z]\w*|['\"]drift['\"]")  # its modules, classes, kind
    assert not [p for p in (ROOT / "ribray").rglob("*.py") if names.search(p.read_text())]  # ribray never names it
    counted = re.search(r"\*\*a trial kind\*\*[^:]*: (\d+) files", (ROOT / "README.md").read_text())
    assert counted and int(counted.group(1)) == len(files)


def test_the_kind_plans_from_its_options_block_after_the_grid(tmp_path, no_plugins):
    spec = _spec(tmp_path, tmp_path / "data")
    plan = make_plan(spec)
    assert [t.label for t in plan.trials] == [
        "tiny_vit/pretrained", "tiny_vit/ft@imagenet_r#0", "tiny_vit/wise_ft(0.5)@imagenet_r#0",
        "tiny_vit/ft@imagenet_sketch#0", "tiny_vit/wise_ft(0.5)@imagenet_sketch#0",
        "tiny_vit/drift(ft)@imagenet_r#0", "tiny_vit/drift(ft)@imagenet_sketch#0"]
    by_id = plan.by_id()
    drift = [t for t in plan.trials if t.kind == "drift"]
    assert [by_id[t.depends_on[0]].weights_key for t in drift] == [t.weights for t in drift]
    assert all(t.drift.relative and t.weights_key is None for t in drift)
    assert not [t for t in make_plan(parse_spec(tiny_spec(tmp_path, tmp_path / "data", plugins=[str(DRIFT)]))).trials
                if t.kind == "drift"]  # no `analyses.drift` block: no trial of the kind


def test_its_options_are_checked_like_the_papers(tmp_path, no_plugins):
    with pytest.raises(SpecError) as refused:
        parse_spec(tiny_spec(tmp_path, tmp_path / "data", plugins=[str(DRIFT)],
                             analyses={"drift": {"relativ": True}, "drfit": {}}))
    assert str(refused.value).splitlines()[1:] == [
        "  analyses.drift.relativ: unknown key; did you mean 'analyses.drift.relative'? (valid keys here: relative)",
        "  analyses.drfit: unknown key; did you mean 'analyses.drift'? (valid keys here: cka, drift, otdd)"]


def test_its_trials_run_in_a_sweep_and_its_section_is_in_the_report(ray_cluster, fake_data, tmp_path, no_plugins):
    spec = _spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={})
    summary = run_sweep(spec, max_concurrent=2)
    assert summary.complete and summary.done == 3, summary
    rows = ds.dataset(f"{sweep_dir(spec).path}/results", format="parquet").to_table().to_pylist()
    drift = [r for r in rows if r["kind"] == "drift"]
    assert [(r["label"], r["eval_set"], r["train_subset"]) for r in drift] == [
        ("tiny_vit/drift(ft)@imagenet_r#0", "imagenet_r", "all")]
    assert 0.0 < drift[0]["value"] < 1.0 and drift[0]["top1"] is None  # relative to the pretrained norm
    assert [p["plugin"] for p in drift[0]["plugins"]] == ["drift/"]
    reports = build_reports(read_results(sweep_dir(spec).child("results")), spec=spec)
    write_reports(reports, tmp_path / "report", figures="none")
    page = (tmp_path / "report" / "report.md").read_text()
    assert "## Distance from the pretrained weights" in page
    table = (tmp_path / "report" / "drift" / "tiny_vit.csv").read_text().splitlines()
    assert table[0].startswith("method,imagenet_r") and table[1].startswith("ft,")
