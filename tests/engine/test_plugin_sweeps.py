"""Sweeps whose trials run a researcher's code in Ray workers: the example plugin package (a
method, a dataset, a non-timm model, beside the paper's methods and a greedy soup), named variants
and two checkpoints of one architecture in one report, plugin code that changed since, and a
plugin that fails in the workers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from ribray.engine import run_sweep
from ribray.errors import RibrayError
from ribray.plan import make_plan
from ribray.plugins import cache_folder
from ribray.report import build_reports
from ribray.results import read_results, sweep_dir
from ribray.spec import load_spec, parse_spec

from conftest import BRING_YOUR_OWN, EXAMPLE_PLUGIN, sweep_rows, tiny_spec, write_plugin


def _fake(root: Path, spec) -> None:
    from ribray.data import get_dataset

    for name in spec.datasets_read():
        entry = get_dataset(name)
        entry.write_fake(entry.path(root), per_class=4, classes=4, seed=1, size=32)


@pytest.fixture(scope="module")
def example_sweep(ray_cluster, tmp_path_factory):
    """The example plugin's own spec, its package copied next to it, run once."""
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(EXAMPLE_PLUGIN / "ribray_example", root / "ribray_example")
    raw = yaml.safe_load((EXAMPLE_PLUGIN / "sweep.yaml").read_text())
    raw |= {"storage": str(root / "runs"), "data": {"root": str(root / "data")}}
    (root / "sweep.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    spec = load_spec(root / "sweep.yaml")
    _fake(root / "data", spec)
    plugin = spec._plugins[0]
    # the workers get the code the driver read, not the files: move them (and the copy the
    # driver imported) away while the sweep runs
    shutil.rmtree(cache_folder() / plugin.identity)
    (root / "ribray_example").rename(root / "elsewhere")
    try:
        summary = run_sweep(spec, max_concurrent=2)
    finally:
        (root / "elsewhere").rename(root / "ribray_example")
    yield root, spec, summary
    spec.activate()


def test_the_example_plugins_trials_run_in_ray_workers(example_sweep):
    root, spec, summary = example_sweep
    plan = make_plan(spec)
    assert summary.complete and summary.done == len(plan) == 12, summary
    rows = sweep_rows(spec)
    assert {r["model"] for r in rows} == {"tiny_vit", "example_convnet"}
    assert {r["model_name"] for r in rows} == {"tiny_vit", "example_convnet"}
    assert {r["method_label"] for r in rows} == {"pretrained", "ft", "ewc", "fisher_ewc", "lora", "greedy"}
    assert {r["eval_set"] for r in rows} == {"imagenet_val", "imagenet_r", "example_ood", "my_ood"}
    assert {r["eval_set"]: r["rib"] for r in rows} == {"imagenet_val": False, "imagenet_r": True,
                                                      "example_ood": True, "my_ood": True}
    identity = spec._plugins[0].identity
    declared = spec.datasets["my_ood"].identity()
    assert {tuple(sorted((p["plugin"], p["identity"]) for p in r["plugins"])) for r in rows} == {
        (("datasets.my_ood", declared), ("ribray_example/", identity))}
    greedy = [r for r in rows if r["method_label"] == "greedy"]
    assert {r["method"] for r in greedy} == {"greedy_soup"}
    assert all(set(r["ingredients"].split(",")) <= {"pretrained", "ft", "ewc", "fisher_ewc"} for r in greedy)
    client = MlflowClient(f"sqlite:///{sweep_dir(spec).path}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name(spec.name).experiment_id])
    names = {r.info.run_name for r in runs if r.data.tags.get("ribray.role") == "trial"}
    assert len(names) == 12 and "example_convnet/fisher_ewc@imagenet_r#0" in names


def test_the_example_plugins_rows_sit_beside_the_papers_in_the_report(example_sweep):
    _, spec, _ = example_sweep
    report = build_reports(read_results(sweep_dir(spec).child("results")), spec=spec)[0]
    assert report.scope.models == ("tiny_vit", "example_convnet")
    assert report.scope.methods == ("ft", "ewc", "fisher_ewc", "lora", "greedy")
    assert report.scope.rib_sets == ("imagenet_r", "example_ood", "my_ood") and report.scope.n == 3
    assert all(report.mri[(m, method)].complete for m in report.scope.models for method in report.scope.methods)
    assert any("example_ood, my_ood are not one of the paper's eight" in note for note in report.notes)


def test_changed_plugin_code_is_refused_by_name_before_anything_runs(example_sweep):
    root, _, _ = example_sweep
    source = root / "ribray_example" / "fisher_ewc.py"
    original = source.read_text()
    source.write_text(original + "\n# a change\n")
    try:
        with pytest.raises(RibrayError) as refused:
            run_sweep(load_spec(root / "sweep.yaml"))
    finally:
        source.write_text(original)
    message = str(refused.value)
    assert "12 finished trial(s) were computed with other plugin code" in message
    assert "example_convnet/fisher_ewc@imagenet_r#0" in message and "ribray_example/: code" in message
    assert "--rerun-changed-plugins" in message


def test_variants_and_checkpoints_are_rows_and_columns_of_their_own(ray_cluster, fake_data, tmp_path, capsys):
    import torch
    from safetensors.torch import save_file

    from ribray.models import build_model

    torch.manual_seed(1)
    other = build_model("tiny_vit", pretrained=False).module.state_dict()
    save_file({k: v.contiguous() for k, v in other.items()}, str(tmp_path / "other.safetensors"))
    plugin = tmp_path / "my_method.py"
    shutil.copy(BRING_YOUR_OWN / "my_method.py", plugin)
    raw = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], plugins=[str(plugin)],
                    eval_sets=["imagenet_val", "imagenet_r", "imagenet_sketch"],
                    models=["tiny_vit", {"name": "tiny_vit", "checkpoint": str(tmp_path / "other.safetensors")}],
                    methods={"ewc": {}, "ewc_w10": {"method": "ewc", "weight": 10}, "l1_sp": {}},
                    interpolations={"wise_ft": {"of": "l1_sp"}})
    spec = parse_spec(raw)
    summary = run_sweep(spec, max_concurrent=2)
    assert summary.complete and summary.done == 10, summary
    for report in (build_reports(read_results(sweep_dir(spec).child("results")), spec=spec)[0],
                   build_reports(read_results(sweep_dir(spec).child("results")))[0]):  # with and without the spec
        assert report.scope.models == ("tiny_vit", "tiny_vit(checkpoint=other.safetensors)")
        assert report.scope.methods == ("ewc", "ewc_w10", "l1_sp", "wise_ft(of=l1_sp, 0.5)")
        assert not any("superseded" in note for note in report.notes)
        assert all(report.mri[(m, method)].complete for m in report.scope.models for method in report.scope.methods)
    by_model = {}
    for row in sweep_rows(spec):
        by_model.setdefault(row["model"], set()).add(row["trial_id"])
    assert [len(ids) for ids in by_model.values()] == [5, 5] and not set.intersection(*by_model.values())

    before = {r["trial_id"]: r["finished_at"] for r in sweep_rows(spec)}
    code = plugin.read_text()  # its code changes, not its options: the same trials, other results
    plugin.write_text(code.replace("return self.options.weight *", "return 2 * self.options.weight *"))
    changed = parse_spec(raw)
    with pytest.raises(RibrayError, match=r"4 finished trial\(s\) were computed with other plugin code"):
        run_sweep(changed)
    capsys.readouterr()
    summary = run_sweep(changed, rerun_changed_plugins=True)
    assert summary.complete and summary.done - summary.already_done == 4
    rerun = {t.label for t in make_plan(changed).trials if t.trial_id not in
             {i for i, f in before.items() if f == {r["trial_id"]: r["finished_at"] for r in sweep_rows(changed)}.get(i)}}
    assert rerun == {"tiny_vit/l1_sp@imagenet_r#0", "tiny_vit(checkpoint=other.safetensors)/l1_sp@imagenet_r#0",
                     "tiny_vit/wise_ft(of=l1_sp, 0.5)@imagenet_r#0",
                     "tiny_vit(checkpoint=other.safetensors)/wise_ft(of=l1_sp, 0.5)@imagenet_r#0"}
    assert "4 trial(s) run again (--rerun-changed-plugins" in capsys.readouterr().out
    assert len(list((sweep_dir(spec).child("results", ".set-aside").path and
                     Path(sweep_dir(spec).child("results", ".set-aside").path)).glob("*.parquet"))) == 4


def test_a_plugin_that_fails_in_the_workers_fails_each_trial_once_with_its_first_line(ray_cluster, fake_data,
                                                                                    tmp_path, capsys):
    plugin = write_plugin(tmp_path / "driver_only.py", """
        from ray._private.worker import WORKER_MODE, global_worker

        from ribray.api import Method, register_method

        if global_worker.mode == WORKER_MODE:
            raise RuntimeError("installed on the driver's machine only")


        @register_method("driver_only")
        class DriverOnly(Method):
            summary = "a method only the driver has"
    """)
    spec = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], plugins=[str(plugin)],
                                methods={"driver_only": {}}, interpolations={}, retries=2))
    summary = run_sweep(spec, max_concurrent=2)
    output = capsys.readouterr().out
    assert summary.done == 0 and len(summary.failed) == 2, summary
    for error in summary.failed.values():
        assert error == ("failed for good (not retried): plugin driver_only.py failed to import: RuntimeError: "
                         "installed on the driver's machine only (driver_only.py, line 7)")
    assert output.count("(for good, not retried") == 2 and "retrying" not in output
