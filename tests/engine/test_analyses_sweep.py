"""The paper's analyses run through the same plan / searcher / results path as fine-tuning:
learning-curve rows per epoch, dataset-size subsets, CKA per layer, OTDD per pair of sets."""

from __future__ import annotations

import math

import pytest

from ribray.engine import run_sweep
from ribray.results import sweep_dir
from ribray.spec import load_spec

from conftest import sweep_rows, tiny_spec, write_spec


@pytest.fixture(scope="module")
def swept(ray_cluster, fake_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("analyses")
    path = write_spec(folder / "spec.yaml", tiny_spec(
        folder, fake_data, interpolations={},
        train={"epochs": 2, "batch_size": 8, "lr": 0.01, "warmup_steps": 1, "workers": 0},
        curves={"eval_sets": ["imagenet_val"], "limit_per_set": 8},
        train_subsets=["all", {"shots_per_class": 2}],
        analyses={"cka": {"probe_images": 16, "batch_size": 8, "layers": ["blocks"]}, "otdd": {"max_images": 24}}))
    spec = load_spec(path)
    summary = run_sweep(spec, max_concurrent=2)
    assert summary.complete, summary
    return path, spec


@pytest.fixture(scope="module")
def rows(swept):
    _, spec = swept
    return sweep_rows(spec)


def test_learning_curve_rows_carry_every_epoch(rows):
    curve = [r for r in rows if r["kind"] == "finetune" and not r["final"]
             and r["downstream"] == "imagenet_r" and r["train_subset"] == "all"]
    assert {(r["epoch"], r["eval_set"]) for r in curve} == {
        (e, s) for e in (0, 1, 2) for s in ("imagenet_r", "imagenet_val")}
    assert all(r["n_images"] == 8 for r in curve)  # the fixed subset, not the whole set


def test_subset_fine_tunes_are_labelled_and_smaller(rows):
    finetunes = [r for r in rows if r["kind"] == "finetune" and r["final"]]
    assert {r["train_subset"] for r in finetunes} == {"all", "shots=2"}
    assert len({r["trial_id"] for r in finetunes}) == 4  # 2 downstream sets x 2 subsets


def test_cka_rows_per_layer_and_otdd_rows_per_pair(rows):
    cka = [r for r in rows if r["kind"] == "cka"]
    assert {r["layer"] for r in cka} == {"blocks.0", "blocks.1"}
    assert len(cka) == 2 * 4  # two layers for each of the four fine-tunes
    assert all(r["top1"] is None and 0.0 <= r["value"] <= 1.0 + 1e-6 for r in cka)
    otdd = [r for r in rows if r["kind"] == "otdd"]
    assert [(r["downstream"], r["eval_set"]) for r in otdd] == [
        ("imagenet_r", "imagenet_sketch"), ("imagenet_r", "imagenet_val"), ("imagenet_sketch", "imagenet_val")]
    assert all(math.isfinite(r["value"]) and r["value"] > 0 for r in otdd)


def test_report_draws_the_curves_and_matrices(swept, tmp_path):
    from ribray.report import run_report

    path, _ = swept
    _, folder, _ = run_report(str(path), out=str(tmp_path / "report"))
    for figure in ("curves/tiny_vit/ft.png", "cka/tiny_vit/ft.png", "otdd/tiny_vit.png", "dataset_size.png"):
        assert (tmp_path / "report" / figure).stat().st_size > 1000, figure
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Learning curves" in page and "CKA between" in page and "OTDD" in page
    sizes = (tmp_path / "report" / "dataset_size.csv").read_text().splitlines()
    assert sizes[0] == "model,method,train_subset,images_per_class,ood_accuracy,mri,imagenet_val"
    assert [line.split(",")[2] for line in sizes[1:]] == ["shots=2", "all"]


def test_mlflow_sync_finishes_the_runs_of_analysis_trials_too(swept, rows, tmp_path):
    """CKA and OTDD rows carry `value`, not top1: back-filling them must still finish their runs."""
    from mlflow.tracking import MlflowClient

    from ribray.results.sync import sync_results

    _, spec = swept
    uri = f"sqlite:///{tmp_path / 'synced.db'}"
    trials = {r["trial_id"] for r in rows}
    report = sync_results(sweep_dir(spec).child("results"), uri, "synced", spec.name,
                          artifact_root=str(tmp_path / "artifacts"))
    assert (report.created, report.completed, report.unchanged) == (len(trials), 0, 0)
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("synced").experiment_id])
    children = [r for r in runs if r.data.tags.get("ribray.role") == "trial"]
    assert len(children) == len(trials) and {r.info.status for r in children} == {"FINISHED"}
    by_name = {r.info.run_name: r for r in children}
    assert "tiny_vit/cka(ft)@imagenet_r#0" in by_name and "tiny_vit/otdd" in by_name
    assert "top1 R" in by_name["tiny_vit/ft@imagenet_r#0"].data.metrics
    again = sync_results(sweep_dir(spec).child("results"), uri, "synced", spec.name,
                         artifact_root=str(tmp_path / "artifacts"))
    assert (again.created, again.completed, again.unchanged) == (0, 0, len(trials))
