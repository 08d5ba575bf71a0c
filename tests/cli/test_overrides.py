"""Command-line overrides (`--set KEY=VALUE`, or `KEY=VALUE` after the spec): validated as the
file is, shown by `plan` and `validate`, and the spec as overridden is what is planned, hashed
and stored."""

from __future__ import annotations

import json

import pytest

from ribray.spec import load_spec, parse_spec

from conftest import ribray_cli, tiny_spec, write_spec


def test_plan_shows_the_overrides_and_plans_the_spec_as_overridden(tmp_path, fake_data, spec_file):
    result = ribray_cli("plan", spec_file, "train.epochs=2", "--set", "methods.ewc.weight=10", "--summary")
    assert result.exit_code == 0, result.output
    overridden = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"],
                           methods={"ft": {}, "ewc": {"weight": 10}},
                           train={**tiny_spec(tmp_path, fake_data)["train"], "epochs": 2})
    same = load_spec(write_spec(tmp_path / "same.yaml", overridden))
    assert result.output.splitlines()[0] == (
        f"overrides: train.epochs=2, methods.ewc.weight=10 (the trials, their ids and the spec hash "
        f"{same.spec_hash()} are of the spec with them)")
    assert "4 trials (1 pretrained, 2 finetune, 1 interpolate); 0 done, 4 to run" in result.output

    payload = json.loads(ribray_cli("plan", spec_file, "--set", "train.epochs=2", "--set", "methods.ewc.weight=10",
                              "--json").output)
    assert payload["overrides"] == ["train.epochs=2", "methods.ewc.weight=10"]
    assert payload["spec_hash"] == same.spec_hash() != load_spec(spec_file).spec_hash()
    from ribray.plan import make_plan

    assert [t["trial_id"] for t in payload["trials"]] == [t.trial_id for t in make_plan(same).trials]
    ewc = next(t for t in payload["trials"] if t["method"] == "ewc")
    assert ewc["variant"] == "ewc(weight=10)" and ewc["options"]["weight"] == 10 and ewc["train"]["epochs"] == 2


def test_validate_lists_the_overrides_and_says_ok_for_the_overridden_spec(spec_file):
    result = ribray_cli("validate", spec_file, "--no-data", "--set", "seeds=[0, 1]")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "overrides: seeds=[0, 1]"
    assert "1 model(s), 1 method(s), 1 downstream set(s), 2 seed(s)" in result.output
    assert f"{spec_file} with its overrides: ok" in result.output


BAD_OVERRIDES = [
    ("train.epochz=1", "train.epochz: unknown key; did you mean 'train.epochs'?", "train.epochz=1"),
    ("train.epochs=ten", "train.epochs: Input should be a valid integer, unable to parse string as an integer "
                         "(got 'ten')", "train.epochs=ten"),
    ("methods.ewc.weight=-1", "methods.ewc.weight: Input should be greater than or equal to 0", "methods.ewc.weight=-1"),
    ("methods.fft.weight=1", "methods.fft: unknown method; did you mean 'ft'?", "methods.fft.weight=1"),
    ("models=[tiny_vitt]", "models.0: unknown model 'tiny_vitt'; did you mean 'tiny_vit'?", "models=[tiny_vitt]"),
    ("interpolations.wise_ft.of=lp", "interpolations.wise_ft.of: method 'lp' is not in the sweep's methods",
     "interpolations.wise_ft.of=lp"),
    ("train.epochs=1e1", "train.epochs: Input should be a valid integer, unable to parse string as an integer "
                         "(got '1e1'); YAML reads 1e1 as text", "train.epochs=1e1"),
]


@pytest.mark.parametrize("override,message,named", BAD_OVERRIDES, ids=[o for o, _, _ in BAD_OVERRIDES])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_bad_override_gets_the_files_error_naming_the_override(spec_file, override, message, named, command):
    result = ribray_cli(command, spec_file, "--set", override)
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if message in line)
    assert line.endswith(f"(from the override {named})"), line
    assert "Traceback" not in result.output


def test_the_file_s_own_error_is_not_blamed_on_an_override(tmp_path, fake_data):
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, train={"lrr": 0.1}))
    result = ribray_cli("plan", path, "--set", "seeds=[1]")
    assert result.exit_code == 1 and "train.lrr: unknown key; did you mean 'train.lr'?" in result.output
    assert "from the override" not in result.output


@pytest.mark.parametrize("args,message", [
    (["train.epochs"], "'train.epochs' is not an override: write KEY=VALUE, e.g. train.epochs=1"),
    (["--set", "=1"], "'=1' is not an override: write KEY=VALUE"),
    (["--set", "train..epochs=1"], "'train..epochs=1': the key 'train..epochs' has an empty part"),
    (["train.epochs=1", "--set", "train.epochs=2"],
     "the override key 'train.epochs' is given twice ('train.epochs=1' and 'train.epochs=2'); give it once"),
    (["--set", "seeds=[0,"], "the override 'seeds=[0,': YAML syntax error"),
])
def test_a_malformed_override_is_a_usage_error(spec_file, args, message):
    result = ribray_cli("plan", spec_file, *args)
    assert result.exit_code == 2, result.output
    assert f"Error: {message}" in result.output and "Usage: ribray plan [OPTIONS] SPEC [KEY=VALUE]..." in result.output


def test_an_override_into_a_list_takes_an_index_in_range(spec_file, tmp_path):
    result = ribray_cli("plan", spec_file, "--set", "downstream.0=imagenet_sketch", "--json")
    assert result.exit_code == 0, result.output
    assert {t["downstream"] for t in json.loads(result.output)["trials"]} == {None, "imagenet_sketch"}
    result = ribray_cli("plan", spec_file, "--set", "downstream.1=imagenet_sketch")
    assert result.exit_code == 1
    assert ("the override 'downstream.1=imagenet_sketch': downstream is a list of 1 item(s); give an index 0..0"
            in result.output)
    result = ribray_cli("plan", spec_file, "--set", "name.x=1")
    assert result.exit_code == 1 and "the override 'name.x=1': name is 't', not a mapping or a list" in result.output


def test_an_override_changes_one_use_of_an_anchored_mapping_only(tmp_path, fake_data):
    text = write_spec(tmp_path / "base.yaml", tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"])).read_text()
    text = text.replace("methods:\n  ft: {}\n", "methods:\n  ft: &opts {train: {lr: 0.05}}\n  lp: *opts\n")
    path = tmp_path / "anchored.yaml"
    path.write_text(text)
    from ribray.spec.overrides import parse_overrides

    spec = load_spec(path, parse_overrides(["methods.ft.train.lr=0.2"]))
    assert {label: entry.options.train.lr for label, entry in spec.methods.items()} == {
        "ft(lr=0.2)": 0.2, "lp(lr=0.05)": 0.05}


def test_the_stored_spec_and_hint_are_of_the_spec_as_overridden(spec_file):
    import yaml

    from ribray.cli.views import resume_hint
    from ribray.plan import make_plan
    from ribray.results.tracking import spec_text, sweep_params
    from ribray.spec.overrides import command_line, parse_overrides

    overrides = parse_overrides(["train.epochs=3", "methods.ft.train.lr=0.5"])
    spec = load_spec(spec_file, overrides)
    stored = yaml.safe_load(spec_text(spec))  # the sweep run's spec.yaml artifact
    assert stored["train"]["epochs"] == 3 and stored["methods"]["ft"]["train"]["lr"] == 0.5
    assert parse_spec(stored).spec_hash() == spec.spec_hash()  # reading it back gives the same sweep
    assert sweep_params(spec, make_plan(spec))["overrides"] == "train.epochs=3 methods.ft.train.lr=0.5"
    assert resume_hint(command_line(str(spec_file), overrides)) == (
        f"interrupted: `ribray sweep {spec_file} --set train.epochs=3 --set methods.ft.train.lr=0.5 --resume` "
        "continues from the checkpoints.")


def test_a_sweep_with_overrides_stores_and_hashes_the_overridden_spec(ray_cluster, tmp_path, fake_data):
    import pyarrow.dataset as ds
    import yaml
    from mlflow.tracking import MlflowClient

    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data))
    result = ribray_cli("sweep", path, "downstream=[imagenet_r]", "--set", "interpolations={}")
    assert result.exit_code == 0, result.output
    assert "plan: 2 trials, 0 already done, 2 to run" in result.output
    from ribray.spec.overrides import parse_overrides

    overridden = load_spec(path, parse_overrides(["downstream=[imagenet_r]", "interpolations={}"]))
    sweep = tmp_path / "runs" / "t"
    rows = ds.dataset(str(sweep / "results"), format="parquet").to_table().to_pylist()
    assert {r["spec_hash"] for r in rows} == {overridden.spec_hash()} != {load_spec(path).spec_hash()}
    assert json.loads((sweep / "ribray-sweep.json").read_text())["spec_hash"] == overridden.spec_hash()
    client = MlflowClient(f"sqlite:///{sweep / 'mlflow.db'}")
    parent = next(r for r in client.search_runs([client.get_experiment_by_name("t").experiment_id])
                  if "mlflow.parentRunId" not in r.data.tags)
    assert parent.data.params["overrides"] == "downstream=[imagenet_r] interpolations={}"
    stored = yaml.safe_load(open(client.download_artifacts(parent.info.run_id, "spec.yaml", str(tmp_path))))
    assert stored["downstream"] == ["imagenet_r"] and stored["interpolations"] == {}


def test_status_counts_the_trials_of_the_spec_as_overridden(spec_file, tmp_path):
    from ribray.results import SweepLayout
    from ribray.storage import Location

    SweepLayout(Location(str(tmp_path / "runs" / "t"))).mark("t", "t", "spec")
    assert "t: 3 trials: 0 done, 0 failed, 3 waiting" in ribray_cli("status", spec_file).output
    result = ribray_cli("status", spec_file, "--set", "seeds=[0, 1]")
    assert result.exit_code == 0 and "t: 5 trials: 0 done, 0 failed, 5 waiting" in result.output
