"""Storage: local folders and S3 (a moto server on 127.0.0.1) behave the same; a sweep
stored in S3 writes its shards there and resumes from there."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from ribray.plan import make_plan
from ribray.spec import load_spec
from ribray.storage import Location, StorageError

from conftest import tiny_spec, write_spec
from faults.helpers import Driver, free_port, wait_for


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 with a bucket; yields the environment that reaches it."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    env = {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        fs = pafs.S3FileSystem(endpoint_override=env["AWS_ENDPOINT_URL_S3"], allow_bucket_creation=True)
        wait_for(lambda: _try_create(fs), 60, "the moto S3 server")
        yield env
    finally:
        server.terminate()
        server.wait(10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _try_create(fs) -> bool:
    try:
        fs.create_dir("ribray-test")
        return True
    except OSError:
        return False


@pytest.mark.parametrize("where", ["local", "s3"])
def test_location_round_trip(where, tmp_path, request):
    if where == "s3":
        request.getfixturevalue("s3")
        root = Location("s3://ribray-test/unit")
    else:
        root = Location(str(tmp_path))
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
def test_sweep_in_s3_then_resume_from_s3(s3, fake_data, tmp_path):
    spec_dict = tiny_spec(tmp_path, fake_data, storage="s3://ribray-test/sweeps",
                          mlflow={"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"},
                          methods={"ft": {}, "lp": {}}, resources={"gpu": 0, "cpu": 1})
    path = write_spec(tmp_path / "spec.yaml", spec_dict)
    results = Location("s3://ribray-test/sweeps/t/results")
    first = Driver(["sweep", str(path), "--max-concurrent", "1"], tmp_path / "first.log", env=s3)
    try:
        wait_for(lambda: len(results.list_files(".parquet")) >= 2, 240, "two shards in S3")
    finally:
        first.kill()
    second = Driver(["sweep", str(path), "--resume"], tmp_path / "second.log", env=s3)
    assert second.wait(400) == 0, (tmp_path / "second.log").read_text()[-3000:]
    planned = {t.trial_id for t in make_plan(load_spec(path)).trials}
    names = results.list_files(".parquet")
    assert {n.removesuffix(".parquet") for n in names} == planned
    rows = [pq.read_table(results.child(n).path, filesystem=results.fs).num_rows for n in names]
    assert rows == [3] * len(planned)
    weights = Location("s3://ribray-test/sweeps/t/weights").list_files(".safetensors")
    assert len(weights) == 4  # ft and lp on two downstream sets


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
