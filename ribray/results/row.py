"""The result row: one per (trial, eval set, epoch), accuracies in percent. `ResultRow` is the
one declaration of the results' columns; the Parquet schema is derived from it
(`ribray.results.schema`), so the rows trials build and the shards' columns cannot drift apart.

Analysis trials (kind cka / otdd) use the same row: one per layer (or pair of sets) with
`value` set and `top1` null; `downstream` is the fine-tuned (or first) set and `eval_set`
the probe (or second) set.

`X | None`: the column is null in some rows ribray writes (another kind's column, a version not
installed); the others are filled in every row. A row is built in parts (a trial's columns, an
evaluation's, the provenance), so every key is optional: a column a row leaves out is null in
its shard. Shards of older versions read back with null in the columns they lacked.
"""

from __future__ import annotations

from datetime import datetime  # imported at run time: the schema is derived from these annotations
from typing import TypedDict


class PartAccuracy(TypedDict):
    """The accuracy on one part of an eval set (an ImageNet-C corruption and severity)."""

    part: str
    top1: float
    correct: int
    n_images: int


class PluginIdentity(TypedDict):
    """A plugin whose code the result depends on, and that code's identity."""

    plugin: str
    identity: str


class ResultRow(TypedDict, total=False):
    """One result: the columns of the results dataset, in their order."""

    trial_id: str                    # hash of the trial's resolved config
    sweep: str                       # the spec's name
    spec_hash: str                   # hash of the whole resolved spec
    kind: str                        # pretrained | finetune | interpolate | analysis
    model: str                       # the model's label: its name, or the spec's label of it
    model_name: str                  # the registry / timm / open_clip name the model is built from
    method: str                      # pretrained | ft | lp | ... | wise_ft | soup
    method_label: str                # the method's row in the tables (its label): ft, wise_ft(0.5), ewc(weight=10)
    label: str                       # the trial's name: model/method(alpha)@downstream#seed[subset]
    alpha: float | None              # WiSE-FT mixing weight of the fine-tuned model; null otherwise
    ingredients: str | None          # soup / WiSE-FT inputs, comma-separated; null otherwise
    downstream: str | None           # set fine-tuned on; null for the pretrained model
    train_subset: str | None         # e.g. "shots=4" or "fraction=0.1"; "all" for the whole set
    seed: int | None
    eval_set: str
    rib: bool | None                 # RI averages over this eval set (ImageNet-RIB's eight, or marked rib)
    epoch: int                       # epochs trained when evaluated (0: not trained)
    final: bool                      # the row that counts in the tables (not a learning-curve point)
    top1: float | None               # percent
    correct: int | None
    n_images: int | None
    parts: list[PartAccuracy] | None  # per-part accuracies (ImageNet-C corruption/severity)
    layer: str | None                # analysis rows: the model layer (CKA)
    value: float | None              # analysis rows: CKA similarity, OTDD distance (top1 is null)
    decode: str | None               # how the eval input was decoded: pil (timm's transform exactly) | nvjpeg
    eval_precision: str | None       # autocast dtype of the evaluation: bf16 | fp16 | fp32
    fidelity: str                    # ribray | reference (ribray.fidelity); null: ribray (older shards)
    data_fingerprint: str | None     # the eval set's folder: "<files>:<hash of the listing>"
    train_fingerprint: str | None    # the downstream set's folder (what was fine-tuned on)
    data_generated: bool | None      # the eval set's folder is generated (`ribray data fake`'s marker); null: not recorded
    train_generated: bool | None     # the downstream set's folder is generated; null: not recorded or none
    model_weights: str               # the model's starting weights: pretrained | random init | checkpoint
    plugins: list[PluginIdentity] | None  # the plugins' code the result depends on
    train_seconds: float
    eval_seconds: float | None
    started_at: datetime
    finished_at: datetime
    ribray_version: str
    torch_version: str | None
    timm_version: str | None
    ray_version: str | None
    git_sha: str | None
    host: str
    gpu: str | None
