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


def _write_results(spec, accuracy) -> None:
    """A shard per planned trial, its top-1 on each eval set `accuracy(trial, eval_set)`, in the
    spec's sweep folder, marked as a sweep marks it when it starts."""
    layout = SweepLayout.of(spec)
    for trial in make_plan(spec).trials:
        rows = [{"trial_id": trial.trial_id, "kind": trial.kind, "model": trial.model.name,
                 "method": trial.method, "downstream": trial.downstream, "seed": trial.seed,
                 "train_subset": trial.row_fields()["train_subset"], "eval_set": s, "epoch": 10,
                 "final": True, "top1": accuracy(trial, s)} for s in trial.eval_sets]
        write_shard(layout.results, trial.trial_id, rows)
    layout.mark(spec.name, spec.name, spec.spec_hash())


def test_the_dataset_size_study_is_the_papers_and_its_report_plots_size(tmp_path):
    from ribray.report import run_report

    path = _spec_here("dataset_size.yaml", tmp_path)
    spec = load_spec(path)
    assert [m.name for m in spec.models] == ["clip_b16_laion2b_zeroshot", "clip_b16_openai_zeroshot"]
    assert spec.downstream == ["imagenet_train"]
    assert {s.label() for s in spec.train_subsets} == set(SHOTS)  # K shots, fractions and all
    _write_results(spec, _accuracy)

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


SHOT_LABELS = ["shots=1", "shots=2", "shots=4", "shots=8"]


def test_the_downstream_shots_study_plans_k_shots_of_every_rib_set_for_the_papers_vits():
    spec = load_spec(SWEEPS / "downstream_shots.yaml")
    full = [m.name for m in load_spec(SWEEPS / "full.yaml").models]
    assert [m.name for m in spec.models] == full and len(full) == 7
    assert spec.downstream == list(RIB_SETS) and set(RIB_SETS) <= set(spec.resolved_eval_sets())
    assert [s.label() for s in spec.train_subsets] == SHOT_LABELS
    trials = make_plan(spec).trials
    finetunes = [t for t in trials if t.kind == "finetune"]
    assert len(trials) == 7 + 7 * 8 * 4 * 3 == 679  # pretrained + model x set x K x seed
    assert {t.row_fields()["train_subset"] for t in finetunes} == set(SHOT_LABELS)
    one_shot_r = next(t for t in finetunes if t.downstream == "imagenet_r" and t.train_subset.label() == "shots=1")
    assert one_shot_r.train_images() == 200.0  # 1 image of each of ImageNet-R's 200 classes


def _shots_accuracy(trial, eval_set: str) -> float:
    """Pretrained: 80 % on ImageNet-1K val, 60 % on every RIB set. After K shots of set d: 70 + K
    on d, and the other RIB sets lose 20 / K points (30 / K for the CLIP model), so RI_d = -20 / K."""
    if trial.kind == "pretrained":
        return 80.0 if eval_set == IMAGENET_VAL else 60.0
    shots = trial.train_subset.shots_per_class
    if eval_set == trial.downstream:
        return 70.0 + shots
    loss = 30.0 if "clip" in trial.model.name else 20.0
    return 75.0 if eval_set == IMAGENET_VAL else 60.0 - loss / shots


def test_the_downstream_shots_report_shows_ri_per_set_against_k(tmp_path):
    from ribray.report import run_report

    raw = yaml.safe_load((SWEEPS / "downstream_shots.yaml").read_text())
    raw |= {"storage": str(tmp_path / "runs"), "seeds": [0],
            "models": ["vit_base_patch16_224.augreg_in1k", "vit_base_patch16_clip_224.laion2b_ft_in1k"]}
    path = tmp_path / "downstream_shots.yaml"
    path.write_text(yaml.safe_dump(raw))
    spec = load_spec(path)
    _write_results(spec, _shots_accuracy)

    reports, folder, files = run_report(str(path), figures="none")
    assert [r.scope.train_subset for r in reports] == SHOT_LABELS
    lines = (folder / "size" / "vit_base_patch16_224.augreg_in1k" / "ft.csv").read_text().splitlines()
    assert lines[0] == "fine-tuned on," + ",".join(SHOT_LABELS) + "," + ",".join(f"{s}_std" for s in SHOT_LABELS)
    table = {line.split(",")[0]: [float(v) for v in line.split(",")[1:5]] for line in lines[1:]}
    assert list(table) == [*RIB_SETS, "mRI"]
    for row in table.values():  # RI_d = -20 / K for every downstream set d, and so is the mean
        assert row == pytest.approx([-20.0, -10.0, -5.0, -2.5])
    clip = (folder / "size" / "vit_base_patch16_clip_224.laion2b_ft_in1k" / "ft.csv").read_text().splitlines()
    assert [float(v) for v in clip[-1].split(",")[1:5]] == pytest.approx([-30.0, -15.0, -7.5, -3.75])
    own = (folder / "size" / "vit_base_patch16_224.augreg_in1k" / "ft_downstream.csv").read_text().splitlines()
    assert [float(v) for v in own[1].split(",")[1:5]] == [71.0, 72.0, 74.0, 78.0]  # 70 + K on the set itself
    html = (folder / "report.html").read_text()
    assert "Robustness against the size of the fine-tuning set, per downstream set" in html
    assert "RI against the fine-tuning set&#x27;s size: IN-1K + AugReg / ft" in html
    assert (folder / "dataset_size.csv").is_file() and (folder / "train_subset=shots=8" / "report.html").is_file()


def test_the_curves_study_evaluates_whole_sets_after_every_epoch():
    spec = load_spec(SWEEPS / "curves.yaml")
    assert spec.curves.limit_per_set is None and spec.curves.eval_sets == "default"
