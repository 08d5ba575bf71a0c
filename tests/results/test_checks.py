"""A sweep's start-up checks read one footer per shard: what each trial was computed from is
written there; shards of older ribray versions (the same facts only in their rows, or none)
are checked from their rows, or taken as they are."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from ribray.results.checks import identity_changes, verified_done
from ribray.results.identity import IDENTITY_KEY
from ribray.results.schema import SCHEMA
from ribray.results.store import write_shard
from ribray.storage import Location

ROWS = [{"trial_id": "t1", "kind": "finetune", "model": "m", "method": "ft", "downstream": "imagenet_r",
         "eval_set": eval_set, "top1": 50.0, "final": True, "data_fingerprint": f"{n}:aaa{n}",
         "train_fingerprint": "11:aaa11", "plugins": [{"plugin": "my_method", "identity": "code1"}]}
        for n, eval_set in enumerate(["imagenet_val", "imagenet_r", "imagenet_sketch"], start=10)]
NOW = {"imagenet_val": "10:aaa10", "imagenet_r": "11:aaa11", "imagenet_sketch": "12:aaa12"}


def _older_shard(results: Location, trial_id: str, rows: list[dict], drop: tuple[str, ...] = ()) -> None:
    """A shard as ribray wrote it before footers held its identity, or (drop) before rows held fingerprints."""
    table = pa.Table.from_pylist([{c: r.get(c) for c in SCHEMA.names} for r in rows], schema=SCHEMA)
    pq.write_table(table.drop_columns(list(drop)), results.child(f"{trial_id}.parquet").path)


def test_the_footer_says_what_a_shard_was_computed_from_and_changes_are_found_from_it(tmp_path):
    results = Location(str(tmp_path))
    write_shard(results, "t1", ROWS)
    assert IDENTITY_KEY in pq.ParquetFile(tmp_path / "t1.parquet").metadata.metadata

    shards = verified_done(results)
    assert identity_changes(shards, NOW, {"my_method": "code1"}, {"t1"}) == ({}, {})
    data, code = identity_changes(shards, NOW | {"imagenet_sketch": "13:bbb"}, {"my_method": "code2"}, {"t1"})
    assert data == {"t1": "evaluated on imagenet_sketch: 12 files (listing aaa12) then, 13 files (listing bbb) now"}
    assert code == {"t1": "my_method: code code1 then, code2 now"}
    data, code = identity_changes(shards, NOW | {"imagenet_r": "41:sss"}, {}, {"t1"})
    assert data == {"t1": "evaluated on imagenet_r: 11 files (listing aaa11) then, 41 files (listing sss) now"}
    assert code == {"t1": "my_method: code code1 then, not named by the spec now"}


def test_older_shards_are_checked_from_their_rows_or_taken_as_they_are(tmp_path):
    results = Location(str(tmp_path))
    _older_shard(results, "t04", ROWS)
    _older_shard(results, "t02", ROWS, drop=("data_fingerprint", "train_fingerprint", "plugins"))

    shards = verified_done(results)
    assert sorted(shards) == ["t02", "t04"] and shards["t02"] is None
    data, _ = identity_changes(shards, NOW | {"imagenet_r": "99:new"}, {"my_method": "code1"}, {"t02", "t04"})
    assert data == {"t04": "evaluated on imagenet_r: 11 files (listing aaa11) then, 99 files (listing new) now"}


def test_a_broken_shard_is_set_aside_and_said_so_while_the_others_count(tmp_path):
    results = Location(str(tmp_path))
    write_shard(results, "t1", ROWS)
    (tmp_path / "t2.parquet").write_bytes((tmp_path / "t1.parquet").read_bytes()[:200])
    said = []

    assert list(verified_done(results, said.append)) == ["t1"]
    assert len(said) == 1 and "t2.parquet: not a complete Parquet file" in said[0] and "its trial runs again" in said[0]
    assert (tmp_path / ".set-aside" / "t2.parquet").exists() and not (tmp_path / "t2.parquet").exists()


def _counting_scans(monkeypatch) -> list[str]:
    """The shards whose footer the start-up checks read (file names, in order)."""
    from ribray.results import checks

    read, scan = [], checks._scan
    monkeypatch.setattr(checks, "_scan", lambda location, identity=True: read.append(location.name) or scan(location))
    return read


def test_the_shard_index_spares_a_rerun_every_footer_it_has_seen(tmp_path, monkeypatch):
    results, index = Location(str(tmp_path / "results")), Location(str(tmp_path / "shard-index.json"))
    write_shard(results, "t1", ROWS)
    _older_shard(results, "t2", ROWS, drop=("data_fingerprint", "train_fingerprint", "plugins"))
    read = _counting_scans(monkeypatch)

    first = verified_done(results, index=index)
    assert read == ["t1.parquet", "t2.parquet"] and index.exists()
    again = verified_done(results, index=index)
    assert read == ["t1.parquet", "t2.parquet"]  # nothing read the second time
    assert again == first and again["t2"] is None
    data, code = identity_changes(again, NOW | {"imagenet_sketch": "13:bbb"}, {"my_method": "code2"}, {"t1"})
    assert data == {"t1": "evaluated on imagenet_sketch: 12 files (listing aaa12) then, 13 files (listing bbb) now"}
    assert code == {"t1": "my_method: code code1 then, code2 now"}


def test_a_shard_rewritten_since_the_index_saw_it_is_read_again(tmp_path, monkeypatch):
    results, index = Location(str(tmp_path / "results")), Location(str(tmp_path / "shard-index.json"))
    write_shard(results, "t1", ROWS)
    write_shard(results, "t3", ROWS)
    verified_done(results, index=index)
    read = _counting_scans(monkeypatch)

    write_shard(results, "t1", [r | {"data_fingerprint": "99:new"} for r in ROWS])  # computed again, other data
    (tmp_path / "results" / "t3.parquet").write_bytes((tmp_path / "results" / "t1.parquet").read_bytes()[:200])
    write_shard(results, "t4", ROWS)
    said = []
    shards = verified_done(results, said.append, index=index)
    assert read == ["t1.parquet", "t3.parquet", "t4.parquet"]
    assert sorted(shards) == ["t1", "t4"] and "t3.parquet: not a complete Parquet file" in said[0]
    data, _ = identity_changes(shards, NOW, {"my_method": "code1"}, {"t1", "t4"})
    assert data == {"t1": "evaluated on imagenet_val: 99 files (listing new) then, 10 files (listing aaa10) now"}


def test_an_index_that_is_not_ribray_s_costs_one_full_scan_and_is_rewritten(tmp_path, monkeypatch):
    results, index = Location(str(tmp_path / "results")), Location(str(tmp_path / "shard-index.json"))
    write_shard(results, "t1", ROWS)
    info = results.list_file_infos(".parquet")[0][1]
    stamp = json.dumps([info.size, info.mtime_ns])  # as it is now: only the rest of the file is wrong
    for foreign in ("not json", "[]", f'{{"version": 1, "identities": [], "shards": {{"t1.parquet": [{stamp}, 7]}}}}',
                    f'{{"version": 99, "identities": [null], "shards": {{"t1.parquet": [{stamp}, 0]}}}}'):
        (tmp_path / "shard-index.json").write_text(foreign)
        read = _counting_scans(monkeypatch)
        assert list(verified_done(results, index=index)) == ["t1"] and read == ["t1.parquet"]
        monkeypatch.undo()
    read = _counting_scans(monkeypatch)
    assert list(verified_done(results, index=index)) == ["t1"] and read == []


def test_a_shard_listed_without_a_time_is_read_at_every_start(tmp_path, monkeypatch):
    import pyarrow.fs as pafs

    results, index = Location(str(tmp_path / "results")), Location(str(tmp_path / "shard-index.json"))
    write_shard(results, "t1", ROWS)
    verified_done(results, index=index)
    untimed = [(name, pafs.FileInfo(info.path, pafs.FileType.File, size=info.size))
               for name, info in results.list_file_infos(".parquet")]
    monkeypatch.setattr(Location, "list_file_infos", lambda self, suffix="": untimed)
    read = _counting_scans(monkeypatch)
    assert list(verified_done(results, index=index)) == ["t1"] and list(verified_done(results, index=index)) == ["t1"]
    assert read == ["t1.parquet", "t1.parquet"]
