"""The results dataset: one atomic Parquet shard per trial, named by its trial id."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ribray.errors import RibrayError
from ribray.results.identity import ShardIdentity
from ribray.results.schema import SCHEMA
from ribray.storage import Location


def shard_name(trial_id: str) -> str:
    return f"{trial_id}.parquet"


def write_shard(results: Location, trial_id: str, rows: list[dict]) -> Location:
    """Write a trial's rows as one shard; a re-run of the same trial replaces it whole."""
    table = pa.Table.from_pylist([_complete(row) for row in rows], schema=SCHEMA)
    table = table.replace_schema_metadata(SCHEMA.metadata | ShardIdentity.of_rows(rows).to_metadata())
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    target = results.child(shard_name(trial_id))
    target.write_bytes(buffer.getvalue())
    return target


def done_trial_ids(results: Location) -> set[str]:
    """Ids of the trials whose shard exists (a shard is written last, so it means done)."""
    return {name[: -len(".parquet")] for name in results.list_files(".parquet")}


def read_results(source: str | Path | Location) -> pa.Table:
    """Every shard of a results folder as one table (the folder is a Parquet dataset)."""
    location = source if isinstance(source, Location) else Location(str(source))
    names = location.list_files(".parquet")
    if not names:
        raise RibrayError(f"no results in {location.uri} (no .parquet shards)")
    from ribray.results.checks import shard_problem

    for name in names:
        problem = shard_problem(location.child(name))
        if problem:
            raise RibrayError(f"{location.child(name).uri}: {problem}; a results folder holds only ribray's "
                              "shards (move this file out of it)")
    tables = [pq.read_table(location.child(n).path, filesystem=location.fs) for n in names]
    return pa.concat_tables([_in_schema(t) for t in tables])


def _in_schema(table: pa.Table) -> pa.Table:
    """A shard in the current schema: columns that older ribray versions did not write are null."""
    if table.schema == SCHEMA:  # the same columns (metadata aside): ours, for pandas' dtypes
        return table.replace_schema_metadata(SCHEMA.metadata)
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in SCHEMA]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def _complete(row: dict) -> dict:
    unknown = set(row) - set(SCHEMA.names)
    if unknown:
        raise ValueError(f"result row has columns outside the schema: {sorted(unknown)}")
    return {name: row.get(name) for name in SCHEMA.names}
