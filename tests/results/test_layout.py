"""A TARGET is a sweep folder only when it is one: marked, or (folders of older ribray versions)
holding what only a sweep folder holds. Nothing is guessed from a parent."""

from __future__ import annotations

import json
import os
import socket
import tarfile
from pathlib import Path

import pytest

from ribray.errors import RibrayError
from ribray.results import SweepLayout, resolve_target, write_shard
from ribray.results.layout import artifact_root_for, sweep_evidence
from ribray.storage import Location

LEGACY_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_run_ribray_0.1.tar.gz"


def test_a_folder_of_an_older_ribray_is_recognised_by_its_content(tmp_path):
    with tarfile.open(LEGACY_RUN) as archive:
        archive.extractall(tmp_path, filter="data")
    legacy = tmp_path / "legacy"
    assert not (legacy / "ribray-sweep.json").exists()
    for target in (legacy, legacy / "results"):
        found = resolve_target(str(target))
        assert found.layout.root.path == str(legacy) and found.results.path == str(legacy / "results")
        assert found.sweep == "legacy" and found.tracking_uri == f"sqlite:///{legacy / 'mlflow.db'}"


@pytest.mark.parametrize("content", ["tune run", "own shard", "lock"])
def test_each_strict_sign_of_a_sweep_folder_is_enough(content, tmp_path):
    folder = tmp_path / "smoke"
    if content == "tune run":
        (folder / "tune" / "run-20260101-000000").mkdir(parents=True)
        (folder / "tune" / "run-20260101-000000" / "tuner.pkl").write_bytes(b"x")
    elif content == "own shard":
        write_shard(Location(str(folder / "results")), "0123456789ab", [{"trial_id": "0123456789ab", "sweep": "smoke"}])
    else:
        folder.mkdir()
        holder = {"host": socket.gethostname(), "pid": os.getpid(), "started": "now", "token": "t"}
        (folder / "sweep.lock").write_text(json.dumps(holder))
    assert sweep_evidence(Location(str(folder))) is not None
    assert resolve_target(str(folder)).layout.root.path == str(folder)


def _mlflow_and_weights(folder: Path) -> None:
    (folder / "weights").mkdir(parents=True)
    (folder / "mlflow.db").write_bytes(b"SQLite format 3\x00")
    (folder / "report").mkdir()


def _shard_of_another_sweep(folder: Path) -> None:  # e.g. shards copied out of runs/smoke
    write_shard(Location(str(folder / "results")), "0123456789ab", [{"trial_id": "0123456789ab", "sweep": "smoke"}])


def _tune_folder_without_a_tune_run(folder: Path) -> None:
    (folder / "tune" / "run-1").mkdir(parents=True)
    (folder / "tune" / "run-1" / "notes.txt").write_text("not Tune's")


def _foreign_marker(folder: Path) -> None:
    folder.mkdir()
    (folder / "ribray-sweep.json").write_text("[1, 2]")


@pytest.mark.parametrize("make", [_mlflow_and_weights, _shard_of_another_sweep, _tune_folder_without_a_tune_run,
                                  _foreign_marker])
def test_what_any_folder_may_hold_is_no_sign_of_a_sweep(make, tmp_path):
    folder = tmp_path / "paper"
    make(folder)
    with pytest.raises(RibrayError, match=f"{folder} is not a sweep folder: it holds no ribray-sweep.json"):
        resolve_target(str(folder))


def test_a_marked_folder_names_its_sweep_and_experiment_and_is_marked_once(tmp_path):
    layout = SweepLayout(Location(str(tmp_path / "smoke")))
    layout.mark("smoke", "my-experiment", "abc123")
    first = layout.marker.read_bytes()
    layout.mark("smoke", "another", "def456")  # a later sweep of the folder keeps the first marker
    assert layout.marker.read_bytes() == first
    marker = json.loads(first)
    assert {k: marker[k] for k in ("sweep", "experiment", "spec_hash")} == {
        "sweep": "smoke", "experiment": "my-experiment", "spec_hash": "abc123"}
    assert resolve_target(str(tmp_path / "smoke")).experiment == "my-experiment"


def test_mlflow_artifacts_of_a_sqlite_store_stay_beside_it_and_a_server_keeps_its_own(tmp_path):
    layout = SweepLayout(Location(str(tmp_path / "smoke")))
    assert artifact_root_for(layout.default_tracking_uri) == f"{tmp_path}/smoke/mlartifacts"
    named = f"sqlite:///{tmp_path / 'stores' / 'elsewhere.db'}"  # a spec's own store, also of a sweep on S3
    assert artifact_root_for(named) == f"{tmp_path}/stores/mlartifacts"  # not ./mlruns of the shell
    assert artifact_root_for("http://127.0.0.1:5000") is None
