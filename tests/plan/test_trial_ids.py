"""Trial ids are hashes of what a trial computes: they must not change when the code moves,
or every finished shard of every sweep would be run again. These are the ids ribray 0.1
computed for this spec (every kind, subsets, curves, LP-FT, two alphas, two seeds)."""

from __future__ import annotations

import hashlib
import json

from ribray.plan import Trial, make_plan
from ribray.spec import parse_spec

SPEC = {"name": "p", "data": {"root": "/data"}, "models": ["tiny_vit"],
        "downstream": ["imagenet_r", "imagenet_sketch"],
        "methods": {"ft": {}, "ewc": {}, "lwf": {}, "lp": {}, "lp_ft": {}, "vpt": {}},
        "interpolations": {"wise_ft": {"of": "ft", "alphas": [0.5, 0.2]},
                           "soup": {"ingredients": ["pretrained", "ft", "ewc", "lwf"]}},
        "train_subsets": ["all", {"shots_per_class": 2}, {"fraction": 0.5}],
        "curves": {"limit_per_set": 100},
        "analyses": {"cka": {"probe_images": 64, "batch_size": 16, "layers": "blocks"}, "otdd": {"max_images": 100}},
        "seeds": [0, 3]}

# (label, kind, trial id, weights key, depends on) as ribray 0.1 planned them
SAMPLES = [
    ["tiny_vit/pretrained", "pretrained", "a981662a8a89", None, []],
    ["tiny_vit/ft@imagenet_r#0", "finetune", "62b4af3a600a", "c26c695da2b8", []],
    ["tiny_vit/wise_ft(0.2)@imagenet_r#0", "interpolate", "db2b6be5c748", None, ["62b4af3a600a"]],
    ["tiny_vit/cka(ft)@imagenet_r#0", "cka", "13f8fc1e67b0", None, ["62b4af3a600a"]],
    ["tiny_vit/otdd", "otdd", "d4bcd87668b5", None, []],
    ["tiny_vit/lp_ft@imagenet_r#0", "finetune", "ac6dea15c9d6", "5066180642af", ["c14c231a395a"]],
    ["tiny_vit/ft@imagenet_r#0[shots=2]", "finetune", "cd328065bb61", "68d1db3f828b", []],
]
# SHA-256 of the JSON list of all 170 such rows, in plan order
ALL_ROWS = "f31dbd217043589fa42e05221ae5969e1e072e7bab7a0da1f831ea28139605f2"


def _rows(plan) -> list[list]:
    return [[t.label, t.kind, t.trial_id, getattr(t, "weights_key", None), list(t.depends_on)]
            for t in plan.trials]


def test_ids_labels_and_order_are_those_of_ribray_0_1():
    rows = _rows(make_plan(parse_spec(SPEC)))
    for sample in SAMPLES:
        assert sample in rows
    assert len(rows) == 170
    assert hashlib.sha256(json.dumps(rows).encode()).hexdigest() == ALL_ROWS


def test_every_kind_round_trips_through_its_tune_config():
    plan = make_plan(parse_spec(SPEC))
    assert {t.kind for t in plan.trials} == {"pretrained", "finetune", "interpolate", "cka", "otdd"}
    for trial in plan.trials:
        config = json.loads(json.dumps(trial.to_config()))  # what Tune stores
        assert Trial.from_config(config) == trial
