"""`ribray report` as a library: RI, mRI and the accuracy tables checked against hand computation
from shards written from known accuracy matrices; partial sweeps, seeds, mixed specs."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ribray.results import write_shard
from ribray.storage import Location

MODEL = "vit_base_patch16_224.augreg_in1k"
DOWNSTREAM = ["imagenet_v2", "imagenet_r", "imagenet_sketch"]

# The pretrained model's accuracy per eval set, and a fine-tune's accuracy matrix:
# fine-tuned on (row) -> eval set (column) -> top-1 %.
PRETRAINED = {"imagenet_val": 81.20, "imagenet_v2": 70.50, "imagenet_r": 40.10, "imagenet_sketch": 30.70}
FINETUNED = {
    "imagenet_v2": {"imagenet_val": 79.50, "imagenet_v2": 75.30, "imagenet_r": 38.40, "imagenet_sketch": 29.30},
    "imagenet_r": {"imagenet_val": 70.00, "imagenet_v2": 65.10, "imagenet_r": 85.00, "imagenet_sketch": 36.50},
    "imagenet_sketch": {"imagenet_val": 60.20, "imagenet_v2": 66.60, "imagenet_r": 47.30, "imagenet_sketch": 90.00},
}


def rows_for(trial_id: str, accuracies: dict[str, float], spec_hash: str = "spec-a",
             finished: int = 0, **fields) -> list[dict]:
    """One final row per eval set, plus a learning-curve point that a report must ignore."""
    base = {"trial_id": trial_id, "sweep": "rib", "spec_hash": spec_hash, "epoch": 10,
            "finished_at": datetime(2026, 1, 1, 0, finished, tzinfo=timezone.utc)} | fields
    rows = [base | {"eval_set": s, "top1": top1, "final": True} for s, top1 in accuracies.items()]
    if fields.get("kind") == "finetune":
        rows += [base | {"eval_set": s, "top1": 0.0, "final": False, "epoch": 1} for s in accuracies]
    return rows


def write_pretrained(folder: Path, model: str = MODEL, accuracies: dict | None = None, **fields) -> None:
    trial_id = f"pre-{model}"
    rows = rows_for(trial_id, PRETRAINED if accuracies is None else accuracies, kind="pretrained",
                    model=model, method="pretrained", **fields)
    write_shard(Location(str(folder)), trial_id, rows)


def write_matrix(folder: Path, method: str = "ft", matrix: dict | None = None, seed: int = 0,
                 model: str = MODEL, kind: str = "finetune", alpha: float | None = None,
                 train_subset: str | None = "all", tag: str = "", **fields) -> None:
    """One shard per row of the matrix (a trial per downstream set)."""
    for downstream, accuracies in (FINETUNED if matrix is None else matrix).items():
        trial_id = f"{model}-{method}-{alpha}-{downstream}-{seed}-{train_subset}{tag}"
        rows = rows_for(trial_id, accuracies, kind=kind, model=model, method=method, alpha=alpha,
                        downstream=downstream, seed=seed, train_subset=train_subset, **fields)
        write_shard(Location(str(folder)), trial_id, rows)


def without(matrix: dict, downstream: str, eval_set: str) -> dict:
    """The matrix with one evaluation left out (a missing cell)."""
    copy = {d: dict(row) for d, row in matrix.items()}
    del copy[downstream][eval_set]
    return copy


def report_of(folder: Path, **options):
    from ribray.report import build_report
    from ribray.results import read_results

    return build_report(read_results(str(folder)), **options)


# Hand computation, n = 3 downstream sets, so each RI_i averages n - 1 = 2 differences:
# RI_v2     = ((38.40 - 40.10) + (29.30 - 30.70)) / 2 = (-1.70 - 1.40) / 2 = -1.55
# RI_r      = ((65.10 - 70.50) + (36.50 - 30.70)) / 2 = (-5.40 + 5.80) / 2 =  0.20
# RI_sketch = ((66.60 - 70.50) + (47.30 - 40.10)) / 2 = (-3.90 + 7.20) / 2 =  1.65
# mRI = (-1.55 + 0.20 + 1.65) / 3 = 0.10
RI_BY_HAND = {"imagenet_v2": -1.55, "imagenet_r": 0.20, "imagenet_sketch": 1.65}
MRI_BY_HAND = 0.10


def test_ri_and_mri_match_hand_computation(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    report = report_of(tmp_path)
    assert report.scope.downstream == tuple(DOWNSTREAM) and report.scope.n == 3
    for downstream, expected in RI_BY_HAND.items():
        assert report.ri[(MODEL, "ft", downstream)].mean == pytest.approx(expected, abs=1e-9)
    assert report.mri[(MODEL, "ft")].mean == pytest.approx(MRI_BY_HAND, abs=1e-9)
    # Accuracy on the set fine-tuned on, and ImageNet-1K val (forgetting), averaged over the 3 sets.
    assert report.downstream_accuracy[(MODEL, "ft")].mean == pytest.approx((75.30 + 85.00 + 90.00) / 3, abs=1e-9)
    assert report.imagenet_accuracy[(MODEL, "ft")].mean == pytest.approx((79.50 + 70.00 + 60.20) / 3, abs=1e-9)
    assert report.imagenet_accuracy[(MODEL, "pretrained")].mean == pytest.approx(81.20, abs=1e-9)
    assert report.accuracy[(MODEL, "ft", "imagenet_r")]["imagenet_sketch"].mean == 36.50
    assert report.missing == [] and math.isnan(report.mri[(MODEL, "ft")].std)  # one seed: no std


def test_a_missing_cell_makes_its_ri_and_the_mri_missing_and_is_listed(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    write_matrix(tmp_path, "lp", without(FINETUNED, "imagenet_r", "imagenet_sketch"))
    report = report_of(tmp_path)
    assert report.ri[(MODEL, "lp", "imagenet_v2")].mean == pytest.approx(-1.55, abs=1e-9)
    assert report.ri[(MODEL, "lp", "imagenet_sketch")].mean == pytest.approx(1.65, abs=1e-9)
    assert math.isnan(report.ri[(MODEL, "lp", "imagenet_r")].mean)  # not averaged over 1 term
    assert math.isnan(report.mri[(MODEL, "lp")].mean)  # not averaged over 2 sets
    assert report.complete_ri_cells(MODEL, "lp") == 2
    assert report.mri[(MODEL, "ft")].mean == pytest.approx(MRI_BY_HAND, abs=1e-9)
    [missing] = report.missing
    assert (missing.trial.method, missing.trial.downstream, missing.trial.seed) == ("lp", "imagenet_r", 0)
    assert missing.eval_sets == ("imagenet_sketch",)
    assert "lp@imagenet_r#0: no evaluation on imagenet_sketch" in missing.describe()


def test_a_trial_missing_entirely_is_listed(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    write_matrix(tmp_path, "lp", {d: FINETUNED[d] for d in ("imagenet_v2", "imagenet_r")})
    report = report_of(tmp_path)
    assert [m.describe() for m in report.missing] == [f"{MODEL}/lp@imagenet_sketch#0: no results"]
    assert math.isnan(report.mri[(MODEL, "lp")].mean) and report.complete_ri_cells(MODEL, "lp") == 2


def test_ri_is_over_the_rib_sets_evaluated_whatever_was_fine_tuned_on(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", {d: FINETUNED[d] for d in ("imagenet_v2", "imagenet_r")})
    report = report_of(tmp_path)
    # nothing was fine-tuned on imagenet_sketch, but it is an ImageNet-RIB set the sweep evaluates
    assert report.scope.rib_sets == ("imagenet_v2", "imagenet_r", "imagenet_sketch") and report.scope.n == 3
    assert any("nothing was fine-tuned on imagenet_sketch" in n for n in report.notes)
    assert report.ri[(MODEL, "ft", "imagenet_v2")].mean == pytest.approx(RI_BY_HAND["imagenet_v2"], abs=1e-9)
    assert report.mri[(MODEL, "ft")].mean == pytest.approx((-1.55 + 0.20) / 2, abs=1e-9)


def test_absolute_robustness_is_the_mean_ood_accuracy_after_fine_tuning(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    report = report_of(tmp_path)
    # after fine-tuning on v2: (38.40 + 29.30) / 2 = 33.85; on r: (65.10 + 36.50) / 2 = 50.80;
    # on sketch: (66.60 + 47.30) / 2 = 56.95; mean 47.20. Pretrained, the same sets:
    # (40.10 + 30.70) / 2 = 35.40, (70.50 + 30.70) / 2 = 50.60, (70.50 + 40.10) / 2 = 55.30; mean 47.10
    assert report.absolute[(MODEL, "ft")].mean == pytest.approx(47.20, abs=1e-9)
    assert report.absolute[(MODEL, "pretrained")].mean == pytest.approx(47.10, abs=1e-9)
    assert report.absolute[(MODEL, "ft")].mean == pytest.approx(
        report.mri[(MODEL, "ft")].mean + report.absolute[(MODEL, "pretrained")].mean, abs=1e-9)


RIB = ["imagenet_v2", "imagenet_a", "imagenet_r", "imagenet_sketch", "objectnet", "imagenet_cartoon",
       "imagenet_drawing", "imagenet_c"]


def test_fine_tuning_on_imagenet_val_or_train_gets_ri_over_all_eight_rib_sets(tmp_path):
    """The example of issue 14: -10 on ImageNet-1K val and +10 on every other set is RI +10 (it
    was 0.00 when RI counted IN-val as an OOD set and ignored the RIB sets not fine-tuned on)."""
    pretrained = {"imagenet_val": 80.0} | {s: 40.0 + i for i, s in enumerate(RIB)}
    tuned = {"imagenet_val": 70.0} | {s: 50.0 + i for i, s in enumerate(RIB)}
    write_pretrained(tmp_path, accuracies=pretrained)
    write_matrix(tmp_path, "ft", {"imagenet_val": tuned, "imagenet_r": dict(pretrained, imagenet_val=75.0)})
    write_matrix(tmp_path, "ft", {"imagenet_train": tuned}, tag="-train")  # not evaluated on itself
    report = report_of(tmp_path)
    assert report.scope.n == 8
    assert report.ri[(MODEL, "ft", "imagenet_val")].mean == pytest.approx(10.0, abs=1e-9)
    assert report.ri[(MODEL, "ft", "imagenet_train")].mean == pytest.approx(10.0, abs=1e-9)
    assert report.ri[(MODEL, "ft", "imagenet_r")].mean == pytest.approx(0.0, abs=1e-9)  # 7 sets, no change
    assert report.mri[(MODEL, "ft")].mean == pytest.approx(20.0 / 3, abs=1e-9)
    assert math.isnan(report.downstream_accuracy[(MODEL, "ft")].mean)  # imagenet_train is not evaluated


def test_several_seeds_give_mean_and_sample_std(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", seed=0)
    second = {d: dict(row) for d, row in FINETUNED.items()}
    second["imagenet_r"]["imagenet_sketch"] = 38.50  # RI_r(seed 1) = ((65.10-70.50) + (38.50-30.70)) / 2 = 1.20
    write_matrix(tmp_path, "ft", second, seed=1)
    report = report_of(tmp_path)
    ri_r = report.ri[(MODEL, "ft", "imagenet_r")]
    assert dict(ri_r.per_seed) == pytest.approx({0: 0.20, 1: 1.20}, abs=1e-9)
    assert ri_r.mean == pytest.approx(0.70, abs=1e-9)
    assert ri_r.std == pytest.approx(1.0 / math.sqrt(2), abs=1e-9)  # ddof=1: |a - b| / sqrt(2)
    mri = report.mri[(MODEL, "ft")]  # per seed: 0.10 and (-1.55 + 1.20 + 1.65) / 3
    assert mri.mean == pytest.approx((0.10 + 1.30 / 3) / 2, abs=1e-9)
    assert mri.std == pytest.approx(abs(0.10 - 1.30 / 3) / math.sqrt(2), abs=1e-9)
    assert report.accuracy[(MODEL, "ft", "imagenet_r")]["imagenet_sketch"].shown() == "37.50 ± 1.41"


def test_several_seeds_reach_the_csv_markdown_and_latex_tables_as_mean_and_std(tmp_path):
    from ribray.report.output import write_report

    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", seed=0)
    second = {d: dict(row) for d, row in FINETUNED.items()}
    second["imagenet_r"]["imagenet_sketch"] = 38.50  # mRI per seed: 0.10 and 1.30 / 3 (above)
    write_matrix(tmp_path, "ft", second, seed=1)
    write_report(report_of(tmp_path), tmp_path / "out")
    mean, std = (0.10 + 1.30 / 3) / 2, abs(0.10 - 1.30 / 3) / math.sqrt(2)
    header, row = (tmp_path / "out" / "mri.csv").read_text().splitlines()
    assert header == f"method,{MODEL},{MODEL}_std" and row.split(",")[0] == "ft"
    assert [float(v) for v in row.split(",")[1:]] == pytest.approx([mean, std], abs=1e-12)
    assert f"| ft | {mean:.2f} ± {std:.2f} |" in (tmp_path / "out" / "mri.md").read_text()
    assert f"ft & ${mean:.2f} \\pm {std:.2f}$ \\\\" in (tmp_path / "out" / "mri.tex").read_text()


def test_a_missing_seed_is_not_averaged_over(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", seed=0)
    write_matrix(tmp_path, "ft", {d: FINETUNED[d] for d in ("imagenet_v2", "imagenet_r")}, seed=1)
    report = report_of(tmp_path)
    assert report.ri[(MODEL, "ft", "imagenet_r")].mean == pytest.approx(0.20, abs=1e-9)
    assert math.isnan(report.ri[(MODEL, "ft", "imagenet_sketch")].mean)
    assert [m.trial.label for m in report.missing] == [f"{MODEL}/ft@imagenet_sketch#1"]


def test_interpolations_are_rows_per_alpha_and_curves_and_subsets_stay_out(tmp_path):
    write_pretrained(tmp_path, train_subset=None)
    write_matrix(tmp_path, "ft")
    write_matrix(tmp_path, "wise_ft", kind="interpolate", alpha=0.5, train_subset=None)
    write_matrix(tmp_path, "wise_ft", kind="interpolate", alpha=0.25, train_subset=None)
    write_matrix(tmp_path, "soup", kind="interpolate", train_subset=None)
    low = {d: {s: 1.0 for s in row} for d, row in FINETUNED.items()}
    write_matrix(tmp_path, "ft", low, train_subset="shots=4")
    from ribray.report import build_reports
    from ribray.results import read_results

    main, shots = build_reports(read_results(str(tmp_path)))
    assert main.scope.methods == ("ft", "wise_ft(0.25)", "wise_ft(0.5)", "soup")
    for method in main.scope.methods:  # learning-curve points (top1 0) and the subset are not counted
        assert main.mri[(MODEL, method)].mean == pytest.approx(MRI_BY_HAND, abs=1e-9)
    assert shots.scope.train_subset == "shots=4" and shots.scope.methods == ("ft",)
    # RI_v2 with every fine-tuned accuracy at 1 %: ((1 - 40.10) + (1 - 30.70)) / 2
    assert shots.ri[(MODEL, "ft", "imagenet_v2")].mean == pytest.approx(((1 - 40.10) + (1 - 30.70)) / 2, abs=1e-9)


def test_a_downstream_set_without_pretrained_evaluation_is_named(tmp_path):
    write_pretrained(tmp_path, accuracies={k: v for k, v in PRETRAINED.items() if k != "imagenet_sketch"})
    write_matrix(tmp_path, "ft")
    report = report_of(tmp_path)
    assert any("no pretrained evaluation on imagenet_sketch" in n and "except imagenet_sketch" in n
               for n in report.notes)
    assert report.ri[(MODEL, "ft", "imagenet_sketch")].mean == pytest.approx(1.65, abs=1e-9)
    assert math.isnan(report.ri[(MODEL, "ft", "imagenet_v2")].mean)
    assert [m.describe() for m in report.missing] == [f"{MODEL}/pretrained: no evaluation on imagenet_sketch"]


def test_results_of_two_specs_are_refused_unless_allowed(tmp_path):
    from ribray.report.rows import MixedSpecsError

    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", spec_hash="spec-b")
    with pytest.raises(MixedSpecsError, match="2 different specs .*spec-a, spec-b.*pass the spec file"):
        report_of(tmp_path)
    report = report_of(tmp_path, allow_mixed=True)
    assert report.mri[(MODEL, "ft")].mean == pytest.approx(MRI_BY_HAND, abs=1e-9)


def test_when_two_trials_claim_a_cell_the_newest_wins_and_is_said(tmp_path):
    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", {d: {s: 1.0 for s in row} for d, row in FINETUNED.items()}, tag="-old")
    write_matrix(tmp_path, "ft", finished=5, tag="-new", spec_hash="spec-b")
    report = report_of(tmp_path, allow_mixed=True)
    assert report.mri[(MODEL, "ft")].mean == pytest.approx(MRI_BY_HAND, abs=1e-9)
    assert any("3 trial(s) superseded" in n for n in report.notes)


def test_a_pandas_dataframe_gives_the_same_report(tmp_path):
    from ribray.report import build_report, report_json
    from ribray.results import read_results

    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft", seed=0)
    write_matrix(tmp_path, "ft", without(FINETUNED, "imagenet_v2", "imagenet_r"), seed=1)
    table = read_results(str(tmp_path))
    from_arrow, from_pandas = build_report(table), build_report(table.to_pandas())
    assert report_json(from_pandas) == report_json(from_arrow)  # NaN becomes null there
    assert from_pandas.missing == from_arrow.missing and len(from_arrow.missing) == 1


def test_a_spec_restricts_the_report_to_its_plan(tmp_path):
    from ribray.plan import make_plan
    from ribray.report import build_reports
    from ribray.report.source import resolve_source
    from ribray.results import SweepLayout, read_results
    from ribray.spec import load_spec

    from conftest import tiny_spec, write_spec

    spec_path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, tmp_path / "data"))
    spec = load_spec(spec_path)
    SweepLayout.of(spec).mark(spec.name, spec.name, spec.spec_hash())  # as its sweep does when it starts
    source = resolve_source(str(spec_path))
    assert source.results.path == str(tmp_path / "runs" / "t" / "results")
    assert source.out == tmp_path / "runs" / "t" / "report"
    results = tmp_path / "runs" / "t" / "results"
    plan = make_plan(spec)
    pre = {"imagenet_val": 80.0, "imagenet_r": 40.0, "imagenet_sketch": 30.0}
    tuned = {"imagenet_r": {"imagenet_val": 70.0, "imagenet_r": 90.0, "imagenet_sketch": 33.0},
             "imagenet_sketch": {"imagenet_val": 60.0, "imagenet_r": 37.0, "imagenet_sketch": 95.0}}
    for trial in plan.trials:
        if trial.method == "wise_ft" and trial.downstream == "imagenet_sketch":
            continue  # not run yet
        accuracies = pre if trial.kind == "pretrained" else tuned[trial.downstream]
        rows = rows_for(trial.trial_id, accuracies, spec_hash=f"hash-{trial.kind}", kind=trial.kind,
                        model=trial.model.name, method=trial.method, downstream=trial.downstream, seed=trial.seed,
                        alpha=getattr(trial, "alpha", None), train_subset="all" if trial.kind == "finetune" else None)
        write_shard(Location(str(results)), trial.trial_id, rows)
    stale = rows_for("stale", {k: 0.0 for k in pre}, spec_hash="old", kind="finetune", model="tiny_vit",
                     method="ft", downstream="imagenet_r", seed=0, finished=9)
    write_shard(Location(str(results)), "stale", stale)  # newest, but not a trial of this spec
    [report] = build_reports(read_results(str(results)), spec=spec)  # several spec hashes: fine
    # n = 2: RI_r = (33 - 30) / 1 = 3, RI_sketch = (37 - 40) / 1 = -3, mRI = 0
    assert report.ri[("tiny_vit", "ft", "imagenet_r")].mean == pytest.approx(3.0, abs=1e-9)
    assert report.mri[("tiny_vit", "ft")].mean == pytest.approx(0.0, abs=1e-9)
    [missing] = report.missing
    wise = next(t for t in plan.trials if t.method == "wise_ft" and t.downstream == "imagenet_sketch")
    assert missing.trial.trial_id == wise.trial_id and missing.trial.method == "wise_ft(0.5)"
    assert any("1 trial(s) in the results are not in this spec's plan" in n for n in report.notes)


def test_robustness_improvement_is_nan_with_fewer_than_two_sets():
    from ribray.report import robustness_improvement

    assert math.isnan(robustness_improvement({"a": 50.0}, {"a": 40.0}, ["a"], "a"))
    assert robustness_improvement({"b": 50.0}, {"b": 40.0}, ["a", "b"], "a") == 10.0


def test_otdd_correlates_with_the_imagenet_accuracy_drop_by_hand():
    from ribray.report.analyses import _pearson

    xs, ys = [1.0, 2.0, 3.0, 4.0], [2.0, 4.1, 5.9, 8.0]
    mx, my = 2.5, 5.0
    expected = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (
        sum((x - mx) ** 2 for x in xs) ** 0.5 * sum((y - my) ** 2 for y in ys) ** 0.5)
    assert abs(_pearson(xs, ys) - expected) < 1e-12
    assert abs(_pearson(xs, [-y for y in ys]) + expected) < 1e-12


def test_figures_drawn_by_worker_processes_are_the_files_drawn_in_process(tmp_path, monkeypatch):
    import os

    from ribray.report import figures
    from ribray.report.tables import mri_grid, ri_grid

    write_pretrained(tmp_path)
    write_matrix(tmp_path, "ft")
    report = report_of(tmp_path)
    grids = [mri_grid(report), ri_grid(report, MODEL)]
    serial = figures.draw_all([(g, tmp_path / "serial" / f"{g.stem}.png") for g in grids])
    monkeypatch.setattr(figures, "FIGURES_PER_WORKER", 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1})  # two CPUs, whatever this machine has
    parallel = figures.draw_all([(g, tmp_path / "parallel" / f"{g.stem}.png") for g in grids])
    assert [p.relative_to(tmp_path / "parallel") for p in parallel] == \
        [p.relative_to(tmp_path / "serial") for p in serial]
    assert [p.suffix for p in serial] == [".png", ".pdf", ".svg"] * 2
    for one, other in zip(serial, parallel, strict=True):  # no dates inside: byte for byte
        assert one.read_bytes() == other.read_bytes(), one.name
