"""End-to-end sweeps on the shared local Ray (2 fake GPUs): rows, MLflow runs, ordering,
re-runs and spec extensions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from ribray.cli import main
from ribray.engine import run_sweep
from ribray.errors import RibrayError
from ribray.plan import make_plan
from ribray.results import sweep_dir
from ribray.spec import parse_spec
from ribray.storage import Location

from conftest import sweep_rows, tiny_spec, write_spec


@pytest.fixture(scope="module")
def finished(ray_cluster, fake_data, tmp_path_factory):
    """One sweep (2 downstream sets x ft + lp + WiSE-FT) run once for several tests."""
    root = tmp_path_factory.mktemp("sweep")
    spec = parse_spec(tiny_spec(root, fake_data, methods={"ft": {}, "lp": {}}))
    summary = run_sweep(spec, max_concurrent=2)
    return spec, summary


def test_every_trial_writes_one_row_per_eval_set(finished):
    spec, summary = finished
    plan = make_plan(spec)
    assert summary.complete and summary.done == len(plan) == 7
    rows = sweep_rows(spec)
    assert len(rows) == len(plan) * 3  # imagenet_val, imagenet_r, imagenet_sketch
    assert {(r["trial_id"], r["eval_set"]) for r in rows} == {
        (t.trial_id, s) for t in plan.trials for s in ("imagenet_val", "imagenet_r", "imagenet_sketch")}
    assert all(0.0 <= r["top1"] <= 100.0 and r["n_images"] > 0 for r in rows)
    assert {r["torch_version"] is not None and r["spec_hash"] == spec.spec_hash() for r in rows} == {True}
    assert {(r["decode"], r["eval_precision"]) for r in rows} == {("pil", "fp32")}  # timm's pixels, on a CPU
    assert {r["label"] for r in rows} == {t.label for t in plan.trials}
    assert {r["method_label"] for r in rows} == {"pretrained", "ft", "lp", "wise_ft(0.5)"}
    # the demo's facts, recorded so that reports can say the numbers are not results
    assert {(r["data_generated"], r["model_weights"]) for r in rows} == {(True, "random init")}
    assert {r["train_generated"] for r in rows if r["downstream"]} == {True}


def test_finished_trials_leave_no_resume_checkpoint_behind(finished):
    spec, _ = finished
    tune = Path(sweep_dir(spec).child("tune").path)
    checkpoints = list(tune.glob("run-*/*/checkpoint_*"))
    assert len(checkpoints) == 4  # ft and lp on 2 sets; their files deleted as each trial finished
    assert {p.name for c in checkpoints for p in c.iterdir()} == {"ribray-finished.txt"}
    weights = list(Path(sweep_dir(spec).child("weights").path).glob("*.safetensors"))
    assert len(weights) == 4  # ft and lp, on 2 downstream sets


def test_mlflow_has_one_parent_and_one_child_per_trial(finished):
    spec, _ = finished
    client = MlflowClient(f"sqlite:///{sweep_dir(spec).path}/mlflow.db")
    experiment = client.get_experiment_by_name(spec.name)
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("ribray.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("ribray.role") == "trial"]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(children) == len(make_plan(spec))
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    ft = next(c for c in children if c.data.params.get("method") == "ft")
    assert "top1 R" in ft.data.metrics and "train_loss" in ft.data.metrics
    assert client.list_artifacts(ft.info.run_id)[0].path.endswith(".parquet")
    # the UI opens on the runs, metric columns differ in their first characters, final
    # accuracies sit at the last epoch beside the training curve
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert {"top1 IN-1K", "top1 R", "top1 Sketch"} <= set(ft.data.metrics)
    assert [m.step for m in client.get_metric_history(ft.info.run_id, "top1 R")] == [1]
    parent = parents[0]
    assert parent.data.params["models"] == "tiny_vit" and parent.data.params["trials"] == "7"
    assert parent.data.params["trials.finetune"] == "4" and parent.data.params["methods"] == "ft, lp"
    assert parent.data.tags["mlflow.source.name"] == "ribray sweep"
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["spec.yaml"]


def test_wise_ft_starts_before_the_last_finetune_finishes(finished):
    spec, _ = finished
    rows = sweep_rows(spec)
    first_wise = min(r["started_at"] for r in rows if r["method"] == "wise_ft")
    last_finetune = max(r["finished_at"] for r in rows if r["kind"] == "finetune")
    assert first_wise < last_finetune


def test_rerun_is_a_noop(finished, capsys, monkeypatch):
    from ribray.results import checks

    spec, _ = finished
    before = {r["trial_id"]: r["finished_at"] for r in sweep_rows(spec)}
    read = []
    monkeypatch.setattr(checks, "_scan", lambda location, identity=True: read.append(location.name))
    summary = run_sweep(spec)
    assert read == []  # the sweep's shard index knows every shard it wrote: no footer is read again
    assert summary.already_done == summary.done == len(make_plan(spec))
    assert "nothing to do" in capsys.readouterr().out
    assert {r["trial_id"]: r["finished_at"] for r in sweep_rows(spec)} == before


def test_extending_the_spec_runs_only_new_trials(finished, capsys):
    spec, _ = finished
    before = {r["trial_id"]: r["finished_at"] for r in sweep_rows(spec)}
    extended = spec.model_copy(update={"seeds": [0, 1]})
    summary = run_sweep(extended, max_concurrent=2)
    assert summary.complete and summary.already_done == len(before) and summary.done == 13
    assert "--resume" not in capsys.readouterr().out  # the earlier run finished: nothing to resume
    after = sweep_rows(extended)
    assert {r["trial_id"]: r["finished_at"] for r in after if r["trial_id"] in before} == before
    assert len(after) == 13 * 3


def test_resume_after_extending_the_spec_runs_the_new_trials_too(ray_cluster, fake_data, tmp_path, capsys):
    small = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={}))
    assert run_sweep(small).complete
    before = {r["trial_id"]: r["finished_at"] for r in sweep_rows(small)}
    extended = small.model_copy(update={"methods": parse_spec(tiny_spec(
        tmp_path, fake_data, methods={"ft": {}, "lp": {}})).methods})
    summary = run_sweep(extended, resume=True)
    assert summary.complete and summary.done == len(make_plan(extended)) == 3
    assert "running the 1 trial(s) the spec gained since it started" in capsys.readouterr().out
    rows = sweep_rows(extended)
    assert sorted(r["trial_id"] for r in rows if r["eval_set"] == "imagenet_val") == \
        sorted(t.trial_id for t in make_plan(extended).trials)  # each trial exactly once
    assert {r["trial_id"]: r["finished_at"] for r in rows if r["trial_id"] in before} == before


def test_resume_refuses_trials_the_spec_dropped_then_retries_the_failed_one(
        ray_cluster, fake_data, tmp_path, monkeypatch):
    marker = tmp_path / "fired"
    monkeypatch.setenv("RIBRAY_INJECT_FAULT", f"raise:method=lp:epoch=0:step=0:marker={marker}")
    spec = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={},
                                methods={"ft": {}, "lp": {}}))
    lp = next(t.trial_id for t in make_plan(spec).trials if t.method == "lp")
    assert list(run_sweep(spec).failed) == [lp]
    path = write_spec(tmp_path / "spec.yaml", spec.model_dump(mode="json"))
    status = CliRunner().invoke(main, ["status", str(path)])
    assert status.exit_code == 0 and "t: 3 trials: 2 done, 1 failed" in status.output
    assert f"failed   {lp}  tiny_vit/lp@imagenet_r#0" in status.output
    assert "RuntimeError: injected fault at step 0" in status.output and "error.txt" in status.output

    ewc_not_lp = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={},
                                      methods={"ft": {}, "ewc": {}}))
    with pytest.raises(RibrayError, match=rf"1 unfinished trial\(s\) .* no longer in the spec .* e\.g\. {lp}"):
        run_sweep(ewc_not_lp, resume=True)

    resumed = run_sweep(spec, resume=True)  # the fault fired once: now lp trains
    assert resumed.complete and resumed.already_done == 2
    assert sorted(r["trial_id"] for r in sweep_rows(spec) if r["eval_set"] == "imagenet_val") == \
        sorted(t.trial_id for t in make_plan(spec).trials)


def _as_if_killed_before_tune_saved(run: Path, trial_id: str) -> None:
    """Tune's saved state says the trial is still running, as when the driver is killed after
    the trial finished but before Tune's next save of its state."""
    for path in run.glob("experiment_state-*.json"):
        state = json.loads(path.read_text())
        for entry in state["trial_data"]:
            trial = json.loads(entry[0])
            if trial["relative_logdir"].startswith(f"finetune-{trial_id}-"):
                entry[0] = json.dumps({**trial, "status": "RUNNING"})
        path.write_text(json.dumps(state))


def test_resume_restores_a_trial_that_finished_after_tunes_last_save(ray_cluster, fake_data, tmp_path, monkeypatch,
                                                                     capsys):
    """--resume restores such a trial from its emptied checkpoint folder: it finds its shard,
    reports itself finished without training again, and the soup that needs it runs."""
    marker = tmp_path / "fired"
    monkeypatch.setenv("RIBRAY_INJECT_FAULT", f"raise:method=lp:epoch=0:step=0:marker={marker}")
    spec = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], methods={"ft": {}, "lp": {}},
                                interpolations={"soup": {"ingredients": ["pretrained", "ft", "lp"]}}))
    ft = next(t.trial_id for t in make_plan(spec).trials if t.method == "ft")
    first = run_sweep(spec)
    assert len(first.failed) == 1 and len(first.not_run) == 1  # lp failed; the soup waits for it
    run = next(Path(sweep_dir(spec).path, "tune").glob("run-*"))
    assert [p.name for p in run.glob(f"finetune-{ft}-*/checkpoint_*/*")] == ["ribray-finished.txt"]
    _as_if_killed_before_tune_saved(run, ft)
    missed = next(run.glob(f"finetune-{ft}-*")) / "checkpoint_000009"  # one its clean-up never reached
    missed.mkdir()
    (missed / "trainer.pt").write_bytes(b"x" * 1000)
    shard = Path(sweep_dir(spec).path, "results", f"{ft}.parquet")
    written = shard.stat().st_mtime_ns

    resumed = run_sweep(spec, resume=True)
    assert resumed.complete and not resumed.failed and not resumed.not_run, resumed
    assert "running 1 trial(s) that waited on trials it retried" in capsys.readouterr().out
    assert shard.stat().st_mtime_ns == written  # ft did not run twice
    assert list(run.glob(f"finetune-{ft}-*/error.txt")) == []  # Tune restored it without an error
    assert [p.name for p in missed.iterdir()] == ["ribray-finished.txt"]  # emptied as the sweep ended
    assert {r["method_label"] for r in sweep_rows(spec)} == {"pretrained", "ft", "lp", "soup(ingredients=[pretrained,ft,lp])"}


def test_vpt_trains_a_resnet_trained_smaller_than_it_is_evaluated(ray_cluster, fake_data, tmp_path):
    """tiny_resnet, like torchvision's ResNet-50 V2 weights, was trained at a smaller size (24 px)
    than it is evaluated (32 px): the padding prompt is sized for what the model is fed."""
    spec = parse_spec(tiny_spec(tmp_path, fake_data, models=["tiny_resnet"], downstream=["imagenet_r"],
                                methods={"vpt": {"prompt_size": 4}}, interpolations={}))
    summary = run_sweep(spec)
    assert summary.complete, summary
    vpt = [r for r in sweep_rows(spec) if r["method"] == "vpt"]
    assert {r["eval_set"] for r in vpt} == {"imagenet_val", "imagenet_r"} and all(r["n_images"] for r in vpt)


def test_the_report_lands_in_the_sweeps_mlflow_run(finished, tmp_path):
    spec, _ = finished
    path = write_spec(tmp_path / "spec.yaml", spec.model_dump(mode="json"))
    result = CliRunner().invoke(main, ["report", str(path)])
    assert result.exit_code == 0 and "and logged to the sweep's MLflow run" in result.output
    client = MlflowClient(f"sqlite:///{sweep_dir(spec).path}/mlflow.db")
    experiment = client.get_experiment_by_name(spec.name)
    parent = next(r for r in client.search_runs([experiment.experiment_id]) if r.data.tags.get("ribray.role") == "sweep")
    assert "report/report.html" in [a.path for a in client.list_artifacts(parent.info.run_id, "report")]
    report = json.loads((Path(sweep_dir(spec).path) / "report" / "report.json").read_text())
    mri = {r["method"]: r["mean"] for r in report["mri"]}
    assert parent.data.metrics["mRI wise_ft 0.5"] == pytest.approx(mri["wise_ft(0.5)"])  # the table's value
    assert parent.data.metrics["mRI ft"] == pytest.approx(mri["ft"])
    assert report["provenance"]["mlflow"]["run_id"] == parent.info.run_id
    assert (report["provenance"]["trials_done"], report["provenance"]["trials_failed"],
            report["provenance"]["trials_planned"]) == (7, 0, 7)
    assert "WARNING: these numbers are not benchmark results." in result.output
    page = (Path(sweep_dir(spec).path) / "report" / "report.html").read_text()
    assert "The data is generated" in page and "tiny_vit is random-init" in page and parent.info.run_id in page


def test_resume_is_suggested_only_for_a_run_that_left_trials_unfinished(tmp_path):
    from ribray.engine.sweep import _suggest_resume
    from ribray.engine.tune_run import RUN_TRIALS_FILE

    run_dir = Location(str(tmp_path / "run-1"))
    said = []
    _suggest_resume(run_dir, set(), said.append)  # no record: a ribray 0.1 run, may be unfinished
    assert said == [f"note: an earlier run is in {run_dir.uri}; pass --resume to continue its trials "
                    "from their checkpoints"]
    run_dir.child(RUN_TRIALS_FILE).write_bytes(b'["a", "b", "c"]')
    said.clear()
    _suggest_resume(run_dir, {"a", "b", "c", "d"}, said.append)
    assert said == []
    _suggest_resume(run_dir, {"a"}, said.append)
    assert said == [f"note: the earlier run {run_dir.uri} left 2 trial(s) unfinished; pass --resume to "
                    "continue them from their checkpoints (this run starts them afresh)"]


def test_results_of_other_data_are_refused_then_rerun_on_request(ray_cluster, fake_data, tmp_path):
    from ribray.data import get_dataset

    from conftest import FAKE_SETS

    spec = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={}))
    assert run_sweep(spec).complete
    before = {r["trial_id"]: r["finished_at"] for r in sweep_rows(spec)}
    assert all(r["data_fingerprint"] and ":" in r["data_fingerprint"] for r in sweep_rows(spec))

    other = tmp_path / "other-copy"  # the same layout and file names, other images (re-generated)
    for name in FAKE_SETS:
        entry = get_dataset(name)
        entry.write_fake(entry.path(other), per_class=6, classes=4, seed=2)
    moved = spec.model_copy(update={"data": spec.data.model_copy(update={"root": str(other)})})
    with pytest.raises(RibrayError) as refused:
        run_sweep(moved)
    assert "2 finished trial(s) were computed on other data than the spec's data now" in str(refused.value)
    assert "tiny_vit/ft@imagenet_r#0" in str(refused.value) and "--rerun-changed-data" in str(refused.value)
    assert {r["trial_id"]: r["finished_at"] for r in sweep_rows(spec)} == before  # nothing ran, nothing moved

    summary = run_sweep(moved, rerun_changed_data=True)
    assert summary.complete and summary.done == 2 and summary.already_done == 0
    rerun = {r["trial_id"]: r["finished_at"] for r in sweep_rows(spec)}
    assert rerun.keys() == before.keys() and all(rerun[t] > before[t] for t in before)
    aside = Path(sweep_dir(spec).path) / "results" / ".set-aside"
    assert sorted(p.stem for p in aside.glob("*.parquet")) == sorted(before)  # kept, not deleted
    assert len(list((Path(sweep_dir(spec).path) / "weights" / ".set-aside").glob("*.safetensors"))) == 1
    assert run_sweep(moved).already_done == 2  # the new results are this data's


def test_the_sweep_marks_the_folder_it_makes_and_commands_find_it_by_that(finished):
    import ribray
    from ribray.results import resolve_target

    spec, _ = finished
    root = Path(sweep_dir(spec).path)
    marker = json.loads((root / "ribray-sweep.json").read_text())
    assert {k: marker[k] for k in ("sweep", "experiment", "spec_hash", "ribray_version")} == {
        "sweep": spec.name, "experiment": spec.name, "spec_hash": spec.spec_hash(), "ribray_version": ribray.__version__}
    for target in (root, root / "results"):
        assert resolve_target(str(target)).layout.root.path == str(root)


def test_a_second_sweep_of_the_same_folder_is_refused_and_a_dead_ones_lock_taken_over(finished):
    import json
    import os
    import socket

    from ribray.results.lock import LOCK_FILE, sweep_lock

    spec, _ = finished
    root = sweep_dir(spec)
    with sweep_lock(root):  # a sweep of this folder is running (this process)
        with pytest.raises(RibrayError, match=rf"another sweep of this folder is running: .*{LOCK_FILE} is held "
                                              rf"by pid {os.getpid()} on {socket.gethostname()}"):
            run_sweep(spec)
    assert not root.child(LOCK_FILE).exists()  # released at the end
    dead = {"host": socket.gethostname(), "pid": 2**22 + 7, "started": "yesterday", "token": "x"}
    root.child(LOCK_FILE).write_bytes(json.dumps(dead).encode())  # left by a killed sweep
    assert run_sweep(spec).complete and not root.child(LOCK_FILE).exists()
