"""The result row is the results' one column contract: the shards' schema is derived from
`ResultRow`, a row holding every column reads back from its shard as it was written, with the
Python types the row declares, and no column older shards hold changes its stored type."""

from __future__ import annotations

import types
import typing
from datetime import datetime, timezone

from ribray.results import SCHEMA, read_results, write_shard
from ribray.results.row import PartAccuracy, PluginIdentity, ResultRow
from ribray.storage import Location

# The stored type of each column shards have been written with (ribray 0.2): a shard is read
# back in the current schema by casting its columns, so these never change; new columns follow.
STORED = """\
trial_id: string
sweep: string
spec_hash: string
kind: string
model: string
model_name: string
method: string
method_label: string
label: string
alpha: double
ingredients: string
downstream: string
train_subset: string
seed: int64
eval_set: string
rib: bool
epoch: int64
final: bool
top1: double
correct: int64
n_images: int64
parts: list<item: struct<part: string, top1: double, correct: int64, n_images: int64>>
layer: string
value: double
decode: string
eval_precision: string
fidelity: string
data_fingerprint: string
train_fingerprint: string
data_generated: bool
train_generated: bool
model_weights: string
plugins: list<item: struct<plugin: string, identity: string>>
train_seconds: double
eval_seconds: double
started_at: timestamp[us, tz=UTC]
finished_at: timestamp[us, tz=UTC]
ribray_version: string
torch_version: string
timm_version: string
ray_version: string
git_sha: string
host: string
gpu: string"""

WHEN = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=timezone.utc)
ROW: ResultRow = {
    "trial_id": "3f2a", "sweep": "rib", "spec_hash": "9c1d", "kind": "finetune", "model": "vit_b16",
    "model_name": "vit_base_patch16_224.augreg_in21k_ft_in1k", "method": "ewc", "method_label": "ewc(weight=10)",
    "label": "vit_b16/ewc(weight=10)@imagenet_r#0", "alpha": 0.5, "ingredients": "a,b", "downstream": "imagenet_r",
    "train_subset": "all", "seed": 0, "eval_set": "imagenet_c", "rib": True, "epoch": 10, "final": True,
    "top1": 41.25, "correct": 33, "n_images": 80,
    "parts": [{"part": "gaussian_noise/1", "top1": 50.0, "correct": 20, "n_images": 40}],
    "layer": "blocks.11", "value": 0.93, "decode": "pil", "eval_precision": "bf16", "fidelity": "ribray",
    "data_fingerprint": "80:ab12", "train_fingerprint": "120:cd34", "data_generated": False,
    "train_generated": True, "model_weights": "pretrained",
    "plugins": [{"plugin": "my_method", "identity": "code1"}], "train_seconds": 612.5, "eval_seconds": 30.25,
    "started_at": WHEN, "finished_at": WHEN, "ribray_version": "0.2.0", "torch_version": "2.4.0",
    "timm_version": "1.0.9", "ray_version": "2.35.0", "git_sha": "ffa49c0", "host": "node-1", "gpu": "NVIDIA H200",
}


def _python_type(hint: object) -> type:
    """The class a column's values are (`X | None`: X; `list[X]`: list; a TypedDict: dict)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return typing.get_origin(hint) or (dict if typing.is_typeddict(hint) else hint)


def test_the_schema_has_the_row_s_columns_in_its_order_all_nullable():
    assert SCHEMA.names == list(typing.get_type_hints(ResultRow))
    assert all(field.nullable for field in SCHEMA)  # older shards and other kinds leave columns null


def test_no_column_older_shards_hold_changes_its_stored_type():
    now = {field.name: str(field.type) for field in SCHEMA}
    for line in STORED.splitlines():
        name, stored = line.split(": ", 1)
        assert now.get(name) == stored, f"column {name}: stored as {stored}, now {now.get(name)}"


def test_a_row_with_every_column_reads_back_as_written_in_the_types_the_row_declares(tmp_path):
    hints = typing.get_type_hints(ResultRow)
    assert set(ROW) == set(hints)  # the row above fills every column
    write_shard(Location(str(tmp_path)), ROW["trial_id"], [ROW])
    (read,) = read_results(str(tmp_path)).to_pylist()
    assert read == ROW
    wrong = {name: type(value).__name__ for name, value in read.items()
             if not isinstance(value, _python_type(hints[name]))}
    assert wrong == {}
    for column, struct in (("parts", PartAccuracy), ("plugins", PluginIdentity)):
        assert {k: type(v) for k, v in read[column][0].items()} == typing.get_type_hints(struct)


def test_a_column_a_row_leaves_out_reads_back_null(tmp_path):
    write_shard(Location(str(tmp_path)), "t1", [{"trial_id": "t1", "kind": "cka", "eval_set": "imagenet_val",
                                                 "layer": "blocks.0", "value": 0.5}])
    (read,) = read_results(str(tmp_path)).to_pylist()
    assert read["value"] == 0.5 and read["top1"] is None and read["parts"] is None and read["seed"] is None
