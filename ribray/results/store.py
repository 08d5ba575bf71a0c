"""The results dataset: one atomic Parquet shard per trial, named by its trial id."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from ribray.errors import RibrayError
from ribray.results.identity import ShardIdentity
from ribray.results.layout import SHARD_SUFFIX, shard_in, shard_names, trial_id_of_shard
from ribray.results.schema import SCHEMA
from ribray.storage import Location

if TYPE_CHECKING:
    from ribray.results.row import ResultRow


def write_shard(results: Location, trial_id: str, rows: list[ResultRow]) -> Location:
    """Write a trial's rows as one shard; a re-run of the same trial replaces it whole."""
    table = pa.Table.from_pylist([_complete(row) for row in rows], schema=SCHEMA)
    table = table.replace_schema_metadata(SCHEMA.metadata | ShardIdentity.of_rows(rows).to_metadata())
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    target = shard_in(results, trial_id)
    target.write_bytes(buffer.getvalue())
    return target


def done_trial_ids(results: Location) -> set[str]:
    """Ids of the trials whose shard exists (a shard is written last, so it means done)."""
    return {trial_id_of_shard(name) for name in shard_names(results)}


def read_results(source: str | Path | Location, columns: Sequence[str] | None = None) -> pa.Table:
    """Every shard of a results folder as one table (the folder is a Parquet dataset), in the
    current schema; `columns`: only those (what a reader needs; fewer bytes decoded and held).
    Shards are read by a pool of threads, each opened once; a file that is not a whole ribray
    shard is refused, naming it."""
    location = source if isinstance(source, Location) else Location(str(source))
    names = shard_names(location)
    if not names:
        raise RibrayError(f"no results in {location.uri} (no {SHARD_SUFFIX} shards)")
    schema = SCHEMA if columns is None else pa.schema([SCHEMA.field(c) for c in columns], metadata=SCHEMA.metadata)
    shards = [location.child(name) for name in names]
    with ThreadPoolExecutor(_readers(location)) as pool:
        batches = list(pool.map(lambda batch: _read_batch(batch, schema), _batches(shards, SHARDS_PER_BATCH)))
    return pa.concat_tables(batches)


SHARDS_PER_BATCH = 256  # shards concatenated into one chunk: 50,000 one-row-group tables would be 50,000 chunks


def _readers(location: Location) -> int:
    """Threads reading shards: the CPUs for local files; more for an object store (latency-bound)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(32, cpus if location.is_local else 4 * cpus)


def _batches(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _read_batch(shards: list[Location], schema: pa.Schema) -> pa.Table:
    return pa.concat_tables([_read_shard(shard, schema) for shard in shards]).combine_chunks()


def _read_shard(shard: Location, schema: pa.Schema) -> pa.Table:
    """One shard, opened once: its footer checked (checks.shard_problem's rules and words), then
    only `schema`'s columns read."""
    from ribray.results.checks import footer_problem, shard_problem

    try:
        with shard.fs.open_input_stream(shard.path) as stream:  # a shard is small: one read (one GET)
            parquet = pq.ParquetFile(pa.BufferReader(stream.read_buffer()))
        present = set(parquet.schema_arrow.names)
        whole = footer_problem(parquet.metadata) is None
        # one thread per shard: the pool reads shards side by side, and a shard's columns are tiny
        table = parquet.read([c for c in schema.names if c in present], use_threads=False) if whole else None
    except Exception:  # noqa: BLE001 - pyarrow's errors for truncated or foreign files vary; said below
        table = None
    if table is None:  # broken or foreign: shard_problem says why, in the words the sweep uses too
        problem = shard_problem(shard) or "not a readable Parquet file"
        raise RibrayError(f"{shard.uri}: {problem}; a results folder holds only ribray's "
                          "shards (move this file out of it)")
    return _in_schema(table, schema)


def _in_schema(table: pa.Table, schema: pa.Schema = SCHEMA) -> pa.Table:
    """A shard in the current schema (or its `schema` columns): columns that older ribray
    versions did not write are null."""
    if table.schema == schema:  # the same columns (metadata aside): ours, for pandas' dtypes
        return table.replace_schema_metadata(schema.metadata)
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _complete(row: ResultRow) -> ResultRow:
    unknown = set(row) - set(SCHEMA.names)
    if unknown:
        raise ValueError(f"result row has columns outside the schema: {sorted(unknown)}")
    return {name: row.get(name) for name in SCHEMA.names}
