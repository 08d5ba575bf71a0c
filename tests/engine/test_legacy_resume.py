"""A sweep interrupted under ribray 0.1 (flat modules, untyped trial configs) resumes.

tests/fixtures/legacy_run_ribray_0.1.tar.gz is what ribray 0.1 left on disk when its driver
was SIGKILLed mid-sweep: the pretrained trial's shard, and the Tune run (tuner.pkl pickles
ribray.searcher.PlanSearcher, ribray.progress.Progress, ribray.sweep._trial_name and
ribray.estimate.trial_hours; the searcher state and trial configs are 0.1's dicts) with the
fine-tune running. Made with this spec (storage and data root moved here) and
RIBRAY_INJECT_FAULT=sleep:method=ft:epoch=0:step=0:seconds=300:marker=... .
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pyarrow.parquet as pq

from ribray.compat.moved import MOVED, WARNING
from ribray.engine import run_sweep
from ribray.plan import make_plan
from ribray.spec import parse_spec

from conftest import tiny_spec

FIXTURE = Path(__file__).parents[1] / "fixtures" / "legacy_run_ribray_0.1.tar.gz"
PRETRAINED_ID, FINETUNE_ID, WISE_FT_ID = "9912ea729b0f", "590bb72587fa", "b993cae89310"


def test_a_run_interrupted_under_ribray_0_1_resumes(ray_cluster, fake_data, tmp_path, capsys):
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path / "runs", filter="data")
    spec = parse_spec(tiny_spec(tmp_path, fake_data, name="legacy", downstream=["imagenet_r"],
                                resources={"gpu": 0, "cpu": 1}))
    assert [t.trial_id for t in make_plan(spec).trials] == [PRETRAINED_ID, FINETUNE_ID, WISE_FT_ID]
    results = tmp_path / "runs" / "legacy" / "results"
    before = (results / f"{PRETRAINED_ID}.parquet").read_bytes()
    runs_before = sorted(p.name for p in (tmp_path / "runs" / "legacy" / "tune").iterdir())

    summary = run_sweep(spec, resume=True)

    warnings = [line for line in capsys.readouterr().out.splitlines() if "ribray 0.1" in line]
    # once, naming the version, a 0.1 module its pickles name (the first one this process had not
    # met yet: an earlier test may have met ribray.searcher) and what to do
    assert len(warnings) == 1 and warnings[0] in [WARNING.format(module=name) for name in MOVED], warnings
    assert summary.complete and summary.already_done == 1 and summary.done == 3
    assert sorted(p.name for p in (tmp_path / "runs" / "legacy" / "tune").iterdir()) == runs_before
    assert (results / f"{PRETRAINED_ID}.parquet").read_bytes() == before  # not run again
    rows = [r for f in sorted(results.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert sorted((r["trial_id"], r["eval_set"]) for r in rows) == sorted(
        (t, s) for t in (PRETRAINED_ID, FINETUNE_ID, WISE_FT_ID) for s in ("imagenet_r", "imagenet_val"))
