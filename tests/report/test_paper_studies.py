"""The paper's studies as their specs define them (sweeps/*.yaml), reported from results
written by hand: `ribray report sweeps/dataset_size.yaml` works and shows what the paper plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ribray.data import IMAGENET_VAL, RIB_SETS
from ribray.plan import make_plan
from ribray.results import SweepLayout, write_shard
from ribray.spec import load_spec
from ribray.storage import Location

SWEEPS = Path(__file__).parents[2] / "sweeps"
SHOTS = {"shots=1": 1, "shots=2": 2, "shots=4": 4, "shots=8": 8, "shots=16": 16, "shots=32": 32,
         "fraction=0.1": 128.1167, "fraction=0.5": 640.5835, "all": 1281.167}  # ImageNet-1K train


def _spec_here(name: str, tmp_path: Path) -> Path:
    raw = yaml.safe_load((SWEEPS / name).read_text()) | {"storage": str(tmp_path / "runs")}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return path


def _accuracy(trial, eval_set: str) -> float:
    """Zero-shot: 60 % on ImageNet-1K val and 40 % on every RIB set; after fine-tuning on K
    images per class: 70 % on val, and the RIB sets lose 20 points, less as K grows."""
    if trial.kind == "pretrained":
        return 60.0 if eval_set == IMAGENET_VAL else 40.0
    shots = SHOTS[trial.train_subset.label()]
    return 70.0 if eval_set == IMAGENET_VAL else 20.0 + shots / 100.0


def test_the_dataset_size_study_is_the_papers_and_its_report_plots_size(tmp_path):
    from ribray.report import run_report

    path = _spec_here("dataset_size.yaml", tmp_path)
    spec = load_spec(path)
    assert [m.name for m in spec.models] == ["clip_b16_laion2b_zeroshot", "clip_b16_openai_zeroshot"]
    assert spec.downstream == ["imagenet_train"]
    assert {s.label() for s in spec.train_subsets} == set(SHOTS)  # K shots, fractions and all
    results = Location(str(tmp_path / "runs" / spec.name / "results"))
    for trial in make_plan(spec).trials:
        rows = [{"trial_id": trial.trial_id, "kind": trial.kind, "model": trial.model.name,
                 "method": trial.method, "downstream": trial.downstream, "seed": trial.seed,
                 "train_subset": trial.row_fields()["train_subset"], "eval_set": s, "epoch": 10,
                 "final": True, "top1": _accuracy(trial, s)} for s in trial.eval_sets]
        write_shard(results, trial.trial_id, rows)
    SweepLayout.of(spec).mark(spec.name, spec.name, spec.spec_hash())  # what a sweep writes as it starts

    reports, folder, _ = run_report(str(path))
    one_shot = next(r for r in reports if r.scope.train_subset == "shots=1")
    # fine-tuned on ImageNet-1K train (not an RIB set): RI over all eight, 20.01 - 40 each
    assert one_shot.scope.n == 8
    assert one_shot.ri[("clip_b16_laion2b_zeroshot", "ft", "imagenet_train")].mean == pytest.approx(-19.99)
    assert one_shot.absolute[("clip_b16_laion2b_zeroshot", "ft")].mean == pytest.approx(20.01)
    lines = (folder / "dataset_size.csv").read_text().splitlines()
    assert lines[0] == "model,method,train_subset,images_per_class,ood_accuracy,mri,imagenet_val"
    laion = [line.split(",") for line in lines[1:] if line.startswith("clip_b16_laion2b_zeroshot,")]
    assert [row[2] for row in laion] == list(SHOTS)
    assert [float(row[3]) for row in laion] == pytest.approx(list(SHOTS.values()))
    assert [float(row[4]) for row in laion] == pytest.approx([20 + k / 100 for k in SHOTS.values()])
    assert (folder / "dataset_size.png").stat().st_size > 10_000
    main = json.loads((folder / "report.json").read_text())
    assert main["rib_sets"] == list(RIB_SETS) and main["n"] == 8


@pytest.mark.parametrize("name, models", [("texture.yaml", 7), ("curves.yaml", 3)])
def test_the_texture_and_curve_studies_cover_the_papers_models(name, models):
    spec = load_spec(SWEEPS / name)
    assert len(spec.models) == models
    if name == "texture.yaml":
        assert spec.downstream == [IMAGENET_VAL] and set(RIB_SETS) <= set(spec.resolved_eval_sets())
