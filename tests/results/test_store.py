"""Reading a results folder: every shard once, in threads, only the columns asked for."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ribray.errors import RibrayError
from ribray.results import SCHEMA, read_results, write_shard
from ribray.storage import Location


def test_columns_are_read_in_the_schema_and_old_shards_get_nulls(tmp_path):
    results = Location(str(tmp_path))
    for index in range(300):  # more than one batch of shards
        write_shard(results, f"t{index:03d}", [{"trial_id": f"t{index:03d}", "seed": index, "top1": 1.0}])
    old = pa.table({"trial_id": ["old"], "kind": ["finetune"], "model": ["m"], "method": ["ft"],
                    "eval_set": ["imagenet_r"], "top1": [2.0], "final": [True]})  # no seed, no decode: ribray 0.1
    pq.write_table(old, tmp_path / "old.parquet")
    table = read_results(str(tmp_path), columns=["trial_id", "seed", "decode", "top1"])
    assert table.schema.names == ["trial_id", "seed", "decode", "top1"]
    assert table.schema.field("seed").type == SCHEMA.field("seed").type
    assert table.num_rows == 301 and table.column("trial_id").to_pylist()[-1] == "t299"
    assert table.column("seed").to_pylist()[:3] == [None, 0, 1]  # names sorted: old < t000
    assert table.column("trial_id").to_pylist()[:2] == ["old", "t000"]
    assert read_results(str(tmp_path)).schema.names == SCHEMA.names  # every column by default


def test_the_first_broken_shard_by_name_is_refused_naming_it(tmp_path):
    results = Location(str(tmp_path))
    for index in range(40):
        write_shard(results, f"t{index:03d}", [{"trial_id": f"t{index:03d}"}])
    whole = (tmp_path / "t010.parquet").read_bytes()
    (tmp_path / "t010.parquet").write_bytes(whole[: len(whole) // 2])
    pq.write_table(pa.table({"city": ["Oslo"]}), tmp_path / "t020.parquet")
    with pytest.raises(RibrayError, match=r"t010\.parquet: not a complete Parquet file .*move this file out of it"):
        read_results(str(tmp_path))
    (tmp_path / "t010.parquet").write_bytes(whole)
    with pytest.raises(RibrayError, match=r"t020\.parquet: not ribray results: no column trial_id"):
        read_results(str(tmp_path), columns=["trial_id"])
