"""`ribray mlflow sync`: a store filled from the shards alone opens on the same view as a sweep's."""

import json

from mlflow.tracking import MlflowClient

from ribray.results.store import write_shard
from ribray.results.sync import sync_results
from ribray.storage import Location


def test_sync_into_a_new_store_writes_the_view_of_the_headline_metrics(tmp_path):
    results = Location(str(tmp_path / "results"))
    rows = [{"trial_id": "t1", "sweep": "s", "kind": "pretrained", "model": "tiny_vit", "method": "pretrained",
             "label": "tiny_vit/pretrained", "eval_set": name, "final": True, "epoch": 0, "top1": 50.0}
            for name in ("imagenet_val", "imagenet_r")]
    write_shard(results, "t1", rows)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    report = sync_results(results, uri, "s", "s", artifact_root=str(tmp_path / "artifacts"))
    assert report.created == 1 and (tmp_path / "artifacts").is_dir()
    view = json.loads(MlflowClient(uri).get_experiment_by_name("s").tags["mlflow.sharedViewState.ribray"])
    assert view["selectedColumns"] == ["metrics.`top1 IN-1K`", "metrics.`top1 R`"]
    assert view["groupBy"]["groupByKeys"] == [{"mode": "param", "groupByData": "model"}]
