"""`fidelity: reference` end to end: the smoke-sized sweep on generated data, ObjectNet included,
with every switched difference in the rows and the report."""

from __future__ import annotations

from click.testing import CliRunner

from ribray.cli.report import report
from ribray.data import get_dataset
from ribray.engine import run_sweep
from ribray.plan import make_plan
from ribray.results import sweep_dir
from ribray.spec import parse_spec

from conftest import sweep_rows, tiny_spec


def test_a_reference_sweep_records_its_mode_and_reports_its_deviations(ray_cluster, fake_data, tmp_path):
    objectnet = get_dataset("objectnet")
    objectnet.write_fake(objectnet.path(tmp_path / "data"), per_class=4, classes=4, seed=1)
    for name in ("imagenet_val", "imagenet_r"):
        (tmp_path / "data" / get_dataset(name).folder).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / get_dataset(name).folder).symlink_to(get_dataset(name).path(fake_data))
    spec = parse_spec(tiny_spec(tmp_path, tmp_path / "data", fidelity="reference",
                                downstream=["imagenet_r", "objectnet"], methods={"ft": {}, "lwf": {}},
                                interpolations={"soup": {"ingredients": ["pretrained", "ft", "lwf"]}}))
    summary = run_sweep(spec, max_concurrent=2)
    plan = make_plan(spec)
    assert summary.complete and summary.done == len(plan)
    rows = sweep_rows(spec)
    assert {(r["fidelity"], r["eval_precision"]) for r in rows} == {("reference", "fp32")}
    assert {r["trial_id"] for r in rows} == {t.trial_id for t in plan.trials}
    objectnet_rows = [r for r in rows if r["eval_set"] == "objectnet"]
    assert objectnet_rows and all(r["rib"] for r in objectnet_rows)  # the RIB set: RI uses it
    outcome = CliRunner().invoke(report, [str(sweep_dir(spec).path), "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 0, outcome.output
    assert "Deviations from the reference code (fidelity: reference; 1 of 4 differ" in outcome.output
    assert "- ObjectNet scoring: as the reference" in outcome.output
