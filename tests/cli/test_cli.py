"""The CLI: bad input gives a clear error, exit code 1, nothing written and no Ray started."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import loaded_after, ribray_cli, tiny_spec, write_spec


@pytest.fixture
def no_ray(monkeypatch):
    """Fail the test if anything starts Ray."""
    import ray

    def refuse(*args, **kwargs):
        raise AssertionError("Ray was started for a spec that should have been refused")

    monkeypatch.setattr(ray, "init", refuse)


def test_help_does_not_import_torch_or_ray():
    assert loaded_after("import ribray.cli", ("torch", "ray", "mlflow", "timm")) == []


BAD_SPECS = [
    ({"train": {"lrr": 0.1}}, "train.lrr: unknown key; did you mean 'train.lr'?"),
    ({"train": {"epochs": "ten"}}, "train.epochs: Input should be a valid integer"),
    ({"models": ["tiny_vitt"]}, "unknown model 'tiny_vitt'; did you mean 'tiny_vit'?"),
    ({"methods": {"fft": {}}}, "methods.fft: unknown method; did you mean 'ft'?"),
    ({"downstream": ["imagenet_rr"]}, "unknown dataset 'imagenet_rr'; did you mean 'imagenet_r'?"),
    ({"interpolations": {"wise_ft": {"of": "lp"}}}, "interpolations.wise_ft.of: method 'lp' is not in the sweep's methods"),
    ({"models": []}, "models: List should have at least 1 item"),
    ({"data": {"root": "/nonexistent/ribray-data"}}, "data.root: /nonexistent/ribray-data does not exist, so none of "
                                                     "the 3 set(s) the sweep reads from it can be read"),
]


@pytest.mark.parametrize("override,message", BAD_SPECS, ids=[m.split(":")[0] for _, m in BAD_SPECS])
@pytest.mark.parametrize("command", ["validate", "sweep"])
def test_bad_spec_is_refused_before_anything_runs(tmp_path, fake_data, no_ray, override, message, command):
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, **override))
    result = ribray_cli(command, path)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert not (tmp_path / "runs" / "t").exists()


@pytest.mark.parametrize("command", ["validate", "plan", "sweep", "status"])
def test_missing_spec_file_is_a_usage_error(tmp_path, no_ray, command):
    result = ribray_cli(command, tmp_path / "nope.yaml")
    assert result.exit_code == 2, result.output
    assert f"Error: Invalid value for 'SPEC': spec file not found: {tmp_path / 'nope.yaml'}" in result.output


def test_errors_have_one_style(tmp_path, fake_data, no_ray):
    """ribray's own errors read as click's usage errors do: `Error: ...`."""
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, models=["tiny_vitt"]))
    own, usage = ribray_cli("plan", path), ribray_cli("plan", path, "--gpus", "0")
    assert own.output.startswith("Error: the spec cannot run:\n  models.0: unknown model 'tiny_vitt'")
    assert usage.output.splitlines()[-1].startswith("Error: Invalid value for '--gpus'")


def test_help_lists_every_command_without_cutting_its_description():
    text = ribray_cli("--help").output
    commands = text.split("Commands:\n", 1)[1]
    assert "..." not in commands
    assert "storage the sweep needs; with --gpus N its wall time on N GPUs" in " ".join(commands.split())
    assert "..." not in ribray_cli("data", "--help").output.split("Commands:\n", 1)[1]


def test_methods_says_that_ewc_is_l2_sp():
    line = next(line for line in ribray_cli("methods").output.splitlines() if line.startswith("ewc "))
    assert "L2-SP, the paper's EWC: squared L2 distance to the pretrained weights" in line


def test_yaml_syntax_error_names_the_line(tmp_path, no_ray):
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\nmodels: [tiny_vit\ndownstream: [imagenet_r]\n")
    result = ribray_cli("sweep", path)
    assert result.exit_code == 1 and "YAML syntax error at line" in result.output


def test_storage_not_writable(tmp_path, fake_data, no_ray):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, storage=str(blocker / "runs")))
    result = ribray_cli("sweep", path)
    assert result.exit_code == 1 and "is not writable" in result.output


def test_a_missing_data_root_is_said_once_with_the_sets_it_holds(tmp_path, fake_data, no_ray):
    own_folder = fake_data / "imagenet-sketch"
    spec = tiny_spec(tmp_path, fake_data, data={"root": str(tmp_path / "nowhere"),
                                                "folders": {"imagenet_sketch": str(own_folder)}})
    result = ribray_cli("validate", write_spec(tmp_path / "spec.yaml", spec))
    assert result.exit_code == 1
    assert result.output.count("does not exist") == 1
    assert (f"  data.root: {tmp_path / 'nowhere'} does not exist, so none of the 2 set(s) the sweep reads from it can "
            "be read: imagenet_r (imagenet-r/), imagenet_val (imagenet/val/). Put the sets there (`ribray data "
            "download-help` says where each comes from") in result.output
    assert "imagenet_sketch" not in result.output  # its own folder is there and fine


def test_resume_without_a_previous_sweep(tmp_path, fake_data, no_ray):
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data))
    result = ribray_cli("sweep", path, "--resume")
    assert result.exit_code == 1 and "--resume: no previous sweep of 't'" in result.output


def test_validate_and_plan_on_a_good_spec(tmp_path, fake_data, no_ray):
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data))
    result = ribray_cli("validate", path)
    assert result.exit_code == 0 and "ok" in result.output
    table = ribray_cli("plan", path)
    assert table.exit_code == 0
    assert "tiny_vit/" not in table.output and "wise_ft(0.5)" in table.output
    assert "5 trials (1 pretrained, 2 finetune, 2 interpolate); 0 done, 5 to run" in table.output
    import json

    plan = json.loads(ribray_cli("plan", path, "--json").output)
    assert len(plan["trials"]) == 5 and plan["gpu_hours"] > 0
    wise = [t for t in plan["trials"] if t["method"] == "wise_ft"]
    assert all(len(t["depends_on"]) == 1 for t in wise)


def test_plan_estimate_is_broken_down_and_sized_from_measured_rates(tmp_path, fake_data, no_ray):
    import json

    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"device": "Test GPU", "measured": "2026-01-02", "commit": "abc1234",
                                 "default": {"train": 1000.0, "train_compiled": 2000.0, "eval": 3600.0}}))
    spec = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={})
    path = write_spec(tmp_path / "spec.yaml", spec)
    payload = json.loads(ribray_cli("plan", path, "--json", "--throughput", rates).output)
    # pretrained: imagenet_val 50,000 + imagenet_r 30,000 images at 3,600/s; the fine-tune also
    # trains 1 epoch of ImageNet-R's 30,000 images at the compiled rate (compile: auto) 2,000/s
    evaluation = (50_000 + 30_000) / 3600 / 3600
    assert payload["gpu_hours_by_kind"] == pytest.approx(
        {"pretrained": round(evaluation, 3), "finetune": round(evaluation + 30_000 / 2000 / 3600, 3)}, abs=1e-3)
    assert payload["gpu_hours_by_eval_set"]["imagenet_val"] == pytest.approx(2 * 50_000 / 3600 / 3600, abs=1e-3)
    assert payload["throughput"] == "Test GPU, measured 2026-01-02 at ribray abc1234"
    text = ribray_cli("plan", path, "--summary", "--throughput", rates).output
    assert "tiny_vit" not in text.splitlines()[0] and "2 trials (1 pretrained, 1 finetune); 0 done, 2 to run" in text
    assert "by eval set:   imagenet_val" in text and "Test GPU, measured 2026-01-02" in text
    assert "storage: 0.7 MiB of final weights (1 fine-tunes" in text  # tiny_vit's state dict


def test_plan_of_a_cpu_spec_gives_no_gpu_hours_and_columns_fit_long_names(tmp_path, fake_data, no_ray):
    spec = tiny_spec(tmp_path, fake_data, models=["tiny_vit", "vit_base_patch16_224.augreg_in21k_ft_in1k"],
                     downstream=["imagenet_r"], interpolations={}, resources={"gpu": 0, "cpu": 1})
    text = ribray_cli("plan", write_spec(tmp_path / "spec.yaml", spec)).output
    assert "no time estimate: the trials claim no GPU" in text and "GPU-hours" not in text
    lines = [line for line in text.splitlines() if "tiny_vit" in line or "augreg_in21k" in line]
    assert len({line.index("imagenet_r") for line in lines if "imagenet_r" in line}) == 1  # one column


def test_plan_refuses_what_validate_refuses(tmp_path, fake_data, no_ray):
    spec = tiny_spec(tmp_path, fake_data, models=["tiny_vitt"])
    result = ribray_cli("plan", write_spec(tmp_path / "a.yaml", spec))
    assert result.exit_code == 1 and "unknown model 'tiny_vitt'; did you mean 'tiny_vit'?" in result.output
    spec = tiny_spec(tmp_path, fake_data, interpolations={"wise_ft": {"of": "lp"}})
    result = ribray_cli("plan", write_spec(tmp_path / "b.yaml", spec))
    assert result.exit_code == 1 and "interpolations.wise_ft.of: method 'lp' is not in the sweep's methods" in result.output


def test_prune_deletes_the_checkpoints_of_finished_trials_only(tmp_path, fake_data, no_ray):
    from ribray.plan import make_plan
    from ribray.results import SweepLayout, write_shard
    from ribray.spec import load_spec
    from ribray.storage import Location

    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"]))
    trials = make_plan(load_spec(path)).trials
    finished, unfinished = trials[1], trials[2]
    sweep = tmp_path / "runs" / "t"
    SweepLayout(Location(str(sweep))).mark("t", "t", "spec")
    write_shard(Location(str(sweep / "results")), finished.trial_id, [{"trial_id": finished.trial_id}])
    for trial in (finished, unfinished):
        checkpoint = sweep / "tune" / "run-1" / f"{trial.kind}-{trial.trial_id}-abc" / "checkpoint_000001"
        checkpoint.mkdir(parents=True)
        (checkpoint / "trainer.pt").write_bytes(b"x" * 2**20)
    (sweep / "scratch").mkdir()
    (sweep / "scratch" / "copy.parquet").write_bytes(b"y" * 100)

    before = {p for p in sweep.rglob("*") if p.is_file()}
    dry = ribray_cli("prune", path, "--dry-run")
    assert dry.exit_code == 0 and "t: would delete 1.0 MiB in 2 folder(s)" in dry.output
    assert {p for p in sweep.rglob("*") if p.is_file()} == before  # a dry run writes nothing, not even the lock
    listed = {Path(folder): int(count) for folder, count in
              re.findall(r"would delete (?:the files in|the folder) (\S+) \((\d+) file", dry.output)}
    done = ribray_cli("prune", sweep)
    assert done.exit_code == 0 and "t: deleted 1.0 MiB in 2 folder(s)" in done.output
    gone = before - {p for p in sweep.rglob("*") if p.is_file()}
    assert gone == {p for p in before if any(folder in p.parents for folder in listed)}  # exactly what it listed
    assert {folder: sum(folder in p.parents for p in gone) for folder in listed} == listed
    assert [p.parent.parent.name for p in sweep.glob("tune/run-1/*/checkpoint_*/trainer.pt")] == [
        f"{unfinished.kind}-{unfinished.trial_id}-abc"]  # --resume still needs it
    emptied = sweep / "tune" / "run-1" / f"{finished.kind}-{finished.trial_id}-abc" / "checkpoint_000001"
    assert [p.name for p in emptied.iterdir()] == ["ribray-finished.txt"]  # Tune's state may name it
    assert not (sweep / "scratch").exists() and (sweep / "results" / f"{finished.trial_id}.parquet").exists()
    again = ribray_cli("prune", sweep)
    assert again.exit_code == 0 and "t: deleted 0.0 MiB in 0 folder(s)" in again.output
