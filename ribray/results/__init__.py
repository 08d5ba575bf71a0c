"""Results: the Parquet schema, atomic per-trial shards, provenance."""

from ribray.results.schema import SCHEMA
from ribray.results.store import done_trial_ids, read_results, write_shard

__all__ = ["SCHEMA", "done_trial_ids", "read_results", "write_shard"]
