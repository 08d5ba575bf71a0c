"""The results schema: one row per (trial, eval set, epoch), accuracies in percent.

Analysis trials (kind cka / otdd) use the same table: a row per (layer or pair of sets) with
`value` set and `top1` null; `downstream` is the fine-tuned (or first) set and `eval_set`
the probe (or second) set.
"""

from __future__ import annotations

import pyarrow as pa

PART = pa.struct([("part", pa.string()), ("top1", pa.float64()),
                  ("correct", pa.int64()), ("n_images", pa.int64())])
PLUGIN = pa.struct([("plugin", pa.string()), ("identity", pa.string())])

SCHEMA = pa.schema([
    ("trial_id", pa.string()),        # hash of the trial's resolved config
    ("sweep", pa.string()),           # the spec's name
    ("spec_hash", pa.string()),       # hash of the whole resolved spec
    ("kind", pa.string()),            # pretrained | finetune | interpolate | analysis
    ("model", pa.string()),           # the model's label: its name, or the spec's label of it
    ("model_name", pa.string()),      # the registry / timm / open_clip name the model is built from
    ("method", pa.string()),          # pretrained | ft | lp | ... | wise_ft | soup
    ("method_label", pa.string()),    # the method's row in the tables (its label): ft, wise_ft(0.5), ewc(weight=10)
    ("label", pa.string()),           # the trial's name: model/method(alpha)@downstream#seed[subset]
    ("alpha", pa.float64()),          # WiSE-FT mixing weight of the fine-tuned model; null otherwise
    ("ingredients", pa.string()),     # soup / WiSE-FT inputs, comma-separated; null otherwise
    ("downstream", pa.string()),      # set fine-tuned on; null for the pretrained model
    ("train_subset", pa.string()),    # e.g. "shots=4" or "fraction=0.1"; "all" for the whole set
    ("seed", pa.int64()),
    ("eval_set", pa.string()),
    ("rib", pa.bool_()),              # RI averages over this eval set (ImageNet-RIB's eight, or marked rib)
    ("epoch", pa.int64()),            # epochs trained when evaluated (0: not trained)
    ("final", pa.bool_()),            # the row that counts in the tables (not a learning-curve point)
    ("top1", pa.float64()),           # percent
    ("correct", pa.int64()),
    ("n_images", pa.int64()),
    ("parts", pa.list_(PART)),        # per-part accuracies (ImageNet-C corruption/severity)
    ("layer", pa.string()),           # analysis rows: the model layer (CKA)
    ("value", pa.float64()),          # analysis rows: CKA similarity, OTDD distance (top1 is null)
    ("decode", pa.string()),          # how the eval input was decoded: pil (timm's transform exactly) | nvjpeg
    ("eval_precision", pa.string()),  # autocast dtype of the evaluation: bf16 | fp16 | fp32
    ("fidelity", pa.string()),        # ribray | reference (ribray.fidelity); null: ribray (older shards)
    ("data_fingerprint", pa.string()),   # the eval set's folder: "<files>:<hash of the listing>"
    ("train_fingerprint", pa.string()),  # the downstream set's folder (what was fine-tuned on)
    ("data_generated", pa.bool_()),   # the eval set's folder is generated (`ribray data fake`'s marker); null: not recorded
    ("train_generated", pa.bool_()),  # the downstream set's folder is generated; null: not recorded or none
    ("model_weights", pa.string()),   # the model's starting weights: pretrained | random init | checkpoint
    ("plugins", pa.list_(PLUGIN)),    # the plugins' code the result depends on: [{plugin, identity}]
    ("train_seconds", pa.float64()),
    ("eval_seconds", pa.float64()),
    ("started_at", pa.timestamp("us", tz="UTC")),
    ("finished_at", pa.timestamp("us", tz="UTC")),
    ("ribray_version", pa.string()),
    ("torch_version", pa.string()),
    ("timm_version", pa.string()),
    ("ray_version", pa.string()),
    ("git_sha", pa.string()),
    ("host", pa.string()),
    ("gpu", pa.string()),
])


def _with_pandas_dtypes(schema: pa.Schema) -> pa.Schema:
    """The schema with pandas metadata asking for nullable integer and boolean columns, so that
    `pandas.read_parquet` keeps `seed` an integer where the pretrained rows have none (not
    float64 with NaN)."""
    import pandas as pd

    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    empty = schema.empty_table().to_pandas(types_mapper=nullable.get)
    return schema.with_metadata(pa.Schema.from_pandas(empty, preserve_index=False).metadata)


SCHEMA = _with_pandas_dtypes(SCHEMA)
