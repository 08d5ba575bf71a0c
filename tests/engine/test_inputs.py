"""A finished fine-tune whose final weights were deleted or truncated runs again before the
trials that read them (they used to fail for good with "the trial that makes them has not
finished"); its old shard and the broken file are set aside, and every row lands once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import torch

from ribray.engine import run_sweep
from ribray.engine.inputs import rerun_producers_of_broken_weights
from ribray.plan import make_plan
from ribray.results import sweep_dir
from ribray.results.layout import SweepLayout
from ribray.results.store import write_shard
from ribray.spec import parse_spec
from ribray.trials.weights import save_weights

from conftest import tiny_spec


def test_a_finetune_whose_weights_were_deleted_reruns_before_its_wise_ft(ray_cluster, fake_data, tmp_path, capsys):
    first = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={}))
    assert run_sweep(first).complete
    root = Path(sweep_dir(first).path)
    ft = next(t for t in make_plan(first).trials if t.kind == "finetune")
    (root / "weights" / f"{ft.weights_key}.safetensors").unlink()

    grown = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"]))  # + its WiSE-FT
    capsys.readouterr()
    summary = run_sweep(grown)
    said = capsys.readouterr().out
    assert summary.complete and not summary.failed, summary
    assert summary.already_done == 1 and summary.done == 3  # the fine-tune ran again, then the WiSE-FT
    assert (f"the final weights of the finished trial {ft.label} [{ft.trial_id}], is missing; that trial "
            "runs again (its shard moved to .set-aside/) before the 1 trial(s) that read them") in said
    rows = ds.dataset(str(root / "results"), format="parquet").to_table().to_pylist()
    finals = Counter(r["trial_id"] for r in rows if r["final"])
    assert set(finals) == {t.trial_id for t in make_plan(grown).trials} and set(finals.values()) == {2}
    assert [p.stem for p in (root / "results" / ".set-aside").glob("*.parquet")] == [ft.trial_id]
    assert (root / "weights" / f"{ft.weights_key}.safetensors").exists()


def _finished(layout: SweepLayout, trial) -> None:
    write_shard(layout.results, trial.trial_id, [{"trial_id": trial.trial_id, "kind": trial.kind, "model": "m",
                                                  "method": trial.method, "eval_set": "imagenet_r", "top1": 1.0,
                                                  "final": True}])


def test_truncated_weights_are_set_aside_and_their_producer_reruns(fake_data, tmp_path):
    spec = parse_spec(tiny_spec(tmp_path, fake_data))
    plan, layout = make_plan(spec), SweepLayout.of(spec)
    finetunes = [t for t in plan.trials if t.kind == "finetune"]
    for trial in finetunes:
        _finished(layout, trial)
        save_weights(layout.weights, trial.weights_key, {"w": torch.zeros(1000)})
    whole, cut = (Path(layout.weights.path) / f"{t.weights_key}.safetensors" for t in finetunes)
    cut.write_bytes(cut.read_bytes()[:-100])
    said = []

    rerun = rerun_producers_of_broken_weights(plan, layout, {t.trial_id for t in finetunes}, said.append)

    assert rerun == {finetunes[1].trial_id}
    assert "is truncated or damaged: " in said[0] and f"[{finetunes[1].trial_id}]" in said[0] and len(said) == 1
    assert not cut.exists() and (Path(layout.weights.path) / ".set-aside" / cut.name).exists() and whole.exists()
    assert sorted(layout.results.list_files(".parquet")) == [f"{finetunes[0].trial_id}.parquet"]
    assert rerun_producers_of_broken_weights(plan, layout, {finetunes[0].trial_id}, said.append) == set()
