"""`ribray status` while a sweep writes: Tune rewrites its saved state in place, so a read may
meet it half written; status then answers from the shards, without a traceback."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ribray.cli import main
from ribray.plan import make_plan
from ribray.results import SweepLayout, write_shard
from ribray.spec import load_spec
from ribray.storage import Location

from conftest import tiny_spec, write_spec


def test_a_half_written_tune_state_is_read_as_no_state(tmp_path):
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, tmp_path / "data", downstream=["imagenet_r"],
                                                        interpolations={}))
    spec = load_spec(path)
    layout = SweepLayout.of(spec)
    layout.mark(spec.name, spec.name, spec.spec_hash())
    pretrained = make_plan(spec).trials[0]
    write_shard(layout.results, pretrained.trial_id, [{"trial_id": pretrained.trial_id, "final": True}])
    state = json.dumps({"trial_data": [[json.dumps({"config": {"trial_id": "x"}, "status": "RUNNING"}), "{}"]]})
    run = Location(layout.tune.child("run-20260101-000000").path)
    run.child("experiment_state-2026-01-01_00-00-00.json").write_bytes(state[: len(state) // 2].encode())

    status = CliRunner().invoke(main, ["status", str(path), "--json"])

    assert status.exit_code == 0, status.output
    states = {t["trial_id"]: t["state"] for t in json.loads(status.stdout)["trials"]}
    assert states == {t.trial_id: "done" if t.trial_id == pretrained.trial_id else "waiting" for t in make_plan(spec).trials}


def test_trials_downstream_of_a_failed_trial_are_blocked_and_the_others_wait(tmp_path):
    """LP failed: LP-FT (which starts from it) and the soup (which reads LP-FT) are blocked,
    two steps down; FT's trials only wait."""
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(
        tmp_path, tmp_path / "data", downstream=["imagenet_r"], methods={"ft": {}, "lp": {}, "lp_ft": {}},
        interpolations={"soup": {"ingredients": ["ft", "lp_ft"]}}))
    spec = load_spec(path)
    layout = SweepLayout.of(spec)
    layout.mark(spec.name, spec.name, spec.spec_hash())
    plan = make_plan(spec)
    by_label = {t.label: t for t in plan.trials}
    lp = by_label["tiny_vit/lp@imagenet_r#0"]
    trial = json.dumps({"config": {"trial_id": lp.trial_id}, "status": "ERROR", "relative_logdir": "lp"})
    run = Location(layout.tune.child("run-20260101-000000").path)
    run.child("experiment_state-2026-01-01_00-00-00.json").write_bytes(
        json.dumps({"trial_data": [[trial, json.dumps({"num_failures": 1})]]}).encode())
    run.child("lp", "error.txt").write_bytes(b"Traceback...\nValueError: lr is not a number\n")

    status = CliRunner().invoke(main, ["status", str(path), "--json"])

    assert status.exit_code == 0, status.output
    states = {t["trial_id"]: t["state"] for t in json.loads(status.stdout)["trials"]}
    assert {label: states[t.trial_id] for label, t in by_label.items()} == {
        "tiny_vit/pretrained": "waiting", "tiny_vit/ft@imagenet_r#0": "waiting",
        "tiny_vit/lp@imagenet_r#0": "failed", "tiny_vit/lp_ft@imagenet_r#0": "blocked",
        "tiny_vit/soup(ingredients=[ft,lp_ft])@imagenet_r#0": "blocked"}
