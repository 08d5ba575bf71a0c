"""Results: the Parquet schema, atomic per-trial shards, provenance, the sweep's storage
layout, and MLflow (the trials' runs, back-fill from the shards, the UI)."""

from ribray.results.layout import SweepLayout, SweepTarget, resolve_target, sweep_dir
from ribray.results.schema import SCHEMA
from ribray.results.store import done_trial_ids, read_results, write_shard

__all__ = ["SCHEMA", "SweepLayout", "SweepTarget", "done_trial_ids", "read_results", "resolve_target",
           "sweep_dir", "write_shard"]
